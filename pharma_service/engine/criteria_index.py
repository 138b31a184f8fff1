"""Index of the geriatric criteria by ATC prefix and substance key, built once at load."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pharma_service.engine.schemas import Criterion, DrugSelector, SourceInfo
from pharma_service.models import MedicationLine, Source


@dataclass(frozen=True, slots=True)
class CompiledSelector:
    """A drug selector as sets, so that matching a line is a few set intersections."""

    atc: frozenset[str]
    substances: frozenset[str]
    exclude_atc: frozenset[str]
    exclude_substances: frozenset[str]

    @classmethod
    def of(cls, selector: DrugSelector | None) -> CompiledSelector | None:
        if selector is None:
            return None
        return cls(
            frozenset(selector.atc),
            frozenset(selector.substances),
            frozenset(selector.exclude_atc),
            frozenset(selector.exclude_substances),
        )


@dataclass(frozen=True)
class CompiledCriterion:
    criterion: Criterion
    source: SourceInfo
    drugs: CompiledSelector | None = field(init=False)
    with_any: CompiledSelector | None = field(init=False)
    without_any: CompiledSelector | None = field(init=False)
    source_ref: Source = field(init=False)  # the criterion's source as findings show it

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "source_ref",
            Source(label=self.source.label, version=self.source.version, reference=self.criterion.reference),
        )
        object.__setattr__(self, "drugs", CompiledSelector.of(self.criterion.drugs))
        object.__setattr__(self, "with_any", CompiledSelector.of(self.criterion.when.with_any))
        object.__setattr__(self, "without_any", CompiledSelector.of(self.criterion.when.without_any))


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


def line_codes(line: MedicationLine) -> set[str]:
    codes = {s.atc for s in line.substances if s.atc}
    if line.atc:
        codes.add(line.atc)
    return codes


def atc_prefixes(codes: Iterable[str]) -> frozenset[str]:
    """Every prefix of every code: 'N05BA04' -> N, N0, N05, N05B, N05BA, N05BA0, N05BA04."""
    return frozenset(code[:n] for code in codes for n in range(1, len(code) + 1))
