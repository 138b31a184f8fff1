"""Index of the geriatric criteria by ATC prefix and substance key, built once at load."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pharma_service.engine.schemas import Criterion, SourceInfo
from pharma_service.models import MedicationLine


@dataclass(frozen=True)
class CompiledCriterion:
    criterion: Criterion
    source: SourceInfo


@dataclass
class CriteriaIndex:
    """Criteria reachable from a line's ATC prefixes and substance keys, plus the always-evaluated."""

    by_atc_prefix: dict[str, list[CompiledCriterion]] = field(default_factory=lambda: defaultdict(list))
    by_substance: dict[str, list[CompiledCriterion]] = field(default_factory=lambda: defaultdict(list))
    condition_triggered: list[CompiledCriterion] = field(default_factory=list)
    count: int = 0

    def add(self, item: CompiledCriterion) -> None:
        self.count += 1
        selector = item.criterion.drugs
        if selector is None:
            self.condition_triggered.append(item)
            return
        for prefix in selector.atc:
            self.by_atc_prefix[prefix].append(item)
        for key in selector.substances:
            self.by_substance[key].append(item)

    def candidates(self, lines: Iterable[MedicationLine]) -> list[CompiledCriterion]:
        seen: dict[str, CompiledCriterion] = {}
        for line in lines:
            for code in line_codes(line):
                for length in range(1, len(code) + 1):
                    for item in self.by_atc_prefix.get(code[:length], ()):
                        seen.setdefault(item.criterion.id, item)
            for subst in line.substances:
                for item in self.by_substance.get(subst.key, ()):
                    seen.setdefault(item.criterion.id, item)
        for item in self.condition_triggered:
            seen.setdefault(item.criterion.id, item)
        return list(seen.values())


def line_codes(line: MedicationLine) -> set[str]:
    codes = {s.atc for s in line.substances if s.atc}
    if line.atc:
        codes.add(line.atc)
    return codes
