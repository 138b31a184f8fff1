"""The services shared by the CLI, the API and batch jobs: keyword-only, no hidden state."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pharma_service.engine.analyse import analyse
from pharma_service.engine.kb import DEFAULT_RULES_DIR, KnowledgeBase
from pharma_service.models import Analysis, AnalysisRequest
from pharma_service.plan.builder import plan
from pharma_service.plan.models import Ppp
from pharma_service.referential.normaliser import Normaliser
from pharma_service.referential.store import DEFAULT_DIR, Referential


@dataclass(frozen=True)
class Engine:
    """The loaded knowledge: built once at start-up, then shared read-only."""

    kb: KnowledgeBase
    normaliser: Normaliser

    @classmethod
    def load(cls, *, rules_dir: Path = DEFAULT_RULES_DIR, referential_dir: Path = DEFAULT_DIR) -> Engine:
        referential = Referential.load(referential_dir)
        kb = KnowledgeBase.load(rules_dir, referential=referential)
        return cls(kb=kb, normaliser=Normaliser(referential))


def analyse_request(request: AnalysisRequest, *, engine: Engine) -> Analysis:
    meds = engine.normaliser.normalise(request.medications)
    return analyse(meds, request.patient, kb=engine.kb)


def plan_request(request: AnalysisRequest, *, engine: Engine) -> Ppp:
    """The PPP of a request, dated at the patient's reference date (default today)."""
    analysis = analyse_request(request, engine=engine)
    return plan(analysis, kb=engine.kb, plan_date=request.patient.reference_date)
