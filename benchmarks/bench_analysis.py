"""Analysis core benchmark: 12-drug list, indexed engine vs a naive scan of every rule.

    python benchmarks/bench_analysis.py [--repeat 2000] [--out benchmarks/RESULTS.md]

Measures, in one process and side by side:
- knowledge base + referential load time;
- `analyse()` on an already normalised 12-drug list (the engine proper), and the same
  with the engine's per-drug memos (criteria a drug reaches, ATC prefixes) cleared first;
- the same interaction search done naively: every pair x every thesaurus row,
  classes held as member sets (what the index replaces);
- the whole request (normalisation of the 12 text lines + analysis), cold and cached.
Results are printed and appended to the results document with the date and machine.
"""

from __future__ import annotations

import argparse
import csv
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pharma_service.engine.analyse import analyse  # noqa: E402
from pharma_service.engine.checks.interactions import check_interactions  # noqa: E402
from pharma_service.engine.context import AnalysisContext  # noqa: E402
from pharma_service.engine.kb import DEFAULT_RULES_DIR  # noqa: E402
from pharma_service.models import AnalysisRequest, MedicationInput, Patient  # noqa: E402
from pharma_service.service import Engine, analyse_request  # noqa: E402

TWELVE_LINES = [
    "SIMVASTATINE 40 mg comprimé : 1 comprimé le soir",
    "ZECLAR 500 mg : 1 cp matin et soir pendant 7 jours",
    "KARDEGIC 75 mg : 1 sachet par jour",
    "PREVISCAN 20 mg : 3/4 cp le soir",
    "AMIODARONE 200 mg : 1 cp le matin",
    "FUROSEMIDE 40 mg : 1-0-0",
    "DIFFU K 600 mg : 1 gélule matin et soir",
    "RAMIPRIL 5 mg : 1 cp le matin",
    "DOLIPRANE 1000 mg : 1 cp si douleur, max 3/j",
    "IXPRIM 37,5 mg/325 mg : 1 cp 3 fois par jour",
    "SERESTA 10 mg : 1 cp au coucher",
    "OMEPRAZOLE 20 mg : 1 gélule le matin",
]


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def naive_rules(rules_dir: Path) -> list[tuple[frozenset[str], frozenset[str], str]]:
    with (rules_dir / "interactions" / "ansm_classes.csv").open(encoding="utf-8") as handle:
        members: dict[str, set[str]] = {}
        for row in csv.DictReader(handle):
            members.setdefault(row["class_key"], set()).add(row["member_key"])
    out = []
    with (rules_dir / "interactions" / "ansm_interactions.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            a = members.get(row["a_key"], set()) if row["a_kind"] == "class" else {row["a_key"]}
            b = members.get(row["b_key"], set()) if row["b_kind"] == "class" else {row["b_key"]}
            out.append((frozenset(a), frozenset(b), row["level"]))
    return out


def naive_interactions(keys: list[str], rules: list[tuple[frozenset[str], frozenset[str], str]]) -> int:
    found = 0
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if a == b:
                continue
            for left, right, _level in rules:
                if (a in left and b in right) or (b in left and a in right):
                    found += 1
    return found


def stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.95) - 1] * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()

    load_samples = timed(lambda: Engine.load(), 3)
    engine = Engine.load()
    patient = Patient(age=82, sex="F", weight_kg=61, crcl_ml_min=55)
    request = AnalysisRequest(patient=patient, medications=[MedicationInput(text=t) for t in TWELVE_LINES])
    meds = engine.normaliser.normalise(request.medications)
    keys = [s.key for line in meds.lines for s in line.substances]
    unresolved = [line.line for line in meds.lines if line.status != "resolved"]

    engine_samples = timed(lambda: analyse(meds, patient, kb=engine.kb), args.repeat)

    def memos_cleared() -> None:
        engine.kb.clear_memos()
        analyse(meds, patient, kb=engine.kb)

    memo_cold_samples = timed(memos_cleared, max(20, args.repeat // 4))

    def interactions_only() -> None:
        ctx = AnalysisContext(patient=patient, lines=list(meds.lines), kb=engine.kb)
        list(check_interactions(ctx))

    interaction_samples = timed(interactions_only, args.repeat)
    rules = naive_rules(DEFAULT_RULES_DIR)
    naive_repeat = max(20, args.repeat // 50)
    naive_samples = timed(lambda: naive_interactions(keys, rules), naive_repeat)

    def cold() -> None:
        engine.normaliser._cached_line.cache_clear()
        engine.kb.clear_memos()
        analyse_request(request, engine=engine)

    cold_samples = timed(cold, max(20, args.repeat // 20))
    warm_samples = timed(lambda: analyse_request(request, engine=engine), args.repeat // 4)

    findings = analyse(meds, patient, kb=engine.kb).findings
    rows = [
        ("knowledge base + referential load", load_samples),
        ("analyse() 12 drugs, indexed engine (all checks)", engine_samples),
        ("analyse(), engine memos cleared before each run", memo_cold_samples),
        ("interactions only, indexed engine", interaction_samples),
        ("baseline: naive scan of every rule, interactions only", naive_samples),
        ("whole request, 12 text lines, cold normaliser cache and engine memos", cold_samples),
        ("whole request, 12 text lines, warm normaliser cache", warm_samples),
    ]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n### Analysis core — {when}",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
        f"{len(keys)} substances on 12 lines, {len(findings)} findings, "
        f"{len(engine.kb.interactions)} interaction rows, {len(engine.kb.pair_index)} indexed pairs; "
        f"unresolved lines: {unresolved or 'none'}",
        "",
        "| measure | runs | median ms | p95 ms |",
        "|---|---:|---:|---:|",
    ]
    for name, samples in rows:
        med, p95 = stats(samples)
        lines.append(f"| {name} | {len(samples)} | {med:.3f} | {p95:.3f} |")
    ratio = statistics.median(naive_samples) / statistics.median(interaction_samples)
    lines += ["", f"Interactions: naive scan / indexed engine (medians): {ratio:.0f}x", ""]
    report = "\n".join(lines)
    print(report)
    with args.out.open("a", encoding="utf-8") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
