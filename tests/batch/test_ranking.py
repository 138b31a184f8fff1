from __future__ import annotations

from datetime import date

import polars as pl
import yaml

from pharma_service.batch.screen import screen
from pharma_service.batch.tables import build_tables
from pharma_service.engine.kb import DEFAULT_RULES_DIR
from pharma_service.service import Engine

REF = date(2026, 11, 1)


def test_patients_are_ranked_with_their_largest_reasons_first(engine: Engine) -> None:
    ref = engine.kb.referential
    simvastatin = next(
        c for c, cis in ref.cip13_to_cis.items() if "SIMVASTATINE" in ref.specialties[cis].name
    )
    rows = pl.DataFrame(
        {
            "patient_id": [1, 1, 1, 2, 2, 3],
            "birth_date": [date(1940, 1, 1)] * 3 + [date(1950, 6, 1)] * 2 + [date(1930, 1, 1)],
            "dispensing_date": [date(2026, 10, 1)] * 6,
            "cip13": [simvastatin, None, None, None, None, None],
            "atc": [None, "J01FA09", None, None, None, None],
            "label": [
                None,
                None,
                "AMITRIPTYLINE 25 mg",
                "HYDROXYZINE 25 mg",
                "ZORGLUB 10 mg",
                "KARDEGIC 75 mg",
            ],
        }
    )
    weights = yaml.safe_load((DEFAULT_RULES_DIR / "batch" / "risk_score.yaml").read_text())["weights"]
    result = screen(
        rows.lazy(),
        kb=engine.kb,
        normaliser=engine.normaliser,
        tables=build_tables(engine.kb),
        reference_date=REF,
        weights=weights,
    )
    ranked = result.patients.select("patient_id", "risk_score", "top_reasons", "unresolved_rows")
    assert ranked["patient_id"].to_list() == [1, 2, 3]
    first = ranked.row(0, named=True)
    # simvastatin + clarithromycin (CI) weighs most, then the inappropriate drugs, then the ACB load.
    assert first["top_reasons"].split(", ")[0] == "interactions_CI"
    assert first["risk_score"] == weights["interactions_CI"] + 3 * weights["pim"] + weights["acb_high"]
    assert ranked.row(2, named=True)["top_reasons"] == ""
    assert ranked.row(1, named=True)["unresolved_rows"] == 1
