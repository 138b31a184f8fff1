"""The PPP document: problems coded with Act-IP, proposals, RCP decision fields, follow-up."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from pharma_service.models import DrugRef, Source


class PlanModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class ActIpCode(PlanModel):
    code: str
    label: str


class RcpDecision(PlanModel):
    """Filled in at the RCP; empty in a generated plan."""

    status: Literal["pending", "accepted", "accepted_with_changes", "not_accepted"] = "pending"
    comment: str = ""


class PlanProblem(PlanModel):
    number: int
    priority: int = Field(description="1 is the most urgent.")
    severity: str
    title: str
    drugs: list[DrugRef]
    problem: ActIpCode
    intervention: ActIpCode
    proposal: str
    rationale: str
    monitoring: list[str]
    sources: list[Source]
    findings: list[str] = Field(description="Ids of the findings merged into this problem.")
    status: Literal["confirmed", "to_verify"]
    missing_data: list[str] = Field(default_factory=list)
    decision: RcpDecision = Field(default_factory=RcpDecision)


class TreatmentRow(PlanModel):
    line: int
    drug: str
    substances: str
    posology: str
    status: str


class FollowUp(PlanModel):
    days: int
    due: date


class Ppp(PlanModel):
    title: str = "Plan Pharmaceutique Personnalisé"
    plan_date: date
    patient: dict[str, Any]
    treatment: list[TreatmentRow]
    problems: list[PlanProblem]
    lines_to_check: list[str] = Field(description="Lines the service could not read with certainty.")
    unevaluated: list[str]
    scores: dict[str, Any]
    eligibility: dict[str, Any]
    participants: list[str]
    follow_up: list[FollowUp]
    coding_source: Source
    knowledge: dict[str, str]
