"""Coverage of the ANSM thesaurus (Sept 2023) by the engine, end to end.

For every row of the thesaurus whose two sides resolve to substances of the
referential (classes expanded with the ANSM substance index, independently of
the derivation script), the analysis of a two-drug list must report an
interaction at the row's level. The percentage is printed; it must be >= 98%.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict

from pharma_service.engine.analyse import analyse
from pharma_service.models import LineStatus, MedicationLine, MedicationList, Patient, SubstanceRef
from pharma_service.service import Engine
from pharma_service.text import substance_key
from tests.conftest import reference_file

LEVELS = {"CI": "CI", "AD": "ASDEC", "PE": "PE", "APEC": "APEC"}
# Rows are expanded to at most this many substance pairs each, spread over the
# members, so that class x class rows do not dominate the run time.
MAX_PAIRS_PER_ROW = 12


def _class_index() -> dict[str, set[str]]:
    path = reference_file("ansm", "index-des-substances-20102020.json")
    members: dict[str, set[str]] = defaultdict(set)
    for entry in json.loads(path.read_text(encoding="utf-8")):
        for cls in entry["drug_classes"]:
            members[substance_key(cls)].add(substance_key(entry["substance"]))
    return members


def _line(index: int, engine: Engine, key: str) -> MedicationLine:
    subst = engine.kb.referential.substances[key]
    return MedicationLine(
        index=index,
        line=subst.name,
        status=LineStatus.RESOLVED,
        confidence=1.0,
        substances=[SubstanceRef(name=subst.name, key=key, atc=subst.atc)],
    )


def test_engine_reports_ansm_2023_pairs_at_their_level(engine: Engine) -> None:
    path = reference_file("ansm", "thesaurus_2023_09.csv")
    classes = _class_index()
    substances = engine.kb.referential.substances
    patient = Patient(age=80)

    def resolve(name: str) -> set[str]:
        key = substance_key(name)
        if key in classes:
            return {m for m in classes[key] if m in substances}
        if key in substances:
            return {key}
        if key in engine.kb.class_members:  # classes renamed since the 2020 index
            return {m for m in engine.kb.class_members[key] if m in substances}
        return set()

    checked = covered = unresolved_rows = 0
    misses: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        left, right = resolve(row["substance"]), resolve(row["interactant"])
        pairs = sorted((a, b) for a in left for b in right if a != b)
        if not pairs:
            unresolved_rows += 1
            continue
        step = max(1, len(pairs) // MAX_PAIRS_PER_ROW)
        level = LEVELS[row["niveau"]]
        for a, b in pairs[::step][:MAX_PAIRS_PER_ROW]:
            meds = MedicationList(lines=[_line(0, engine, a), _line(1, engine, b)])
            findings = analyse(meds, patient, kb=engine.kb).findings
            checked += 1
            levels = {f.level for f in findings if f.category == "interaction"}
            levels |= {
                lv for f in findings if f.category == "interaction" for lv in f.codes["levels_in_entry"]
            }
            if level in levels:
                covered += 1
            else:
                misses.append(f"{row['substance']} + {row['interactant']} ({level}) via {a} + {b}")
    share = covered / checked
    print(
        f"\nANSM 2023 coverage: {covered}/{checked} substance pairs reported at their level "
        f"({share:.2%}); {len(rows) - unresolved_rows}/{len(rows)} rows resolvable"
    )
    assert share >= 0.98, "\n".join(misses[:40])
