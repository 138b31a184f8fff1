"""Seeded synthetic French geriatric dispensing data, for batch screening.

    python datasets/cohort/generate_cohort.py --patients 1000 --seed 0 --out DIR [--format parquet|csv]

writes ``DIR/dispensations.<fmt>`` and ``DIR/patients.<fmt>``. From Python::

    dispensations, patients = generate(1000, seed=0)

The drugs come from ``drug_catalogue.csv`` (real CIP13 and ATC codes of the project's
referential, picked once by ``build_catalogue.py``); the generator never reads the
referential. Everything is drawn with one ``numpy.random.default_rng(seed)``, in
fixed-size chunks of patients, so that the same arguments always give the same
tables. The distributions and their numbers are described in README.md; they are an
engineer's judgment, not measured prescribing statistics.
"""

from __future__ import annotations

import argparse
import calendar
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl

CATALOGUE_PATH = Path(__file__).resolve().with_name("drug_catalogue.csv")

# Labels of drugs that exist nowhere: the screening must count these rows as unresolved.
# build_catalogue.py imports this list and checks that none names a real substance or brand.
UNKNOWN_LABELS = (
    "XYZPRO 10 mg",
    "ZORBALINE 20 mg",
    "QUIXADONE 5 mg",
    "VELTRAMYX 50 mg",
    "PLONEXIA 100 mg",
    "DRAVUZOL 40 mg",
)

CHUNK = 100_000  # patients per chunk; part of the seeded sequence, do not change lightly
_EPOCH = date(1970, 1, 1)
_DAYS_PER_YEAR = 365.2425

# --- patients
SHARE_WOMEN = 0.58
AGE_MIN, AGE_MAX = 65, 100
AGE_GAMMA = (2.5, 6.3)  # years above 65: shape, scale (median age ~78)
# --- chronic drugs per patient: 1 + negative binomial, mean rising with age, resampled above the cap
CHRONIC_MEAN_AT_78 = 6.8
CHRONIC_AGE_SLOPE = 0.015  # log-mean per year of age
CHRONIC_DISPERSION = 4.0
CHRONIC_MAX = 22
# Two drugs of one class (two PPIs, two statins...) are mostly avoided; this share of the
# would-be duplicates is kept, which leaves ~2% of patients with one.
KEEP_DUPLICATE = 0.025
NEW_TREATMENT = 0.15  # chronic drug started during the window, not at its start
MISSED_REFILL = 0.03  # a monthly dispensing that does not happen
SAME_DAY = 0.7  # chronic drug dispensed on the patient's usual day (else its own day)
JITTER_DAYS = 3
CHRONIC_QUANTITY = (0.75, 0.18, 0.07)  # boxes 1, 2, 3 (fixed per patient and drug)
# --- acute courses (antibiotics, NSAIDs, weak opioids...): Poisson per month of window
ACUTE_PER_MONTH = 0.12
ACUTE_QUANTITY = (0.85, 0.12, 0.03)
# --- how a drug is identified (per patient and drug, so the monthly rows agree)
SHARE_ATC = 0.10
SHARE_LABEL = 0.10
UNKNOWN_AMONG_LABELS = 0.005
# --- clinical data
WEIGHT_KNOWN = 0.80
CRCL_KNOWN = 0.70

CONDITIONS = (
    "I10", "I48", "I50", "I25", "E11", "E78", "E03", "N18", "F03", "G30",
    "G20", "F32", "K21", "K25", "J44", "M81", "M10", "M06", "N40", "G47", "R29.6",
)  # fmt: skip
_COND = {code: i for i, code in enumerate(CONDITIONS)}

# P(condition | the patient takes a drug of this class or id) - classes and ids of the catalogue.
DRUG_CONDITIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "anticoag": (("I48", 0.8),),
    "antiarrhythmic": (("I48", 0.7), ("I50", 0.2)),
    "digoxin": (("I48", 0.7), ("I50", 0.3)),
    "loop": (("I50", 0.5),),
    "mra": (("I50", 0.4),),
    "ivabradine": (("I50", 0.5), ("I25", 0.5)),
    "acei": (("I10", 0.8), ("I50", 0.1)),
    "arb": (("I10", 0.85),),
    "ccb_dhp": (("I10", 0.85),),
    "ccb_nondhp": (("I10", 0.5), ("I48", 0.2)),
    "thiazide": (("I10", 0.9),),
    "bb": (("I10", 0.4), ("I25", 0.2), ("I50", 0.1), ("I48", 0.1)),
    "statin": (("E78", 0.6), ("I25", 0.15)),
    "ezetimibe": (("E78", 0.8),),
    "aspirin": (("I25", 0.3),),
    "p2y12": (("I25", 0.5),),
    "nitrate": (("I25", 0.8),),
    "nicorandil": (("I25", 0.8),),
    "trimetazidine": (("I25", 0.6),),
    "biguanide": (("E11", 0.97),),
    "secretagogue": (("E11", 0.97),),
    "dpp4": (("E11", 0.97),),
    "sglt2": (("E11", 0.8), ("I50", 0.2), ("N18", 0.1)),
    "thyroid": (("E03", 0.9),),
    "urate": (("M10", 0.8),),
    "colchicine": (("M10", 0.7),),
    "bisphosphonate": (("M81", 0.9),),
    "calcium_vitd": (("M81", 0.4),),
    "cholecalciferol": (("M81", 0.1),),
    "ppi": (("K21", 0.3), ("K25", 0.04)),
    "antidepressant": (("F32", 0.6),),
    "mirtazapine": (("F32", 0.6),),
    "tricyclic": (("F32", 0.3),),
    "antipsychotic": (("F03", 0.3),),
    "levodopa": (("G20", 0.95),),
    "dopamine_agonist": (("G20", 0.6),),
    "alpha_blocker": (("N40", 0.95),),
    "5ari": (("N40", 0.95),),
    "methotrexate": (("M06", 0.8),),
    "hcq": (("M06", 0.6),),
    "corticoid": (("M06", 0.25), ("J44", 0.2)),
    "z_hypnotic": (("G47", 0.3),),
}
# Anti-dementia drugs: Alzheimer's disease (G30) or another dementia (F03), one of the two.
DEMENTIA_DRUGS = frozenset({"cholinesterase_inhibitor", "memantine"})
SHARE_G30 = 0.6

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Catalogue:
    drug_id: tuple[str, ...]
    label: tuple[str, ...]
    atc: tuple[str | None, ...]
    chronic: BoolArray
    weight: FloatArray
    sex: tuple[str, ...]
    classes: tuple[tuple[str, ...], ...]
    cip13: tuple[str, ...]  # all CIP13s, drug after drug
    cip_start: IntArray  # first index in cip13 of each drug
    cip_count: IntArray

    @property
    def size(self) -> int:
        return len(self.drug_id)


def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    df = pl.read_csv(path, infer_schema=False).with_columns(pl.all().fill_null(""))
    cips = [c.split(";") for c in df["cip13"]]
    counts = np.array([len(c) for c in cips], dtype=np.int64)
    return Catalogue(
        drug_id=tuple(df["drug_id"]),
        label=tuple(df["label"]),
        atc=tuple(a or None for a in df["atc"]),
        chronic=(df["chronic"] == "1").to_numpy(),
        weight=df["weight"].cast(pl.Float64).to_numpy(),
        sex=tuple(df["sex"]),
        classes=tuple(tuple(c for c in cls.split(";") if c) for cls in df["classes"]),
        cip13=tuple(c for group in cips for c in group),
        cip_start=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
        cip_count=counts,
    )


def _months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day when it has no such day)."""
    year, month = divmod(day.year * 12 + (day.month - 1) - months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def window(reference_date: date, months: int) -> tuple[date, date]:
    """First and last dispensing day: the `months` months before the reference date (excluded)."""
    start = _months_before(reference_date, months)
    return start, date.fromordinal(reference_date.toordinal() - 1)


def _epoch_days(day: date) -> int:
    return (day - _EPOCH).days


def _choice(rng: np.random.Generator, n: int, probabilities: tuple[float, ...]) -> IntArray:
    """n draws of 1..len(probabilities) with these probabilities."""
    cum = np.cumsum(probabilities)
    return np.searchsorted(cum / cum[-1], rng.random(n), side="right").astype(np.int64) + 1


def _class_bits(cat: Catalogue) -> npt.NDArray[np.uint64]:
    """One bit per class shared by at least two drugs: two drugs sharing a bit are duplicates."""
    members: dict[str, int] = {}
    for classes in cat.classes:
        for c in classes:
            members[c] = members.get(c, 0) + 1
    shared = sorted(c for c, n in members.items() if n > 1)
    if len(shared) > 64:
        raise ValueError("more than 64 drug classes with several members")
    bit = {c: np.uint64(1) << np.uint64(i) for i, c in enumerate(shared)}
    out = np.zeros(cat.size, dtype=np.uint64)
    for d, classes in enumerate(cat.classes):
        for c in classes:
            if c in bit:
                out[d] |= bit[c]
    return out


@dataclass
class _Chunk:
    """One chunk of patients: per-patient arrays and per-row arrays (local patient index)."""

    sex_female: BoolArray
    age_days: IntArray
    weight: FloatArray
    crcl: FloatArray
    conditions: BoolArray  # patients x CONDITIONS
    row_patient: IntArray
    row_day: IntArray
    row_cip: IntArray  # index in Catalogue.cip13, -1 when the row has no CIP13
    row_atc: IntArray  # drug index, -1 when no ATC
    row_label: IntArray  # index in labels (catalogue labels then UNKNOWN_LABELS), -1 when none
    row_quantity: IntArray


class _Generator:
    def __init__(self, cat: Catalogue, rng: np.random.Generator, months: int, window_days: int) -> None:
        self.cat = cat
        self.rng = rng
        self.months = months
        self.window_days = window_days
        self.chronic_ids = np.flatnonzero(cat.chronic).astype(np.int64)
        self.acute_ids = np.flatnonzero(~cat.chronic).astype(np.int64)
        self.bits = _class_bits(cat)[self.chronic_ids]
        w = cat.weight[self.chronic_ids]
        only = np.array([cat.sex[d] for d in self.chronic_ids])
        self.weight_by_sex = np.stack([np.where(only == "F", 0.0, w), np.where(only == "M", 0.0, w)])  # M, F
        acute_w = cat.weight[self.acute_ids]
        self.acute_p = acute_w / acute_w.sum()
        self.has_atc = np.array([a is not None for a in cat.atc])
        self._condition_links()
        self.dementia = np.array([bool(DEMENTIA_DRUGS & set(c)) for c in cat.classes])

    def _condition_links(self) -> None:
        """Sparse drug -> (condition, probability) links, as flat arrays indexed by drug."""
        links: list[list[tuple[int, float]]] = []
        for drug_id, classes in zip(self.cat.drug_id, self.cat.classes, strict=True):
            best: dict[int, float] = {}
            for key in (drug_id, *classes):
                for code, p in DRUG_CONDITIONS.get(key, ()):
                    best[_COND[code]] = max(best.get(_COND[code], 0.0), p)
            links.append(sorted(best.items()))
        counts = np.array([len(x) for x in links], dtype=np.int64)
        self.link_start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.link_count = counts
        self.link_cond = np.array([c for x in links for c, _ in x], dtype=np.int64)
        self.link_prob = np.array([p for x in links for _, p in x], dtype=np.float64)

    # ------------------------------------------------------------------ patients

    def patients(self, n: int) -> tuple[BoolArray, FloatArray, IntArray]:
        rng = self.rng
        female = rng.random(n) < SHARE_WOMEN
        years = rng.gamma(AGE_GAMMA[0], AGE_GAMMA[1], n)
        too_old = years >= AGE_MAX - AGE_MIN + 1
        while too_old.any():
            years[too_old] = rng.gamma(AGE_GAMMA[0], AGE_GAMMA[1], int(too_old.sum()))
            too_old = years >= AGE_MAX - AGE_MIN + 1
        age = AGE_MIN + years
        # Days lived at the reference date, kept one day inside [65, 101) completed years.
        lo = int(np.ceil(AGE_MIN * _DAYS_PER_YEAR)) + 1
        hi = int(np.floor((AGE_MAX + 1) * _DAYS_PER_YEAR)) - 2
        age_days = np.clip(np.floor(age * _DAYS_PER_YEAR), lo, hi).astype(np.int64)
        return female, age, age_days

    def chronic_counts(self, age: FloatArray) -> IntArray:
        rng = self.rng
        mean_extra = CHRONIC_MEAN_AT_78 * np.exp(CHRONIC_AGE_SLOPE * (age - 78.0)) - 1.0
        p = CHRONIC_DISPERSION / (CHRONIC_DISPERSION + mean_extra)
        k = 1 + rng.negative_binomial(CHRONIC_DISPERSION, p)
        for _ in range(5):
            over = k > CHRONIC_MAX
            if not over.any():
                break
            k[over] = 1 + rng.negative_binomial(CHRONIC_DISPERSION, p[over])
        return np.minimum(k, CHRONIC_MAX).astype(np.int64)

    def draw_chronic(self, female: BoolArray, k: IntArray) -> tuple[IntArray, IntArray]:
        """(patient, drug) pairs: k drugs per patient by weight, without replacement (Efraimidis-Spirakis)."""
        rng = self.rng
        n, d = len(k), len(self.chronic_ids)
        weights = self.weight_by_sex[female.astype(np.int64)]
        with np.errstate(divide="ignore"):
            keys = rng.standard_exponential((n, d), dtype=np.float32) / weights.astype(np.float32)
        width = min(d, CHRONIC_MAX + 16)
        top = np.argpartition(keys, width - 1, axis=1)[:, :width]
        order = np.take_along_axis(top, np.argsort(np.take_along_axis(keys, top, axis=1), axis=1), axis=1)
        finite = np.isfinite(np.take_along_axis(keys, order, axis=1))
        bits = self.bits[order]
        keep_dup = rng.random((n, width)) < KEEP_DUPLICATE
        taken = np.zeros(n, dtype=np.uint64)
        count = np.zeros(n, dtype=np.int64)
        chosen = np.zeros((n, width), dtype=bool)
        for j in range(width):
            ok = finite[:, j] & (count < k) & (((bits[:, j] & taken) == 0) | keep_dup[:, j])
            chosen[:, j] = ok
            taken |= np.where(ok, bits[:, j], np.uint64(0))
            count += ok
        patient, col = np.nonzero(chosen)
        return patient.astype(np.int64), self.chronic_ids[order[patient, col]]

    def identifiers(self, drug: IntArray, rows_per_unit: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """For each unit (a patient's drug, or one acute row): its cip13, atc and label index (-1: none)."""
        rng = self.rng
        n = len(drug)
        has_atc = self.has_atc[drug]
        rows_with_atc = float((rows_per_unit * has_atc).sum())
        # drugs without an ATC code (combinations, ambiguous codes) never get one: the others
        # take their share so that ~SHARE_ATC of the rows carry an ATC code
        p_atc = SHARE_ATC * float(rows_per_unit.sum()) / rows_with_atc if rows_with_atc else 0.0
        p_atc = min(p_atc, 1.0 - SHARE_LABEL)
        u = rng.random(n)
        is_label = u < SHARE_LABEL
        is_atc = ~is_label & has_atc & (u < SHARE_LABEL + p_atc)
        is_cip = ~is_label & ~is_atc
        unknown = is_label & (rng.random(n) < UNKNOWN_AMONG_LABELS)
        unknown_pick = rng.integers(0, len(UNKNOWN_LABELS), n)
        cip_pick = self.cat.cip_start[drug] + (rng.random(n) * self.cat.cip_count[drug]).astype(np.int64)
        cip = np.where(is_cip, cip_pick, -1)
        atc = np.where(is_atc, drug, -1)
        label = np.where(is_label, np.where(unknown, self.cat.size + unknown_pick, drug), -1)
        return cip, atc, label

    def conditions(
        self,
        pair_patient: IntArray,
        pair_drug: IntArray,
        female: BoolArray,
        age: FloatArray,
        crcl: FloatArray,
    ) -> BoolArray:
        rng = self.rng
        n = len(female)
        cond = np.zeros((n, len(CONDITIONS)), dtype=bool)
        n_links = self.link_count[pair_drug]
        pair = np.repeat(np.arange(len(pair_drug), dtype=np.int64), n_links)
        first = np.concatenate([[0], np.cumsum(n_links)[:-1]]).astype(np.int64)
        link = self.link_start[pair_drug[pair]] + np.arange(len(pair), dtype=np.int64) - first[pair]
        hit = rng.random(len(pair)) < self.link_prob[link]
        cond[pair_patient[pair[hit]], self.link_cond[link[hit]]] = True
        dem = self.dementia[pair_drug]
        g30 = rng.random(len(pair_drug)) < SHARE_G30
        cond[pair_patient[dem & g30], _COND["G30"]] = True
        cond[pair_patient[dem & ~g30], _COND["F03"]] = True
        old = age - AGE_MIN
        background = {
            "I10": np.full(n, 0.08),
            "E11": np.full(n, 0.02),
            "I48": np.full(n, 0.01),
            "I50": np.full(n, 0.01),
            "I25": np.full(n, 0.02),
            "E78": np.full(n, 0.03),
            "F03": 0.01 + 0.003 * old,
            "G30": 0.005 + 0.002 * old,
            "J44": np.where(female, 0.04, 0.08),
            "M81": np.where(female, 0.10, 0.02),
            "K25": np.full(n, 0.01),
            "F32": np.full(n, 0.03),
            "N40": np.where(female, 0.0, 0.05),
            "R29.6": 0.03 + 0.004 * old,
            "N18": np.select([crcl < 30, crcl < 45, crcl < 60], [0.85, 0.6, 0.35], 0.02),
        }
        draws = rng.random((n, len(background)))
        for j, (code, p) in enumerate(background.items()):
            cond[:, _COND[code]] |= draws[:, j] < p
        return cond

    # ------------------------------------------------------------------ one chunk

    def chunk(self, n: int) -> _Chunk:
        rng = self.rng
        months, wdays = self.months, self.window_days
        female, age, age_days = self.patients(n)

        # clinical data: latent weight and Cockcroft-Gault clearance, then partly unknown
        weight = np.where(female, rng.normal(66.0, 12.0, n), rng.normal(78.0, 13.0, n))
        weight = np.clip(weight - 0.25 * np.maximum(age - 75.0, 0.0), 38.0, 140.0)
        creat = np.where(female, 75.0, 92.0) * np.exp(0.008 * (age - AGE_MIN) + rng.normal(0.0, 0.25, n))
        crcl = np.clip((140.0 - age) * weight * np.where(female, 1.04, 1.23) / creat, 15.0, 110.0)

        # chronic drugs: one unit per (patient, drug), dispensed monthly
        k = self.chronic_counts(age)
        pat, drug = self.draw_chronic(female, k)
        n_units = len(drug)
        start = np.where(rng.random(n_units) < NEW_TREATMENT, rng.integers(0, months, n_units), 0)
        span = months - start
        cip, atc, label = self.identifiers(drug, span)
        quantity = _choice(rng, n_units, CHRONIC_QUANTITY)
        period = wdays / months
        patient_day = rng.integers(0, max(int(period), 1), n)
        own_day = rng.integers(0, max(int(period), 1), n_units)
        unit_day = np.where(rng.random(n_units) < SAME_DAY, patient_day[pat], own_day)

        unit = np.repeat(np.arange(n_units, dtype=np.int64), span)
        first = np.concatenate([[0], np.cumsum(span)[:-1]]).astype(np.int64)
        month = start[unit] + np.arange(len(unit), dtype=np.int64) - first[unit]
        jitter = rng.integers(-JITTER_DAYS, JITTER_DAYS + 1, len(unit))
        day = np.clip(np.floor(month * period).astype(np.int64) + unit_day[unit] + jitter, 0, wdays - 1)
        kept = (month == start[unit]) | (rng.random(len(unit)) >= MISSED_REFILL)
        unit, day = unit[kept], day[kept]

        # acute courses: one row each
        n_acute = rng.poisson(ACUTE_PER_MONTH * months, n)
        a_pat = np.repeat(np.arange(n, dtype=np.int64), n_acute)
        a_drug = self.acute_ids[rng.choice(len(self.acute_ids), size=len(a_pat), p=self.acute_p)]
        a_day = rng.integers(0, wdays, len(a_pat))
        a_cip, a_atc, a_label = self.identifiers(a_drug, np.ones(len(a_pat), dtype=np.int64))
        a_quantity = _choice(rng, len(a_pat), ACUTE_QUANTITY)

        conditions = self.conditions(
            np.concatenate([pat, a_pat]), np.concatenate([drug, a_drug]), female, age, crcl
        )
        weight_known = rng.random(n) < WEIGHT_KNOWN
        crcl_known = rng.random(n) < CRCL_KNOWN

        row_patient = np.concatenate([pat[unit], a_pat])
        row_day = np.concatenate([day, a_day])
        order = np.argsort(row_patient * wdays + row_day, kind="stable")
        return _Chunk(
            sex_female=female,
            age_days=age_days,
            weight=np.where(weight_known, np.round(weight, 1), np.nan),
            crcl=np.where(crcl_known, np.round(crcl, 1), np.nan),
            conditions=conditions,
            row_patient=row_patient[order],
            row_day=row_day[order],
            row_cip=np.concatenate([cip[unit], a_cip])[order],
            row_atc=np.concatenate([atc[unit], a_atc])[order],
            row_label=np.concatenate([label[unit], a_label])[order],
            row_quantity=np.concatenate([quantity[unit], a_quantity])[order],
        )


def _strings(index: IntArray, values: tuple[str, ...]) -> pl.Series:
    """values[index] as Utf8, null where index < 0."""
    idx = pl.Series("i", index, dtype=pl.Int64)
    idx = pl.select(pl.when(idx >= 0).then(idx)).to_series()
    return pl.Series("v", values, dtype=pl.Utf8).gather(idx)


def _frames(
    chunk: _Chunk, first_id: int, cat: Catalogue, reference_date: date, window_start: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The chunk's dispensations and patients tables."""
    birth = _epoch_days(reference_date) - chunk.age_days
    rows = chunk.row_patient
    dispensations = pl.DataFrame(
        [
            pl.Series("patient_id", rows + first_id, dtype=pl.Int64),
            pl.Series("birth_date", birth[rows], dtype=pl.Int32).cast(pl.Date),
            pl.Series(["M", "F"], dtype=pl.Utf8)
            .gather(chunk.sex_female[rows].astype(np.uint32))
            .alias("sex"),
            pl.Series("dispensing_date", chunk.row_day + _epoch_days(window_start), dtype=pl.Int32).cast(
                pl.Date
            ),
            _strings(chunk.row_cip, cat.cip13).alias("cip13"),
            _strings(chunk.row_atc, tuple(a or "" for a in cat.atc)).alias("atc"),
            _strings(chunk.row_label, (*cat.label, *UNKNOWN_LABELS)).alias("label"),
            pl.Series("quantity", chunk.row_quantity, dtype=pl.Int64),
        ]
    )
    cond = pl.DataFrame({code: chunk.conditions[:, i] for i, code in enumerate(CONDITIONS)})
    joined = pl.concat_str(
        [pl.when(pl.col(code)).then(pl.lit(code)) for code in CONDITIONS], separator=";", ignore_nulls=True
    )
    patients = pl.DataFrame(
        [
            pl.Series(
                "patient_id", np.arange(len(chunk.sex_female), dtype=np.int64) + first_id, dtype=pl.Int64
            ),
            pl.Series("weight_kg", chunk.weight, dtype=pl.Float64, nan_to_null=True),
            pl.Series("crcl_ml_min", chunk.crcl, dtype=pl.Float64, nan_to_null=True),
            cond.select(pl.when(joined != "").then(joined).alias("conditions")).to_series(),
        ]
    )
    return dispensations, patients


SCHEMA_DISPENSATIONS = {
    "patient_id": pl.Int64,
    "birth_date": pl.Date,
    "sex": pl.Utf8,
    "dispensing_date": pl.Date,
    "cip13": pl.Utf8,
    "atc": pl.Utf8,
    "label": pl.Utf8,
    "quantity": pl.Int64,
}
SCHEMA_PATIENTS = {
    "patient_id": pl.Int64,
    "weight_kg": pl.Float64,
    "crcl_ml_min": pl.Float64,
    "conditions": pl.Utf8,
}


def generate(
    n_patients: int,
    *,
    seed: int = 0,
    reference_date: date = date(2026, 11, 1),
    months: int = 6,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return (dispensations, patients) for `n_patients` patients; same arguments, same tables.

    Patients are numbered 1..n_patients; dispensations are sorted by patient and date.
    """
    if n_patients < 0:
        raise ValueError("n_patients must be >= 0")
    if months < 1:
        raise ValueError("months must be >= 1")
    cat = load_catalogue()
    start, last = window(reference_date, months)
    gen = _Generator(cat, np.random.default_rng(seed), months, (last - start).days + 1)
    dispensations = [pl.DataFrame(schema=SCHEMA_DISPENSATIONS)]
    patients = [pl.DataFrame(schema=SCHEMA_PATIENTS)]
    for first in range(0, n_patients, CHUNK):
        d, p = _frames(gen.chunk(min(CHUNK, n_patients - first)), first + 1, cat, reference_date, start)
        dispensations.append(d)
        patients.append(p)
    return pl.concat(dispensations, rechunk=False), pl.concat(patients, rechunk=False)


def write(dispensations: pl.DataFrame, patients: pl.DataFrame, out: Path, fmt: str = "parquet") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in (("dispensations", dispensations), ("patients", patients)):
        path = out / f"{name}.{fmt}"
        if fmt == "parquet":
            df.write_parquet(path)
        elif fmt == "csv":
            df.write_csv(path)
        else:
            raise ValueError(f"unknown format {fmt!r}")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Seeded synthetic French geriatric dispensing data.")
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--reference-date", type=date.fromisoformat, default=date(2026, 11, 1))
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    dispensations, patients = generate(
        args.patients, seed=args.seed, reference_date=args.reference_date, months=args.months
    )
    t1 = time.perf_counter()
    paths = write(dispensations, patients, args.out, args.format)
    t2 = time.perf_counter()
    print(f"patients:      {patients.height:>12,} rows -> {paths[1]}")
    print(f"dispensations: {dispensations.height:>12,} rows -> {paths[0]}")
    print(f"generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
