"""Duplications: one substance on several lines, or two drugs of one therapeutic class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.drafts import FindingDraft
from pharma_service.models import Category, Severity, Source

_SAME_SUBSTANCE_SOURCE = Source(label="STOPP/START v2", version="2015", reference="STOPP A3")


def check_duplications(ctx: AnalysisContext) -> Iterator[FindingDraft]:
    pack = ctx.kb.duplications
    by_key: dict[str, list[Occurrence]] = defaultdict(list)
    for occ in ctx.occurrences:
        by_key[occ.key].append(occ)
    for key, occs in sorted(by_key.items()):
        if len(occs) < 2:
            continue
        lines = sorted({o.line_index for o in occs})
        if len(lines) < 2:
            continue
        name = occs[0].name
        yield FindingDraft(
            id=f"dup:same-substance|{key}",
            category=Category.DUPLICATION,
            severity=Severity(pack.same_substance_severity),
            drugs=[o.ref for o in occs],
            summary=f"Doublon : {name} présent sur {len(lines)} lignes",
            detail=f"La même substance ({name}) est prescrite sur les lignes "
            + ", ".join(str(i + 1) for i in lines)
            + ". Les doses s'additionnent.",
            recommendation="Vérifier s'il s'agit d'un doublon et n'en garder qu'une ligne.",
            rule="dup:same-substance",
            source=_SAME_SUBSTANCE_SOURCE,
        )

    views = ctx.views.views
    for cls in pack.classes:
        prefixes, excluded = frozenset(cls.atc_prefixes), tuple(cls.exclude_atc_prefixes)
        members = [
            view
            for view in views
            if not prefixes.isdisjoint(view.prefixes)
            and not any(code.startswith(excluded) for code in view.codes)
        ]
        if len(members) < 2 or len({view.keys for view in members}) < 2:
            continue
        names = [", ".join(occ.name for occ, _ in view.substances) for view in members]
        yield FindingDraft(
            id=f"{cls.id}|{'+'.join(str(view.index) for view in members)}",
            category=Category.DUPLICATION,
            severity=Severity(cls.severity),
            drugs=[occ.ref for view in members for occ, _ in view.substances],
            summary=f"Redondance de classe : {cls.label_fr} ({' + '.join(names)})"[:140],
            detail=f"Deux médicaments de la même classe thérapeutique : {' ; '.join(names)}.",
            recommendation="Réévaluer l'intérêt de l'association ; privilégier une seule molécule "
            "à dose optimisée.",
            rule=cls.id,
            source=Source(label="STOPP/START v2", version="2015", reference=cls.source),
        )
