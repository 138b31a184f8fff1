"""Lines the service did not understand are findings, never silence."""

from __future__ import annotations

from collections.abc import Iterator

from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.drafts import FindingDraft
from pharma_service.models import Category, LineStatus, Severity, Source

_SOURCE = Source(label="pharma-service", version="1", reference="contrôle de lecture")


def check_unresolved(ctx: AnalysisContext) -> Iterator[FindingDraft]:
    for line in ctx.lines:
        status = line.status
        if status == LineStatus.RESOLVED:
            continue
        shown = line.line if len(line.line) <= 60 else line.line[:59] + "…"
        if status == LineStatus.UNRESOLVED:
            yield FindingDraft(
                id=f"unresolved|{line.index}",
                category=Category.UNRESOLVED,
                severity=Severity.HIGH,
                summary=f"Ligne {line.index + 1} non reconnue : « {shown} »",
                detail="Aucun médicament du référentiel n'a été reconnu sur cette ligne : "
                "ses interactions et risques n'ont PAS été analysés.",
                recommendation="Vérifier la ligne ; saisir la DCI, le nom commercial exact "
                "ou le code CIS/CIP13.",
                rule="unresolved:line",
                source=_SOURCE,
                status="to_verify",
                missing_data=["identification du médicament"],
            )
        elif status == LineStatus.AMBIGUOUS:
            readings = ", ".join(s.name for s in line.substances)
            others = f" ; autres lectures possibles : {', '.join(line.candidates)}" if line.candidates else ""
            yield FindingDraft(
                id=f"ambiguous|{line.index}",
                category=Category.UNRESOLVED,
                severity=Severity.MODERATE,
                summary=f"Ligne {line.index + 1} à confirmer : « {shown} » lu comme {readings}"[:140],
                detail=f"Lecture incertaine (confiance {line.confidence:.2f}) : {readings}{others}. "
                "L'analyse a utilisé la lecture la plus probable.",
                recommendation="Confirmer le médicament prescrit.",
                rule="unresolved:ambiguous",
                source=_SOURCE,
                status="to_verify",
                missing_data=["confirmation du médicament"],
                drugs=[],
            )
