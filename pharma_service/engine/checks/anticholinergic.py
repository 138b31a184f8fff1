"""Anticholinergic burden: per-drug scores and totals per scale, a finding when high.

A substance counts once, whatever the number of lines. A scale whose table is
incomplete gives a lower bound: it can report "high", never "low".
"""

from __future__ import annotations

from typing import Any

from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.drafts import FindingDraft
from pharma_service.models import Category, DrugRef, Severity, Source


def anticholinergic_scores(ctx: AnalysisContext) -> tuple[dict[str, Any], list[FindingDraft]]:
    scores: dict[str, Any] = {}
    findings: list[FindingDraft] = []
    for scale in ctx.kb.scales:
        contributors: dict[str, DrugRef] = {}
        points: dict[str, int] = {}
        for occ in ctx.occurrences:
            score = scale.scores.get(occ.key)
            if score is not None and occ.key not in points:
                points[occ.key] = score
                contributors[occ.key] = occ.ref
        total = sum(points.values())
        info = scale.info
        high = total >= info.threshold_high
        scores[info.id] = {
            "label": info.label,
            "total": total,
            "threshold_high": info.threshold_high,
            "high": high,
            "complete": info.complete,
            "interpretation": (
                "élevée" if high else ("faible" if info.complete else "borne basse (table incomplète)")
            ),
            "drugs": [
                {"name": contributors[k].name, "line": contributors[k].line, "score": points[k]}
                for k in sorted(points, key=lambda k: (-points[k], k))
            ],
        }
        if high:
            names = ", ".join(f"{contributors[k].name} ({points[k]})" for k in sorted(points))
            findings.append(
                FindingDraft(
                    id=f"{info.id}:high",
                    category=Category.ANTICHOLINERGIC,
                    severity=Severity.MODERATE,
                    drugs=[contributors[k] for k in sorted(points)],
                    summary=f"Charge anticholinergique élevée : {info.label} = {total} "
                    f"(seuil {info.threshold_high})",
                    detail=f"Médicaments contributeurs : {names}. Risques chez le sujet âgé : confusion, "
                    "troubles cognitifs, chutes, constipation, rétention urinaire.",
                    recommendation="Réévaluer les médicaments les plus anticholinergiques ; privilégier "
                    "des alternatives sans effet anticholinergique.",
                    rule=f"{info.id}:high",
                    source=Source(label=info.label, version=info.version, reference=info.citation),
                    codes={"total": total, "threshold": info.threshold_high},
                )
            )
    return scores, findings
