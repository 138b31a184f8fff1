from __future__ import annotations

import csv
from collections import Counter

from pharma_service.referential.store import Referential
from pharma_service.service import Engine
from tests.conftest import reference_file


def test_every_bdpm_specialty_is_in_the_referential(engine: Engine) -> None:
    path = reference_file("bdpm", "CIS_bdpm.txt")
    with path.open("rb") as handle:
        cis_codes = {line.split(b"\t", 1)[0].decode() for line in handle if line.strip()}
    assert cis_codes == set(engine.kb.referential.specialties)


def test_cip13_maps_to_its_specialty(engine: Engine) -> None:
    path = reference_file("bdpm", "CIS_CIP_bdpm.txt")
    with path.open(encoding="utf-8") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle][:500]
    ref = engine.kb.referential
    for row in rows:
        assert ref.cip13_to_cis[row[6]] == row[0]


def test_substances_have_atc_codes_for_most_specialties(engine: Engine) -> None:
    ref: Referential = engine.kb.referential
    marketed = [s for s in ref.specialties.values() if s.marketed and not s.homeopathic]
    covered = Counter(
        all(ref.substances.get(c.substance_key) and ref.substances[c.substance_key].atc for c in s.components)
        for s in marketed
        if s.components
    )
    share = covered[True] / (covered[True] + covered[False])
    assert share > 0.8, share


def test_referential_tables_have_expected_columns() -> None:
    from pharma_service.referential.store import DEFAULT_DIR

    with (DEFAULT_DIR / "substances.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[:3] == ["key", "name", "atc"]
