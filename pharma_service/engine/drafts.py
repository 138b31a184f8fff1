"""Findings as the checks build them: plain dataclasses, turned into API models once, at the end.

Checks, merges and the CYP enrichment read and amend drafts freely; the analysis
then validates them into :class:`Finding` and :class:`Unevaluated` in a single call,
reading their attributes (same names and types as the models' fields). Building
and copying a pydantic model at each step cost about a third of an analysis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pharma_service.models import Category, DrugRef, InteractionLevel, Severity, Source


@dataclass(slots=True)
class FindingDraft:
    """The fields of :class:`pharma_service.models.Finding`."""

    id: str
    category: Category
    severity: Severity
    summary: str
    rule: str
    source: Source
    level: InteractionLevel | None = None
    drugs: list[DrugRef] = field(default_factory=list)
    detail: str = ""
    recommendation: str = ""
    related_rules: list[str] = field(default_factory=list)
    status: Literal["confirmed", "to_verify"] = "confirmed"
    missing_data: list[str] = field(default_factory=list)
    codes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class UnevaluatedDraft:
    """The fields of :class:`pharma_service.models.Unevaluated`."""

    rule: str
    category: Category
    drugs: list[DrugRef]
    summary: str
    missing_data: list[str]
    source: Source
    criteria: list[str]
