"""Batch screening of a dispensing table: who to include first, and why.

A vectorised job over the same knowledge base as the per-patient engine, written
with polars (never a Python loop over patients or rows):
1. read only the columns used, keep the window before the reference date, and code
   each row's drug identifier (CIP13, CIS, ATC code or label) as an integer while
   reading; each distinct identifier is then resolved once, on a table of a few
   hundred rows, to substances (labels through the same normaliser as prescriptions).
   Rows that cannot be resolved are counted per patient and in total, never dropped;
2. number patients densely in input order (the rows are sorted by patient first when
   they are not already), so that every per-patient value is an array indexed by that
   number; reduce the rows to distinct (patient, product) and then (patient,
   substance) by sorting one packed integer key;
3. evaluate interactions (pair levels and statuses as the engine reports them
   without doses or diagnoses), drug-only inappropriate-drug criteria, renal criteria
   where the clearance is known, omissions whose trigger and missing treatment are
   drugs, anticholinergic totals and QT-prolonging drug counts. Pairs come from each
   patient's run of substances by index arithmetic (no self-join), their level from
   a dense table indexed by a pair key;
4. rank patients by a documented risk score (weights in rules/batch/risk_score.yaml).

Everything between reading and the output tables is integers: strings come back
only in the output. Steps 2-4 are local to each patient: ranges of patients run
in parallel threads (``parts``), and ranges of patient ids can be read and screened
one after the other (``batches``) when the table does not fit in memory.
``progress`` receives each stage with its time.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from pharma_service.batch.tables import KnowledgeTables
from pharma_service.engine.kb import KnowledgeBase
from pharma_service.errors import InvalidInput
from pharma_service.referential.normaliser import Normaliser

IDENTIFIERS = ("cip13", "cis", "atc", "label")
REQUIRED = ("patient_id", "dispensing_date")
CATEGORIES = ("interaction", "omission", "pim", "renal")  # sorted: their codes sort as the strings do
STATUSES = ("confirmed", "to_verify")
LEVELS = ("APEC", "ASDEC", "CI", "PE")  # sorted likewise
_U32 = 1 << 32
_U64 = 1 << 64


@dataclass
class ScreeningResult:
    patients: pl.DataFrame
    findings: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def check_columns(columns: list[str], *, patients_columns: list[str] | None = None) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if not any(c in columns for c in IDENTIFIERS):
        missing.append("one of " + "/".join(IDENTIFIERS))
    if "birth_date" not in columns and "age" not in columns:
        missing.append("birth_date or age")
    if missing:
        raise InvalidInput(
            f"dispensing table: missing column(s) {', '.join(missing)}; expected patient_id, "
            f"dispensing_date, birth_date or age, sex (optional), and a drug identifier "
            f"({', '.join(IDENTIFIERS)}); got {', '.join(columns) or 'no column'}"
        )
    if patients_columns is not None and "patient_id" not in patients_columns:
        raise InvalidInput(
            "patient table: missing column patient_id; expected patient_id and optional "
            f"weight_kg, crcl_ml_min, conditions; got {', '.join(patients_columns)}"
        )


class _Clock:
    """Each stage with its wall and CPU time (CPU above wall: several cores at work), to ``progress``."""

    def __init__(self, progress: Callable[[str], None] | None) -> None:
        self.progress = progress
        self.last = (time.perf_counter(), time.process_time())

    def __call__(self, stage: str) -> None:
        now = (time.perf_counter(), time.process_time())
        wall, cpu = now[0] - self.last[0], now[1] - self.last[1]
        self.last = now
        if self.progress is not None:
            self.progress(f"{stage}: {wall:.2f} s (cpu {cpu:.2f} s)")


def screen(
    dispensations: pl.LazyFrame,
    *,
    kb: KnowledgeBase,
    normaliser: Normaliser,
    tables: KnowledgeTables,
    patients: pl.LazyFrame | None = None,
    reference_date: date,
    window_months: int = 3,
    weights: dict[str, float],
    progress: Callable[[str], None] | None = None,
    parts: int | None = None,
    batches: int = 1,
) -> ScreeningResult:
    """Screen every patient of the dispensing table.

    After the rows are read and the distinct identifiers resolved, the work is
    local to each patient: the patients are cut into ``parts`` contiguous ranges
    (default: one per polars thread) screened concurrently, and the parts' tables
    are concatenated in patient order.

    ``batches`` > 1 bounds memory for tables larger than it: the patients are
    divided into ranges of ids, and each batch streams the input once keeping only
    its own rows (a Parquet file sorted by patient is read only where the range
    is); the batches' tables, in id order, are put end to end.
    """
    columns = dispensations.collect_schema().names()
    check_columns(
        columns, patients_columns=patients.collect_schema().names() if patients is not None else None
    )
    if batches < 1:
        raise InvalidInput(f"batches must be at least 1, got {batches}")
    clock = _Clock(progress)
    start = reference_date - timedelta(days=round(window_months * 30.44))
    codes = _FindingCodes.build(tables)
    id_type = dispensations.collect_schema()["patient_id"]
    done: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    for batch, mine in enumerate(_batches(dispensations, batches)):
        source = dispensations if mine is None else dispensations.filter(mine)
        step = _Step(clock, "" if batches == 1 else f"batch {batch + 1}/{batches}: ")
        done.append(
            _screen_batch(
                source,
                columns,
                _patient_extra(patients, id_type, mine),
                kb,
                normaliser,
                tables,
                codes,
                reference_date,
                start,
                weights,
                parts,
                step,
            )
        )
    # Batches are ranges of patient ids in order: their tables put end to end are in patient order.
    table = pl.concat([t for t, _ in done])
    findings = pl.concat([f for _, f in done])
    if table["patient_id"].null_count() == 0:
        # Patients are in patient_id order already: a stable sort on the score keeps it for ties.
        table = table.sort("risk_score", descending=True, maintain_order=True)
    else:
        table = table.sort(["risk_score", "patient_id"], descending=[True, False])
    clock("rank patients")
    summary = {
        "reference_date": reference_date.isoformat(),
        "window_start": start.isoformat(),
        "rows_in_window": int(table["rows"].sum()),
        "rows_unresolved": int(table["unresolved_rows"].sum()),
        "patients": table.height,
        "eligible_iatroprev": int(table["eligible_iatroprev"].sum()),
    }
    return ScreeningResult(table, findings, summary)


def _batches(dispensations: pl.LazyFrame, batches: int) -> list[pl.Expr | None]:
    """Filters selecting ``batches`` ranges of patient ids of similar numbers of patients.

    The cut points come from the sorted distinct ids (one column read); rows without
    an id go with the last range, as they sort last.
    """
    if batches == 1:
        return [None]
    ids = dispensations.select(pl.col("patient_id").drop_nulls().unique().sort()).collect().to_series()
    cuts = [ids[len(ids) * b // batches] for b in range(1, batches)] if len(ids) else []
    cuts = [c for i, c in enumerate(cuts) if i == 0 or c != cuts[i - 1]]
    patient = pl.col("patient_id")
    filters: list[pl.Expr | None] = []
    for low, high in zip([None, *cuts], [*cuts, None], strict=True):
        if low is None and high is None:
            filters.append(None)
        elif low is None:
            filters.append(patient < high)
        elif high is None:
            filters.append((patient >= low) | patient.is_null())
        else:
            filters.append((patient >= low) & (patient < high))
    return filters


class _Step:
    """Stage messages of one batch."""

    def __init__(self, clock: _Clock, prefix: str) -> None:
        self.clock = clock
        self.prefix = prefix

    def __call__(self, stage: str) -> None:
        self.clock(self.prefix + stage)


def _screen_batch(
    source: pl.LazyFrame,
    columns: list[str],
    extra: _Extra | None,
    kb: KnowledgeBase,
    normaliser: Normaliser,
    tables: KnowledgeTables,
    codes: _FindingCodes,
    reference_date: date,
    start: date,
    weights: dict[str, float],
    parts: int | None,
    step: _Step,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The patient table (in patient order, not ranked yet) and the sorted findings of some patients."""
    ids = [c for c in IDENTIFIERS if c in columns]
    rows = _read(source, columns, ids, start, reference_date)
    step(f"read {rows.height:,} rows in the window")
    products = _products(rows, ids, tables, normaliser)
    rows = rows.with_columns(products.key.alias("_product")).drop("_key", *ids)
    step(f"resolve {products.count:,} distinct products")
    chunks = _split(rows, parts if parts is not None else pl.thread_pool_size())
    del rows

    def work(chunk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        people = _people(chunk, columns, products, reference_date, extra)
        subs = _substances(chunk, products)
        findings = _sort_findings(
            pl.concat([_interactions(subs, tables, codes), _criteria(subs, people, tables, codes)]),
            people.height,
            codes,
        )
        table = _rank(_patient_table(people, subs, findings, tables, kb), weights, kb)
        return table, _findings_table(findings, people["patient_id"], codes)

    results: list[tuple[pl.DataFrame, pl.DataFrame]] = []
    if len(chunks) == 1:
        results.append(work(chunks[0]))
    else:
        with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
            results.extend(pool.map(work, chunks))
    step(f"screen {sum(r[0].height for r in results):,} patients in {len(chunks)} part(s)")
    return pl.concat([r[0] for r in results]), pl.concat([r[1] for r in results])


def _split(rows: pl.DataFrame, parts: int) -> list[pl.DataFrame]:
    """The rows cut into ``parts`` slices of whole patients, each numbering its patients from 0."""
    pk = rows["_pk"]
    if rows.height == 0 or parts <= 1:
        return [rows]
    cuts = sorted(
        {0, rows.height}
        | {int(pk.search_sorted(pk[rows.height * i // parts], side="left")) for i in range(1, parts)}
    )
    chunks = []
    for low, high in itertools.pairwise(cuts):
        chunk = rows.slice(low, high - low)
        chunks.append(chunk.with_columns(pl.col("_pk") - chunk["_pk"][0]))
    return chunks


# ---------------------------------------------------------------------------- rows


def _read(
    dispensations: pl.LazyFrame, columns: list[str], ids: list[str], start: date, reference_date: date
) -> pl.DataFrame:
    """The rows of the window: only the columns used, identifiers as categoricals, by patient.

    ``_key`` codes the row's line (its first identifier present) as an integer:
    categorical code x number of identifier columns + column. The rows are sorted by
    patient (stably: "first row of a patient" keeps its meaning) unless they already
    are, as dispensing extracts usually are; ``_pk`` numbers the patients from 0.
    """
    age_column = "birth_date" if "birth_date" in columns else "age"
    keep = ["patient_id", age_column, *(["sex"] if "sex" in columns else [])]
    width = len(ids)
    schema = dispensations.collect_schema()
    frame = (
        dispensations.select("dispensing_date", *keep, *ids)
        .with_columns(
            _as_date("dispensing_date", schema),
            *([_as_date("birth_date", schema)] if "birth_date" in keep else []),
        )
        .filter(pl.col("dispensing_date").is_between(start, reference_date, closed="right"))
        .select(*keep, *[pl.col(c).cast(pl.Utf8).cast(pl.Categorical) for c in ids])
        .with_columns(
            pl.coalesce(
                [pl.col(c).to_physical().cast(pl.UInt64) * width + i for i, c in enumerate(ids)]
            ).alias("_key")
        )
        .collect(engine="streaming")
    )
    if frame["patient_id"].null_count() == 0 and frame["patient_id"].is_sorted():
        frame = frame.rechunk()  # one chunk per column: gathers from it are direct
    else:
        frame = frame.sort("patient_id", maintain_order=True, nulls_last=True)
    return frame.with_columns(pl.col("patient_id").rle_id().alias("_pk"))


# ------------------------------------------------------------------------ products


@dataclass(frozen=True)
class _Products:
    """Each row's product number, and what each product number resolves to.

    A product is the set of identifiers of a row: usually one, whose ``_key`` is the
    product number. A row with several identifiers gets a number of its own per
    distinct combination (its substances are the union of its identifiers'), and
    rows with none share one number that resolves to nothing.
    """

    key: pl.Series  # per row
    count: int  # product numbers are below this
    subs: pl.DataFrame  # product, line, sub (the substance Enum's code), distinct
    unresolved: pl.Series  # Boolean, indexed by product number


def _products(
    rows: pl.DataFrame, ids: list[str], tables: KnowledgeTables, normaliser: Normaliser
) -> _Products:
    width = len(ids)
    key = rows["_key"]
    firsts = rows.select("_key", *ids)[key.arg_unique()].drop_nulls("_key")
    values = [_identifier_values(firsts, ids)]
    count = _top(key) + 1 if firsts.height else 0
    if key.null_count():  # rows without any identifier: one product, never resolved
        key = key.fill_null(count)
        count += 1
    combos = None
    identified = rows.height - rows["_key"].null_count()
    if sum(rows.height - rows[c].null_count() for c in ids) > identified:
        # Some rows carry several identifiers: number each distinct combination.
        several = pl.sum_horizontal([pl.col(c).is_not_null() for c in ids]) > 1
        codes = rows.select(
            pl.arg_where(several).alias("row"),
            *[
                (pl.col(c).filter(several).to_physical().cast(pl.UInt64) * width + i).alias(c)
                for i, c in enumerate(ids)
            ],
        )
        combos = codes.select(ids).unique(maintain_order=True).with_row_index("combo")
        numbered = codes.join(combos, on=ids, how="left", nulls_equal=True, maintain_order="left")
        key = key.scatter(numbered["row"], numbered["combo"].cast(pl.UInt64) + count)
        # Identifiers that are never a row's first: their values, from one row carrying each.
        others = (
            codes.unpivot(index="row", on=ids, value_name="_key")
            .drop_nulls("_key")
            .unique("_key", keep="first", maintain_order=True)
            .join(firsts.select("_key"), on="_key", how="anti")
        )
        if others.height:
            sample = rows.select(ids)[others["row"]].with_columns(others["_key"])
            values.append(_identifier_values(sample, ids))
    # One line number per (column, stripped value): keys differing only by surrounding
    # whitespace are one line, as the per-patient engine sees them.
    idents = (
        pl.concat(values)
        .with_columns(pl.struct("column", "value").rank("dense").cast(pl.UInt32).sub(1).alias("line"))
        .with_columns(pl.col("line").alias("product_line"), pl.col("product").alias("component"))
    )
    resolved = _resolve_identifiers(idents, ids, tables, normaliser)
    members = idents.filter(pl.col("product") < count).select("product", "product_line", "component")
    if combos is not None:
        parts = (
            combos.unpivot(index="combo", on=ids, value_name="component")
            .drop_nulls("component")
            .join(idents.select("component", "column", "line"), on="component")
            .select((pl.col("combo").cast(pl.UInt64) + count).alias("product"), "component", "column", "line")
        )
        # The line of a combination: its first identifier present (columns are in IDENTIFIERS order).
        line_of = parts.sort("column").group_by("product").agg(pl.col("line").first().alias("product_line"))
        members = pl.concat([members, parts.join(line_of, on="product").select(members.columns)])
        count += combos.height
    subs = (
        members.join(resolved, left_on="component", right_on="product")
        .select("product", pl.col("product_line").alias("line"), "sub")
        .unique()
        .sort("product", "sub")
    )
    unresolved = pl.repeat(True, count, dtype=pl.Boolean, eager=True)
    if subs.height:
        unresolved = unresolved.scatter(subs["product"].unique(), False)
    return _Products(key=key, count=count, subs=subs, unresolved=unresolved)


def _top(values: pl.Series) -> int:
    """The largest value of an integer series (0 when empty)."""
    top = values.max()
    return int(top) if isinstance(top, int) else 0


def _identifier_values(sample: pl.DataFrame, ids: list[str]) -> pl.DataFrame:
    """For each identifier key of the sample: its column and its value, whitespace stripped."""
    column = (pl.col("_key") % len(ids)).cast(pl.UInt32)
    value = pl.coalesce([pl.when(column == i).then(pl.col(c).cast(pl.Utf8)) for i, c in enumerate(ids)])
    return sample.select(
        pl.col("_key").alias("product"), column.alias("column"), value.str.strip_chars().alias("value")
    )


def _resolve_identifiers(
    idents: pl.DataFrame, ids: list[str], tables: KnowledgeTables, normaliser: Normaliser
) -> pl.DataFrame:
    """Line key -> substance code, for every identifier that resolves."""
    parts = []
    known_keys = set(tables.substance.categories.to_list())
    for i, column in enumerate(ids):
        mine = idents.filter(pl.col("column") == i)
        if column == "label":
            mapping = [
                (label, s.key)
                for label in mine["value"].to_list()
                for line in [normaliser.normalise_text(label)]
                if line.status != "unresolved"
                for s in line.substances
                if s.key in known_keys
            ]
            known = pl.DataFrame(
                mapping, schema={"label": pl.Utf8, "substance_key": tables.substance}, orient="row"
            )
        else:
            known = getattr(tables, column)
        parts.append(
            mine.join(known.rename({column: "value"}), on="value").select(
                "product", pl.col("substance_key").to_physical().cast(pl.UInt32).alias("sub")
            )
        )
    return pl.concat(parts).unique()


# ------------------------------------------------------------------------ patients


def _as_date(column: str, schema: pl.Schema) -> pl.Expr:
    """A date column as Date: ISO text (a CSV read without date parsing) is parsed, not rejected."""
    if schema[column] == pl.Utf8:
        return pl.col(column).str.to_date(strict=False)
    return pl.col(column).cast(pl.Date, strict=False)


def _age(columns: list[str], reference_date: date) -> pl.Expr:
    if "birth_date" not in columns:
        return pl.col("age")
    birth = pl.col("birth_date")
    return (
        pl.lit(reference_date.year)
        - birth.dt.year()
        - (
            (pl.lit(reference_date.month) * 100 + reference_date.day)
            < (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32))
        ).cast(pl.Int32)
    )


@dataclass(frozen=True)
class _Extra:
    """The optional patient table, collected once; ``ordered`` when its ids are sorted and unique."""

    frame: pl.DataFrame
    ordered: bool


def _patient_extra(
    patients: pl.LazyFrame | None, id_type: pl.DataType, where: pl.Expr | None = None
) -> _Extra | None:
    if patients is None:
        return None
    extra = patients.with_columns(pl.col("patient_id").cast(id_type))
    if where is not None:  # the patients of one batch, chosen on the id as the dispensing table has it
        extra = extra.filter(where)
    keep = [c for c in ("weight_kg", "crcl_ml_min", "conditions") if c in extra.collect_schema().names()]
    frame = extra.select("patient_id", *keep).collect()
    ids = frame["patient_id"]
    if ids.null_count() == 0 and (ids.len() < 2 or bool((ids.diff().drop_nulls() > 0).all())):
        return _Extra(frame.with_columns(pl.col("patient_id").set_sorted()), ordered=True)
    return _Extra(frame.unique("patient_id", keep="first", maintain_order=True), ordered=False)


def _people(
    rows: pl.DataFrame,
    columns: list[str],
    products: _Products,
    reference_date: date,
    extra: _Extra | None,
) -> pl.DataFrame:
    """One row per patient in patient-number order: id, age and sex (first row), row counts, clearance."""
    runs = rows["_pk"].rle().struct.field("len").cast(pl.Int64)
    starts = runs.cum_sum() - runs
    unread = _rows_per_patient(rows["_pk"].filter(products.unresolved.gather(rows["_product"])), runs.len())
    first = [
        "patient_id",
        "birth_date" if "birth_date" in columns else "age",
        *(["sex"] if "sex" in columns else []),
    ]
    out = rows.select(pl.col(first).gather(starts)).select(
        "patient_id",
        _age(columns, reference_date).cast(pl.Int64).alias("age"),
        (pl.col("sex") if "sex" in columns else pl.lit(None, pl.Utf8)).alias("sex"),
        pl.lit(runs).alias("rows"),
        pl.lit(unread).alias("unresolved_rows"),
    )
    if extra is not None:
        frame = extra.frame
        ids = out["patient_id"]
        if extra.ordered and ids.null_count() == 0 and ids.len():
            # Both sorted: the slice of the patient table for these patients, and a merge join.
            known = frame["patient_id"]
            low = int(known.search_sorted(ids[0], side="left"))
            high = int(known.search_sorted(ids[-1], side="right"))
            frame = frame.slice(low, high - low)
            out = out.with_columns(pl.col("patient_id").set_sorted())
        out = out.join(frame, on="patient_id", how="left", maintain_order="left")
    if "crcl_ml_min" not in out.columns:
        out = out.with_columns(pl.lit(None, pl.Float64).alias("crcl_ml_min"))
    return out


# ---------------------------------------------------------------------- substances


def _substances(rows: pl.DataFrame, products: _Products) -> pl.DataFrame:
    """Distinct (patient, substance) sorted, with ``tag`` = the substance's line when it has one only.

    Two substances of a patient form a pair unless both come from one single line
    (a combination product): tags equal and not null. Each (substance, line) a
    product resolves to is an "entry", numbered in (substance, line) order, so that
    one sort of (patient, entry) keys gives the rows by patient, then substance,
    then line: distinct substances are runs, and a run's first and last lines tell
    whether it has one line only.
    """
    schema = {"_pk": pl.UInt32, "sub": pl.UInt32, "tag": pl.UInt32}
    if rows.height == 0 or products.subs.height == 0:
        return pl.DataFrame(schema=schema)
    n = int(rows["_pk"][-1]) + 1
    entries = products.subs.select("sub", "line").unique().sort("sub", "line").with_row_index("entry")
    per_product = products.subs.join(entries, on=["sub", "line"]).select("product", "entry")
    counts = per_product.group_by("product").agg(pl.len().alias("n"), pl.col("entry").first())
    single = counts.filter(pl.col("n") == 1)
    e = entries.height
    p = products.count
    key_type = pl.UInt32 if n * e < _U32 else pl.UInt64
    entry_of = pl.repeat(None, p, dtype=pl.UInt32, eager=True).scatter(single["product"], single["entry"])
    product = rows["_product"]
    packed = [(rows["_pk"].cast(key_type) * e + entry_of.gather(product).cast(key_type)).drop_nulls()]
    several = counts.filter(pl.col("n") > 1)
    if several.height:  # rows of combination products: one key per substance
        chosen = pl.repeat(False, p, dtype=pl.Boolean, eager=True).scatter(several["product"], True)
        chosen = chosen.gather(product)
        combos = pl.DataFrame({"_pk": rows["_pk"].filter(chosen), "product": product.filter(chosen)})
        packed.append(
            combos.join(per_product, on="product")
            .select(pl.col("_pk").cast(key_type) * e + pl.col("entry").cast(key_type))
            .to_series()
        )
    keys = pl.concat(packed).sort().unique()  # unique is a linear pass on sorted data
    pk = (keys // e).cast(pl.UInt32)
    entry = (keys % e).cast(pl.UInt32)
    sub = entries["sub"].gather(entry)
    line = entries["line"].gather(entry)
    width = _top(entries["sub"]) + 1
    runs = (pk.cast(pl.UInt64) * width + sub).rle()
    length = runs.struct.field("len").cast(pl.Int64)
    last = length.cum_sum() - 1
    lo = line.gather(last - length + 1)
    hi = line.gather(last)
    distinct = runs.struct.field("value")
    return pl.DataFrame(
        {
            "_pk": (distinct // width).cast(pl.UInt32),
            "sub": (distinct % width).cast(pl.UInt32),
            "tag": pl.select(pl.when(pl.lit(lo) == pl.lit(hi)).then(pl.lit(lo))).to_series(),
        }
    )


def _rows_per_patient(pk: pl.Series, n: int) -> pl.Series:
    """Rows per patient number of a frame sorted by patient number (0 when absent), n-long."""
    runs = pk.rle()
    length = runs.struct.field("len").cast(pl.Int64)
    if length.len() == n:  # every patient has rows: the runs are the patients
        return length
    return pl.zeros(n, pl.Int64, eager=True).scatter(runs.struct.field("value"), length)


def _sums_per_patient(
    pk: pl.Series, bucket: pl.Series, weight: pl.Series | None, buckets: int, n: int
) -> list[pl.Series]:
    """Per patient and bucket, the number of rows (or the sum of ``weight``) of a frame sorted by patient.

    For each bucket, its rows keep the patient order: a run-length encoding gives
    the counts, a cumulative sum read at the end of each run the sums. Linear, no
    hashing; the only random access is one scatter into the patient arrays.
    """
    out = []
    for b in range(buckets):
        mine = bucket == b
        who = pk.filter(mine)
        runs = who.rle()
        length = runs.struct.field("len").cast(pl.Int64)
        if weight is None:
            total = length
        else:
            at_end = weight.filter(mine).cast(pl.Int64).cum_sum().gather(length.cum_sum() - 1)
            total = at_end - at_end.shift(1, fill_value=0)
        out.append(pl.zeros(n, pl.Int64, eager=True).scatter(runs.struct.field("value"), total))
    return out


# ------------------------------------------------------------------------ findings


@dataclass(frozen=True)
class _FindingCodes:
    """Rule and drug strings as sorted enums: findings stay integers until the output."""

    rule: pl.Enum
    drugs: pl.Enum
    substance_drugs: pl.Series  # substance code -> drugs code

    @classmethod
    def build(cls, tables: KnowledgeTables) -> _FindingCodes:
        names = tables.substance.categories
        rules = (
            set(tables.pairs["rule"])
            | set(tables.pim["criterion"])
            | set(tables.renal["criterion"])
            | set(tables.omissions["criterion"])
        )
        drugs = pl.Enum(sorted(set(_pair_drugs(tables.pairs)) | set(names)))
        return cls(rule=pl.Enum(sorted(rules)), drugs=drugs, substance_drugs=cls._code(names, drugs))

    @staticmethod
    def _code(values: pl.Series, enum: pl.Enum) -> pl.Series:
        return values.cast(pl.Utf8).cast(enum).to_physical().cast(pl.UInt32)

    def rules(self, values: pl.Series) -> pl.Series:
        return self._code(values, self.rule)


def _pair_drugs(pairs: pl.DataFrame) -> pl.Series:
    return pairs["a"].cast(pl.Utf8) + " + " + pairs["b"].cast(pl.Utf8)


_FINDINGS = {
    "_pk": pl.UInt32,
    "category": pl.UInt32,
    "rule": pl.UInt32,
    "drugs": pl.UInt32,
    "level": pl.UInt32,
    "status": pl.UInt32,
}


def _interactions(subs: pl.DataFrame, tables: KnowledgeTables, codes: _FindingCodes) -> pl.DataFrame:
    """Interacting pairs of each patient, from the patient's sorted run of substances.

    Substance codes follow the Enum's sorted order, so within a run each later
    substance is the "b" of an earlier "a" (a < b as strings, as in the pair table).
    Only substances with at least one interaction take part; each candidate pair is
    looked up in a dense table indexed by a * k + b over the k substances present.
    """
    pairs = tables.pairs
    width = len(tables.substance.categories)
    a = pairs["a"].to_physical().cast(pl.UInt32)
    b = pairs["b"].to_physical().cast(pl.UInt32)
    if pairs.height == 0 or subs.height == 0:
        return pl.DataFrame(schema=_FINDINGS)
    interacting = pl.repeat(False, width, eager=True).scatter(pl.concat([a, b]).unique(), True)
    own = subs.filter(pl.lit(interacting).gather(pl.col("sub")))
    present = own["sub"].unique().sort()
    k = present.len()
    if k < 2:
        return pl.DataFrame(schema=_FINDINGS)
    dense = pl.zeros(width, pl.UInt32, eager=True).scatter(
        present, pl.int_range(k, eager=True, dtype=pl.UInt32)
    )
    in_data = pl.repeat(False, width, eager=True).scatter(present, True)
    known = pl.DataFrame(
        {"a": a, "b": b, "row": pl.int_range(pairs.height, eager=True, dtype=pl.UInt32)}
    ).filter(pl.lit(in_data).gather(pl.col("a")) & pl.lit(in_data).gather(pl.col("b")))
    if known.height == 0:
        return pl.DataFrame(schema=_FINDINGS)
    key_type = pl.UInt32 if k * k < _U32 else pl.UInt64
    pair_row = pl.repeat(None, k * k, dtype=pl.UInt32, eager=True).scatter(
        dense.gather(known["a"]).cast(key_type) * k + dense.gather(known["b"]), known["row"]
    )
    sub = dense.gather(own["sub"]).cast(key_type)
    as_a = sub * k
    runs = own["_pk"].rle().struct.field("len").cast(pl.UInt32)
    end = runs.cum_sum().gather(own["_pk"].rle_id())
    candidates = (
        pl.DataFrame({"i": pl.int_range(own.height, eager=True, dtype=pl.UInt32), "end": end})
        .filter(pl.col("i") + 1 < pl.col("end"))
        .select("i", pl.int_ranges(pl.col("i") + 1, pl.col("end"), dtype=pl.UInt32).alias("j"))
        .explode("j")
    )
    row = pair_row.gather(as_a.gather(candidates["i"]) + sub.gather(candidates["j"]))
    hits = candidates.filter(row.is_not_null()).with_columns(row=row.drop_nulls())
    tag = own["tag"]
    ti = tag.gather(hits["i"])
    tj = tag.gather(hits["j"])
    hits = hits.filter(ti.is_null() | tj.is_null() | (ti != tj))
    found = hits["row"]
    level = pl.Series(pairs["level"]).cast(pl.Enum(LEVELS)).to_physical().cast(pl.UInt32)
    return pl.DataFrame(
        {
            "_pk": own["_pk"].gather(hits["i"]),
            "category": pl.zeros(found.len(), pl.UInt32, eager=True),
            "rule": codes.rules(pairs["rule"]).gather(found),
            "drugs": _FindingCodes._code(_pair_drugs(pairs), codes.drugs).gather(found),
            "level": level.gather(found),
            "status": _status(pairs["status"]).gather(found),
        }
    )


def _status(values: pl.Series) -> pl.Series:
    return values.cast(pl.Enum(STATUSES)).to_physical().cast(pl.UInt32)


def _criteria(
    subs: pl.DataFrame, people: pl.DataFrame, tables: KnowledgeTables, codes: _FindingCodes
) -> pl.DataFrame:
    """Drug-only inappropriate-drug criteria (by age) and renal criteria (where the clearance is known)."""
    age = people["age"]
    crcl = people["crcl_ml_min"].cast(pl.Float64, strict=False)
    width = len(tables.substance.categories)
    parts = [pl.DataFrame(schema=_FINDINGS)]
    for category, frame in ((CATEGORIES.index("pim"), tables.pim), (CATEGORIES.index("renal"), tables.renal)):
        if frame.height == 0 or subs.height == 0:
            continue
        rules = frame.with_columns(
            pl.col("substance_key").to_physical().cast(pl.UInt32).alias("sub"),
            pl.lit(codes.rules(frame["criterion"])).alias("rule"),
        )
        concerned = pl.repeat(False, width, eager=True).scatter(rules["sub"].unique(), True)
        hits = (
            subs.filter(pl.lit(concerned).gather(pl.col("sub")))
            .select("_pk", "sub")
            .join(rules, on="sub")
            .with_columns(pl.lit(age).gather(pl.col("_pk")).alias("age"))
        )
        keep = pl.col("age") >= pl.col("min_age")
        if frame is tables.renal:
            hits = hits.with_columns(pl.lit(crcl).gather(pl.col("_pk")).alias("crcl"))
            keep = (
                keep
                & pl.col("crcl").is_not_null()
                & (pl.col("crcl_below").is_null() | (pl.col("crcl") < pl.col("crcl_below")))
                & (pl.col("crcl_at_least").is_null() | (pl.col("crcl") >= pl.col("crcl_at_least")))
            )
        parts.append(
            hits.filter(keep).select(
                "_pk",
                pl.lit(category, pl.UInt32).alias("category"),
                "rule",
                pl.lit(codes.substance_drugs).gather(pl.col("sub")).alias("drugs"),
                pl.lit(None, pl.UInt32).alias("level"),
                pl.lit(0, pl.UInt32).alias("status"),
            )
        )
    parts.append(_omissions(subs, age, tables, codes))
    return pl.concat(parts)


def _omissions(
    subs: pl.DataFrame, age: pl.Series, tables: KnowledgeTables, codes: _FindingCodes
) -> pl.DataFrame:
    """Omissions on drugs only: a trigger substance, old enough, and none of the criterion's treatments.

    As in the per-patient engine, any substance of the list silences the criterion,
    the trigger's own line included.
    """
    triggers = tables.omissions
    if triggers.height == 0 or subs.height == 0:
        return pl.DataFrame(schema=_FINDINGS)
    width = len(tables.substance.categories)
    triggers = triggers.select(
        pl.col("substance_key").to_physical().cast(pl.UInt32).alias("sub"),
        pl.lit(codes.rules(triggers["criterion"])).alias("rule"),
        "min_age",
        pl.lit(_status(triggers["status"])).alias("status"),
    )
    treatments = tables.treatments.select(
        pl.col("substance_key").to_physical().cast(pl.UInt32).alias("sub"),
        pl.lit(codes.rules(tables.treatments["criterion"])).alias("rule"),
    )

    def concerning(frame: pl.DataFrame) -> pl.DataFrame:
        mask = pl.repeat(False, width, eager=True).scatter(frame["sub"].unique(), True)
        return subs.filter(pl.lit(mask).gather(pl.col("sub"))).select("_pk", "sub").join(frame, on="sub")

    treated = concerning(treatments).select("_pk", "rule").unique()
    hits = (
        concerning(triggers)
        .filter(pl.lit(age).gather(pl.col("_pk")) >= pl.col("min_age"))
        .join(treated, on=["_pk", "rule"], how="anti")
    )
    return hits.select(
        "_pk",
        pl.lit(CATEGORIES.index("omission"), pl.UInt32).alias("category"),
        "rule",
        pl.lit(codes.substance_drugs).gather(pl.col("sub")).alias("drugs"),
        pl.lit(None, pl.UInt32).alias("level"),
        "status",
    )


def _sort_findings(findings: pl.DataFrame, n: int, codes: _FindingCodes) -> pl.DataFrame:
    """Findings by patient, category, rule and drugs (codes sort as their strings do).

    The codes (level and status last, they never decide the order) are packed into one
    integer, sorted, and unpacked.
    """
    digits = [
        ("category", len(CATEGORIES)),
        ("rule", len(codes.rule.categories)),
        ("drugs", len(codes.drugs.categories)),
        ("level", len(LEVELS) + 1),  # the last value stands for "no level"
        ("status", len(STATUSES)),
    ]
    total = max(n, 1)
    for _, radix in digits:
        total *= radix
    if total >= _U64:  # pragma: no cover - beyond any dispensing table
        return findings.sort("_pk", "category", "rule", "drugs")
    packed = pl.col("_pk").cast(pl.UInt64)
    for name, radix in digits:
        packed = packed * radix + (pl.col(name).fill_null(len(LEVELS)) if name == "level" else pl.col(name))
    key = findings.select(packed.sort()).to_series()
    out = {}
    for name, radix in reversed(digits):
        out[name] = (key % radix).cast(pl.UInt32)
        key = key // radix
    out["_pk"] = key.cast(pl.UInt32)
    frame = pl.DataFrame(out).select(list(_FINDINGS))
    return frame.with_columns(pl.when(pl.col("level") < len(LEVELS)).then(pl.col("level")).alias("level"))


def _findings_table(findings: pl.DataFrame, patient_ids: pl.Series, codes: _FindingCodes) -> pl.DataFrame:
    """The sorted findings with their codes turned back into strings."""
    return pl.DataFrame(
        {
            "patient_id": patient_ids.gather(findings["_pk"]),
            "category": pl.Series(CATEGORIES, dtype=pl.Utf8).gather(findings["category"]),
            "rule": codes.rule.categories.gather(findings["rule"]),
            "level": pl.Series(LEVELS, dtype=pl.Utf8).gather(findings["level"]),
            "drugs": codes.drugs.categories.gather(findings["drugs"]),
            "status": pl.Series(STATUSES, dtype=pl.Utf8).gather(findings["status"]),
        }
    )


# ------------------------------------------------------------------- patient table


def _patient_table(
    people: pl.DataFrame,
    subs: pl.DataFrame,
    findings: pl.DataFrame,
    tables: KnowledgeTables,
    kb: KnowledgeBase,
) -> pl.DataFrame:
    """Per-patient counts from two linear passes (substances, findings), in patient order."""
    n = people.height
    width = len(tables.substance.categories)
    scale_ids = [scale.info.id for scale in kb.scales]
    measures: list[tuple[str, pl.Series]] = []
    for scale_id in scale_ids:
        mine = tables.acb.filter(pl.col("scale") == scale_id)
        scores = pl.zeros(width, pl.Int64, eager=True).scatter(
            mine["substance_key"].to_physical(), mine["score"]
        )
        measures.append((scale_id, scores))
    qt = pl.zeros(width, pl.Int64, eager=True).scatter(tables.qt["substance_key"].to_physical().unique(), 1)
    measures.append(("qt_drugs", qt))
    from_subs = {"distinct_substances": _rows_per_patient(subs["_pk"], n)}
    for name, values in measures:
        weighed = subs.select("_pk", pl.lit(values).gather(pl.col("sub")).alias("w")).filter(pl.col("w") != 0)
        zero = pl.zeros(weighed.height, pl.UInt32, eager=True)
        from_subs[name] = _sums_per_patient(weighed["_pk"], zero, weighed["w"], 1, n)[0]
    # Findings by bucket: interactions by level (in LEVELS order), then the other categories.
    bucket = findings.select(
        pl.when(pl.col("category") == 0).then(pl.col("level")).otherwise(pl.col("category") + len(LEVELS) - 1)
    ).to_series()
    others = {"omission": "omissions", "pim": "pim", "renal": "renal"}
    per_bucket = _sums_per_patient(findings["_pk"], bucket, None, len(LEVELS) + len(others), n)
    counts = [f"interactions_{lv}" for lv in LEVELS] + [others[c] for c in CATEGORIES[1:]]
    from_findings = dict(zip(counts, per_bucket, strict=True))
    counts = [f"interactions_{lv}" for lv in ("CI", "ASDEC", "PE", "APEC")] + ["pim", "renal", "omissions"]
    table = people.with_columns(
        pl.lit(from_subs["distinct_substances"]).alias("distinct_substances")
    ).with_columns(
        # An unread row is still a drug: it counts once, as in the per-patient engine.
        (pl.col("distinct_substances") + pl.col("unresolved_rows").clip(0, 1)).alias("molecules"),
    )
    order = ["patient_id", "age", "sex", "rows", "distinct_substances", "unresolved_rows", "molecules"]
    return table.select(*order, *[c for c in table.columns if c not in order]).with_columns(
        ((pl.col("age") >= 75) & (pl.col("molecules") >= 10)).alias("eligible_iatroprev"),
        *[pl.lit(from_findings[name]).alias(name) for name in counts],
        *[pl.lit(from_subs[name]).alias(name) for name in (*scale_ids, "qt_drugs")],
    )


def _rank(table: pl.DataFrame, weights: dict[str, float], kb: KnowledgeBase) -> pl.DataFrame:
    """risk_score = sum of weight x count, with the three largest contributions as reasons.

    Reasons are ordered by points (descending) then name. Each term's position is the
    number of terms ahead of it; the three positions are packed into one integer and
    the text is built once per distinct combination, not once per patient.
    """
    acb_high = kb.scales[0].info.threshold_high if kb.scales else 3
    parts = {
        "interactions_CI": pl.col("interactions_CI"),
        "interactions_ASDEC": pl.col("interactions_ASDEC"),
        "interactions_PE": pl.col("interactions_PE"),
        "interactions_APEC": pl.col("interactions_APEC"),
        "pim": pl.col("pim"),
        "renal": pl.col("renal"),
        "acb_high": (pl.col("acb") >= acb_high).cast(pl.Int64) if kb.scales else pl.lit(0),
        "qt_combination": (pl.col("qt_drugs") >= 2).cast(pl.Int64),
        "molecules_over_10": (pl.col("molecules").cast(pl.Int64) - 10).clip(lower_bound=0),
    }
    names = list(weights)
    score = {name: f"_score_{name}" for name in names}
    ahead = {name: f"_ahead_{name}" for name in names}
    scored = table.with_columns([(parts[name] * weights[name]).alias(score[name]) for name in names])
    scored = scored.with_columns(pl.sum_horizontal(list(score.values())).alias("risk_score"))
    points = {name: pl.col(score[name]) for name in names}
    scored = scored.with_columns(
        # Ahead of a term: a term with more points, or as many and a name sorted before.
        pl.sum_horizontal(
            [
                (points[other] >= points[name]) if other < name else (points[other] > points[name])
                for other in names
                if other != name
            ]
            or [pl.lit(0)]
        ).alias(ahead[name])
        for name in names
    )
    base = len(names) + 1
    combo = pl.lit(0, pl.Int64)
    for position in range(3):
        at = pl.sum_horizontal(
            [
                pl.when((pl.col(ahead[name]) == position) & (points[name] > 0)).then(i + 1).otherwise(0)
                for i, name in enumerate(names)
            ]
            or [pl.lit(0)]
        )
        combo = combo * base + at
    scored = scored.with_columns(combo.cast(pl.Int64).alias("_reasons"))
    text = {
        c: ", ".join(names[d - 1] for d in (c // base**2, c // base % base, c % base) if d)
        for c in scored["_reasons"].unique().to_list()
    }
    reasons = pl.col("_reasons").replace_strict(text, return_dtype=pl.Utf8) if text else pl.lit("")
    return scored.with_columns(reasons.cast(pl.Utf8).alias("top_reasons")).drop(
        *score.values(), *ahead.values(), "_reasons"
    )
