"""Index of the geriatric criteria, built once at load.

Drug-triggered criteria are reached by ATC prefix and substance key from each
line; condition-triggered ones (omissions) by the ICD-10 prefixes they need, so
that with a list of diagnoses the criteria that cannot fire are never visited.
Whatever reaches them, criteria are evaluated and reported in load order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pharma_service.engine.context import icd10_prefixes
from pharma_service.engine.criteria_when import CompiledWhen, compile_when
from pharma_service.engine.line_views import CompiledSelector, Lines, LineView, code_prefixes
from pharma_service.engine.schemas import Criterion, SourceInfo
from pharma_service.models import Category, Severity, Source


@dataclass(frozen=True, slots=True, eq=False)
class CompiledCriterion:
    """A criterion with what evaluating and reporting it reads, prepared at load."""

    criterion: Criterion
    source: SourceInfo
    position: int  # load order
    drugs: CompiledSelector | None
    when: CompiledWhen
    # Read from the criterion once: attributes of pydantic models are slower to read.
    id: str
    category: Category
    severity: Severity
    severity_rank: int  # 0 = critical
    action: str
    reference: str
    source_id: str
    # Texts as findings and unevaluated entries show them.
    summary: str
    described: str  # "id — summary"
    detail: str  # "[id] rationale"
    cited: str  # "id: reference"
    recommendation: str  # of a finding from this criterion alone
    source_ref: Source  # the criterion's source
    finding_source: Source  # of a finding from this criterion alone


def compile_criterion(crit: Criterion, source: SourceInfo, position: int) -> CompiledCriterion:
    severity = Severity(crit.severity)
    cited = f"{crit.id}: {crit.reference}"
    return CompiledCriterion(
        criterion=crit,
        source=source,
        position=position,
        drugs=CompiledSelector.of(crit.drugs),
        when=compile_when(
            crit.when, CompiledSelector.of(crit.when.with_any), CompiledSelector.of(crit.when.without_any)
        ),
        id=crit.id,
        category=Category(crit.category),
        severity=severity,
        severity_rank=severity.rank,
        action=crit.action,
        reference=crit.reference,
        source_id=source.id,
        summary=crit.summary_fr,
        described=f"{crit.id} — {crit.summary_fr}",
        detail=f"[{crit.id}] {crit.rationale_fr or crit.summary_fr}",
        cited=cited,
        recommendation=recommendation_of([crit]),
        source_ref=Source(label=source.label, version=source.version, reference=crit.reference),
        finding_source=Source(label=source.label, version=source.version, reference=cited),
    )


def recommendation_of(criteria: list[Criterion]) -> str:
    """What a finding merging these criteria recommends: their advice, adjusted doses, alternatives."""
    recommendation = " ".join(_distinct(c.recommendation_fr for c in criteria))
    adjusted = _distinct(c.adjusted_dose_fr for c in criteria)
    if adjusted:
        recommendation = (recommendation + " Dose adaptée : " + " ; ".join(adjusted)).strip()
    alternatives = _distinct(c.alternatives_fr for c in criteria)
    if alternatives:
        recommendation = (recommendation + " Alternatives : " + " ; ".join(alternatives)).strip()
    return recommendation


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


# Criteria by load position: merging buckets with dict.update keeps each criterion once.
Bucket = dict[int, CompiledCriterion]
_REACHED_MEMO_SIZE = 8192  # drug combinations remembered before starting over


@dataclass
class CriteriaIndex:
    """Criteria reachable from a line's ATC codes and substance keys, or from the patient's diagnoses."""

    by_atc_prefix: dict[str, Bucket] = field(default_factory=lambda: defaultdict(dict))
    by_substance: dict[str, Bucket] = field(default_factory=lambda: defaultdict(dict))
    condition_triggered: list[CompiledCriterion] = field(default_factory=list)
    # Condition-triggered criteria by ICD-10 prefix (dots removed), and those needing no diagnosis.
    by_diagnosis: dict[str, Bucket] = field(default_factory=lambda: defaultdict(dict))
    without_diagnosis: Bucket = field(default_factory=dict)
    count: int = 0
    # (ATC codes, substance keys) of a line -> the criteria they reach, in load order. Filled on
    # the first line with those drugs: a pure function of the index, it never changes a result.
    _reached: dict[tuple[tuple[str, ...], frozenset[str]], tuple[CompiledCriterion, ...]] = field(
        default_factory=dict, init=False, repr=False
    )

    def add(self, criterion: Criterion, source: SourceInfo) -> None:
        item = compile_criterion(criterion, source, self.count)
        self.count += 1
        self._reached.clear()
        selector = criterion.drugs
        if selector is None:
            self.condition_triggered.append(item)
            diagnoses = icd10_prefixes(criterion.when.conditions_any)
            if not diagnoses or "" in diagnoses:
                self.without_diagnosis[item.position] = item
            for prefix in diagnoses:
                self.by_diagnosis[prefix][item.position] = item
            return
        for prefix in selector.atc:
            self.by_atc_prefix[prefix][item.position] = item
        for key in selector.substances:
            self.by_substance[key][item.position] = item

    def clear_memos(self) -> None:
        self._reached.clear()

    def drug_candidates(self, lines: Lines) -> list[tuple[CompiledCriterion, list[LineView]]]:
        """The drug-triggered criteria the lines reach, each with those lines.

        Ordered line by line, and within a line in load order.
        """
        found: dict[int, tuple[CompiledCriterion, list[LineView]]] = {}
        for view in lines.views:
            for item in self._reached_by(view.codes, view.keys):
                candidate = found.get(item.position)
                if candidate is None:
                    found[item.position] = (item, [view])
                else:
                    candidate[1].append(view)
        return list(found.values())

    def _reached_by(self, codes: tuple[str, ...], keys: frozenset[str]) -> tuple[CompiledCriterion, ...]:
        reached = self._reached.get((codes, keys))
        if reached is None:
            bucket: Bucket = {}
            for code in codes:
                for prefix in code_prefixes(code):
                    bucket.update(self.by_atc_prefix.get(prefix, ()))
            for key in keys:
                bucket.update(self.by_substance.get(key, ()))
            reached = tuple(bucket[position] for position in sorted(bucket))
            if len(self._reached) >= _REACHED_MEMO_SIZE:
                self._reached.clear()
            self._reached[(codes, keys)] = reached
        return reached

    def condition_triggered_for(self, codes: tuple[str, ...]) -> list[CompiledCriterion]:
        """The condition-triggered criteria that may fire, in load order.

        Without any diagnosis in the request every one may (its diagnosis is unknown);
        with some, only those needing no diagnosis or one of a present code's prefixes.
        """
        if not codes:
            return self.condition_triggered
        reached = dict(self.without_diagnosis)
        for code in codes:
            for n in range(1, len(code) + 1):
                reached.update(self.by_diagnosis.get(code[:n], ()))
        return [reached[position] for position in sorted(reached)]
