"""Duplications: one substance on several lines, or two drugs of one therapeutic class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.criteria_index import line_codes
from pharma_service.models import Category, Finding, Severity, Source


def check_duplications(ctx: AnalysisContext) -> Iterator[Finding]:
    pack = ctx.kb.duplications
    by_key: dict[str, list[Occurrence]] = defaultdict(list)
    for occ in ctx.occurrences:
        by_key[occ.key].append(occ)
    for key, occs in sorted(by_key.items()):
        lines = sorted({o.line.index for o in occs})
        if len(lines) < 2:
            continue
        name = occs[0].substance.name
        yield Finding(
            id=f"dup:same-substance|{key}",
            category=Category.DUPLICATION,
            severity=Severity(pack.same_substance_severity),
            drugs=[o.drug_ref() for o in occs],
            summary=f"Doublon : {name} présent sur {len(lines)} lignes",
            detail=f"La même substance ({name}) est prescrite sur les lignes "
            + ", ".join(str(i + 1) for i in lines)
            + ". Les doses s'additionnent.",
            recommendation="Vérifier s'il s'agit d'un doublon et n'en garder qu'une ligne.",
            rule="dup:same-substance",
            source=Source(label="STOPP/START v2", version="2015", reference="STOPP A3"),
        )

    coded = [
        (line, line_codes(line))
        for line in ctx.lines
        if line.status != "unresolved" and line.route != "topical"
    ]
    for cls in pack.classes:
        members = [
            line for line, codes in coded if _in_class(codes, cls.atc_prefixes, cls.exclude_atc_prefixes)
        ]
        substance_sets = {frozenset(s.key for s in line.substances) for line in members}
        if len(members) < 2 or len(substance_sets) < 2:
            continue
        names = [", ".join(s.name for s in line.substances) for line in members]
        yield Finding(
            id=f"{cls.id}|{'+'.join(str(line.index) for line in members)}",
            category=Category.DUPLICATION,
            severity=Severity(cls.severity),
            drugs=[Occurrence(line, s).drug_ref() for line in members for s in line.substances],
            summary=f"Redondance de classe : {cls.label_fr} ({' + '.join(names)})"[:140],
            detail=f"Deux médicaments de la même classe thérapeutique : {' ; '.join(names)}.",
            recommendation="Réévaluer l'intérêt de l'association ; privilégier une seule molécule "
            "à dose optimisée.",
            rule=cls.id,
            source=Source(label="STOPP/START v2", version="2015", reference=cls.source),
        )


def _in_class(codes: set[str], prefixes: list[str], excluded: list[str]) -> bool:
    return any(code.startswith(p) for code in codes for p in prefixes) and not any(
        code.startswith(x) for code in codes for x in excluded
    )
