"""The synthetic geriatric cohort (datasets/cohort): determinism, schema and distributions."""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from polars.testing import assert_frame_equal

REPO = Path(__file__).resolve().parents[2]
COHORT = REPO / "datasets" / "cohort"
REFERENTIAL = REPO / "datasets" / "referential"
REFERENCE_DATE = date(2026, 11, 1)
N = 5_000


def _num(value: object) -> float:
    assert isinstance(value, int | float), value
    return float(value)


def _day(value: object) -> date:
    assert isinstance(value, date), value
    return value


def _mean(series: pl.Series) -> float:
    return _num(series.mean())


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, COHORT / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gc = _load("generate_cohort")


@pytest.fixture(scope="module")
def cohort() -> tuple[pl.DataFrame, pl.DataFrame]:
    dispensations, patients = gc.generate(N, seed=0, reference_date=REFERENCE_DATE, months=6)
    return dispensations, patients


@pytest.fixture(scope="module")
def catalogue() -> pl.DataFrame:
    return pl.read_csv(COHORT / "drug_catalogue.csv", infer_schema=False)


def _with_drug(dispensations: pl.DataFrame, catalogue: pl.DataFrame) -> pl.DataFrame:
    """Each row with the catalogue drug its cip13, atc or label names (null for unknown labels)."""
    by_cip = catalogue.select("drug_id", pl.col("cip13").str.split(";")).explode("cip13")
    by_atc = catalogue.filter(pl.col("atc").is_not_null() & (pl.col("atc") != "")).select("drug_id", "atc")
    by_label = catalogue.select("drug_id", "label")
    return (
        dispensations.join(by_cip, on="cip13", how="left")
        .join(by_atc, on="atc", how="left", suffix="_atc")
        .join(by_label, on="label", how="left", suffix="_label")
        .select(
            "patient_id",
            "cip13",
            "atc",
            "label",
            pl.coalesce("drug_id", "drug_id_atc", "drug_id_label").alias("drug_id"),
        )
    )


# ---------------------------------------------------------------------- determinism and schema


def test_same_seed_same_tables_other_seed_other_tables() -> None:
    a_disp, a_pat = gc.generate(1_500, seed=42)
    b_disp, b_pat = gc.generate(1_500, seed=42)
    assert_frame_equal(a_disp, b_disp)
    assert_frame_equal(a_pat, b_pat)
    c_disp, _ = gc.generate(1_500, seed=43)
    assert not a_disp.equals(c_disp)


def test_columns_and_dtypes(cohort: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    dispensations, patients = cohort
    assert dispensations.schema == pl.Schema(
        {
            "patient_id": pl.Int64,
            "birth_date": pl.Date,
            "sex": pl.Utf8,
            "dispensing_date": pl.Date,
            "cip13": pl.Utf8,
            "atc": pl.Utf8,
            "label": pl.Utf8,
            "quantity": pl.Int64,
        }
    )
    assert patients.schema == pl.Schema(
        {"patient_id": pl.Int64, "weight_kg": pl.Float64, "crcl_ml_min": pl.Float64, "conditions": pl.Utf8}
    )


def test_empty_cohort_keeps_the_schema() -> None:
    dispensations, patients = gc.generate(0)
    assert dispensations.height == 0 and patients.height == 0
    assert dispensations.schema["dispensing_date"] == pl.Date
    assert patients.schema["conditions"] == pl.Utf8


# ---------------------------------------------------------------------- dispensations


def test_exactly_one_identifier_per_row(cohort: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    dispensations, _ = cohort
    n_ids = dispensations.select(
        pl.sum_horizontal(pl.col("cip13", "atc", "label").is_not_null().cast(pl.Int32))
    ).to_series()
    assert (n_ids == 1).all()


def test_identifier_shares(cohort: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    dispensations, _ = cohort
    share = {c: _mean(dispensations[c].is_not_null()) for c in ("cip13", "atc", "label")}
    assert 0.75 <= share["cip13"] <= 0.85
    assert 0.07 <= share["atc"] <= 0.13
    assert 0.07 <= share["label"] <= 0.13


def test_unknown_labels_are_a_small_share_of_label_rows(
    cohort: tuple[pl.DataFrame, pl.DataFrame], catalogue: pl.DataFrame
) -> None:
    dispensations, _ = cohort
    labels = dispensations.filter(pl.col("label").is_not_null())["label"]
    unknown = ~labels.is_in(catalogue["label"].implode())
    assert set(labels.filter(unknown).unique().to_list()) <= set(gc.UNKNOWN_LABELS)
    assert 0.002 <= _mean(unknown) <= 0.010  # ~0.5%


def test_every_row_names_a_catalogue_drug_except_unknown_labels(
    cohort: tuple[pl.DataFrame, pl.DataFrame], catalogue: pl.DataFrame
) -> None:
    rows = _with_drug(cohort[0], catalogue)
    unresolved = rows.filter(pl.col("drug_id").is_null())
    assert unresolved["cip13"].is_null().all() and unresolved["atc"].is_null().all()
    assert set(unresolved["label"].to_list()) <= set(gc.UNKNOWN_LABELS)


def test_distinct_drugs_per_patient(
    cohort: tuple[pl.DataFrame, pl.DataFrame], catalogue: pl.DataFrame
) -> None:
    rows = _with_drug(cohort[0], catalogue)
    per_patient = rows.group_by("patient_id").agg(pl.col("drug_id").drop_nulls().n_unique().alias("n"))["n"]
    assert len(per_patient) == N  # every patient has at least one dispensing
    assert 5.5 <= _mean(per_patient) <= 8.5
    assert 0.15 <= _mean(per_patient >= 10) <= 0.40
    assert _num(per_patient.max()) <= 35


def test_ages_sex_and_dates(cohort: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    dispensations, _ = cohort
    people = dispensations.group_by("patient_id").agg(
        pl.col("birth_date").n_unique().alias("n_birth"),
        pl.col("sex").n_unique().alias("n_sex"),
        pl.col("birth_date").first(),
        pl.col("sex").first(),
    )
    assert (people["n_birth"] == 1).all() and (people["n_sex"] == 1).all()  # constant per patient
    ages = [
        REFERENCE_DATE.year - b.year - ((REFERENCE_DATE.month, REFERENCE_DATE.day) < (b.month, b.day))
        for b in people["birth_date"]
    ]
    assert min(ages) >= 65 and max(ages) <= 100
    assert 75 <= sorted(ages)[len(ages) // 2] <= 81  # median ~78
    assert set(people["sex"].unique()) == {"F", "M"}
    assert 0.53 <= _mean(people["sex"] == "F") <= 0.63
    assert _day(dispensations["dispensing_date"].min()) >= date(2026, 5, 1)
    assert _day(dispensations["dispensing_date"].max()) < REFERENCE_DATE
    assert set(dispensations["quantity"].unique()) <= {1, 2, 3}


def test_window_follows_reference_date_and_months() -> None:
    dispensations, _ = gc.generate(300, seed=1, reference_date=date(2025, 3, 31), months=1)
    assert _day(dispensations["dispensing_date"].min()) >= date(2025, 2, 28)
    assert _day(dispensations["dispensing_date"].max()) <= date(2025, 3, 30)


def test_rows_are_sorted_by_patient_and_date(cohort: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    dispensations, _ = cohort
    assert dispensations.select("patient_id", "dispensing_date").equals(
        dispensations.select("patient_id", "dispensing_date").sort("patient_id", "dispensing_date")
    )


# ---------------------------------------------------------------------- patients


def test_patients_table(cohort: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    dispensations, patients = cohort
    assert patients["patient_id"].to_list() == list(range(1, N + 1))
    assert set(dispensations["patient_id"].unique()) == set(range(1, N + 1))
    assert 0.15 <= _mean(patients["weight_kg"].is_null()) <= 0.25
    assert 0.25 <= _mean(patients["crcl_ml_min"].is_null()) <= 0.35
    crcl = patients["crcl_ml_min"].drop_nulls()
    assert _num(crcl.min()) >= 15 and _num(crcl.max()) <= 110
    weight = patients["weight_kg"].drop_nulls()
    assert _num(weight.min()) >= 30 and _num(weight.max()) <= 150
    codes = patients["conditions"].drop_nulls().str.split(";").explode()
    assert codes.str.contains(r"^[A-Z][0-9]{2}(\.[0-9])?$").all()
    assert set(codes.unique()) <= set(gc.CONDITIONS)


def test_clearance_decreases_with_age(cohort: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    dispensations, patients = cohort
    born = dispensations.group_by("patient_id").agg(pl.col("birth_date").first())
    df = patients.join(born, on="patient_id").drop_nulls("crcl_ml_min")
    old = _num(df.filter(pl.col("birth_date") < date(1936, 1, 1))["crcl_ml_min"].median())
    young = _num(df.filter(pl.col("birth_date") > date(1956, 1, 1))["crcl_ml_min"].median())
    assert old < young


def test_conditions_follow_the_drugs(
    cohort: tuple[pl.DataFrame, pl.DataFrame], catalogue: pl.DataFrame
) -> None:
    dispensations, patients = cohort
    rows = _with_drug(dispensations, catalogue)

    def share_with(drugs: list[str], code: str) -> float:
        ids = rows.filter(pl.col("drug_id").is_in(drugs))["patient_id"].unique().implode()
        having = patients.filter(pl.col("patient_id").is_in(ids))["conditions"].fill_null("")
        return _mean(having.str.split(";").list.contains(code))

    assert share_with(["apixaban", "rivaroxaban", "dabigatran", "fluindione", "warfarine"], "I48") > 0.7
    assert share_with(["metformine"], "E11") > 0.9
    assert share_with(["tamsulosine", "alfuzosine"], "N40") > 0.9


def test_men_only_drugs_are_given_to_men(
    cohort: tuple[pl.DataFrame, pl.DataFrame], catalogue: pl.DataFrame
) -> None:
    dispensations, _ = cohort
    men_only = catalogue.filter(pl.col("sex") == "M")["drug_id"]
    rows = _with_drug(dispensations, catalogue).join(
        dispensations.select("patient_id", "sex").unique(), on="patient_id"
    )
    assert (rows.filter(pl.col("drug_id").is_in(men_only.implode()))["sex"] == "M").all()


# ---------------------------------------------------------------------- catalogue


def test_catalogue_codes_come_from_the_referential(catalogue: pl.DataFrame) -> None:
    presentations = pl.read_csv(REFERENTIAL / "presentations.csv", infer_schema=False)
    substances = pl.read_csv(REFERENTIAL / "substances.csv", infer_schema=False)
    known = set(presentations["cip13"])
    cips = [c for group in catalogue["cip13"] for c in group.split(";")]
    assert cips and all(re.fullmatch(r"\d{13}", c) for c in cips)
    assert not set(cips) - known
    subst_atc = dict(substances.select("key", "atc").iter_rows())
    for keys, atc in catalogue.select("substance_keys", "atc").iter_rows():
        if atc:
            assert subst_atc[keys] == atc
    assert catalogue["drug_id"].is_unique().all() and catalogue["label"].is_unique().all()
    assert 100 <= catalogue.height <= 160


def test_dispensed_codes_are_catalogue_codes(
    cohort: tuple[pl.DataFrame, pl.DataFrame], catalogue: pl.DataFrame
) -> None:
    dispensations, _ = cohort
    cips = {c for group in catalogue["cip13"] for c in group.split(";")}
    assert set(dispensations["cip13"].drop_nulls().unique()) <= cips
    assert set(dispensations["atc"].drop_nulls().unique()) <= set(catalogue["atc"].drop_nulls())


def test_catalogue_is_what_the_build_step_writes(catalogue: pl.DataFrame) -> None:
    build = _load("build_catalogue")
    rebuilt = build.build(build.load_referential()).drop("specialty")
    assert_frame_equal(rebuilt.with_columns(pl.all().cast(pl.Utf8)).fill_null(""), catalogue.fill_null(""))
    assert set(build.UNKNOWN_LABELS) == set(gc.UNKNOWN_LABELS)


def test_labels_resolve_with_the_normaliser_and_unknown_labels_do_not(catalogue: pl.DataFrame) -> None:
    build = _load("build_catalogue")
    assert build.check_normaliser(catalogue) == []


# ---------------------------------------------------------------------- CLI


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_cli_writes_both_tables(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert gc.main(["--patients", "200", "--seed", "3", "--out", str(tmp_path), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "dispensations" in out and "patients" in out
    read = pl.read_parquet if fmt == "parquet" else pl.read_csv
    assert read(tmp_path / f"patients.{fmt}").height == 200
    disp, _ = gc.generate(200, seed=3)
    assert read(tmp_path / f"dispensations.{fmt}").height == disp.height
