"""Attach CR/IR predictions to interaction findings, or report the pair when ANSM is silent."""

from __future__ import annotations

import math

from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.cyp import CypPrediction, predict
from pharma_service.engine.drafts import FindingDraft
from pharma_service.models import Category, Severity, Source

_SEVERITY = {"strong": Severity.HIGH, "moderate": Severity.MODERATE, "weak": Severity.LOW}
_MAGNITUDE_FR = {"strong": "forte", "moderate": "modérée", "weak": "faible"}


def apply_cyp(ctx: AnalysisContext, findings: list[FindingDraft]) -> list[FindingDraft]:
    knowledge = ctx.kb.cyp
    if not knowledge.substrates:
        return findings
    out = list(findings)
    occurrences = ctx.occurrences
    for sub in occurrences:
        for perp in occurrences:
            if sub.line_index == perp.line_index or sub.key == perp.key:
                continue
            predictions = [p for p in predict(knowledge, sub.key, perp.key) if p.magnitude]
            if not predictions:
                continue
            best = max(predictions, key=lambda p: abs(math.log(p.auc_ratio)) if p.auc_ratio > 0 else 0)
            alternatives = _alternatives(ctx, sub.key, best.enzyme)
            facts = _facts(best, alternatives)
            pair = {sub.key, perp.key}
            match = next(
                (
                    i
                    for i, f in enumerate(out)
                    if f.category == Category.INTERACTION
                    and {d.name for d in f.drugs} >= {sub.name, perp.name}
                    and "cyp" not in f.codes
                ),
                None,
            )
            text = _sentence(best, sub.name, perp.name, alternatives)
            if match is not None:
                found = out[match]
                found.detail = f"{found.detail} {text}".strip()
                found.codes = {**found.codes, "cyp": facts}
                continue
            out.append(
                FindingDraft(
                    id=f"cyp:{best.enzyme}:{'+'.join(sorted(pair))}",
                    category=Category.INTERACTION,
                    severity=_SEVERITY[best.magnitude or "weak"],
                    drugs=[sub.ref, perp.ref],
                    summary=(
                        f"Interaction {best.enzyme} prédite : {sub.name} + "
                        f"{perp.name} (AUC x{_ratio(best.auc_ratio)})"
                    )[:140],
                    detail=text,
                    recommendation="Surveiller l'efficacité et la tolérance ; "
                    "adapter la dose ou changer de molécule.",
                    rule=f"cyp:{best.enzyme}:{sub.key}+{perp.key}",
                    source=Source(
                        label="Méthode CR/IR (Ohno 2007 ; Tod 2014)",
                        version="1",
                        reference=ctx.kb.cyp.method.inhibition.source_ref,
                    ),
                    codes={"cyp": facts},
                )
            )
    return out


def _alternatives(ctx: AnalysisContext, substrate: str, enzyme: str) -> list[str]:
    """Alternatives not depending on the pathway and without an ANSM interaction with the list."""
    entry = ctx.kb.cyp.alternatives.get(substrate)
    if entry is None or entry.enzyme != enzyme:
        return []
    others = {o.key for o in ctx.occurrences if o.key != substrate}
    names = []
    for alt in entry.alternatives:
        if any(ctx.kb.interaction_rules(alt, other) for other in others):
            continue
        subst = ctx.kb.referential.substances.get(alt)
        names.append(subst.name if subst else alt)
    return names


def _facts(p: CypPrediction, alternatives: list[str]) -> dict[str, object]:
    return {
        "enzyme": p.enzyme,
        "kind": p.kind,
        "substrate": p.substrate,
        "perpetrator": p.perpetrator,
        "predicted_auc_ratio": None if math.isinf(p.auc_ratio) else round(p.auc_ratio, 2),
        "magnitude": p.magnitude,
        "alternatives": alternatives,
    }


def _ratio(value: float) -> str:
    return "très élevé" if math.isinf(value) else f"{value:.1f}"


def _sentence(p: CypPrediction, substrate: str, perpetrator: str, alternatives: list[str]) -> str:
    effect = "augmentation" if p.kind == "inhibition" else "diminution"
    text = (
        f"Prédiction {p.enzyme} (méthode CR/IR) : {effect} {_MAGNITUDE_FR[p.magnitude or 'weak']} de "
        f"l'exposition à {substrate} par {perpetrator} (rapport d'AUC {_ratio(p.auc_ratio)})."
    )
    if alternatives:
        text += f" Alternatives ne dépendant pas du {p.enzyme} : {', '.join(alternatives)}."
    return text
