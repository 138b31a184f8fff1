"""Loaders of the score packs (anticholinergic scales, QT risk), validated strictly at load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pharma_service.engine.loading import read_csv as _csv
from pharma_service.engine.loading import read_yaml as _yaml
from pharma_service.engine.loading import validate as _model
from pharma_service.engine.qt_factors import CompiledFactor, compile_factors
from pharma_service.engine.schemas import QtDrugRow, QtRiskFile, ScaleInfo, ScalesFile, ScoreRow
from pharma_service.errors import KnowledgeBaseError
from pharma_service.referential.store import Referential


@dataclass(frozen=True)
class Scale:
    info: ScaleInfo
    scores: MappingProxyType[str, int]


@dataclass(frozen=True)
class QtKnowledge:
    categories: MappingProxyType[str, tuple[str, ...]]  # substance key -> categories
    sources: MappingProxyType[str, tuple[str, ...]]  # substance key -> source refs
    risk: QtRiskFile
    # Risk-factor drug group (bradycardia, hypokalaemia) -> members of its ANSM classes.
    class_drugs: MappingProxyType[str, frozenset[str]]
    factors: tuple[CompiledFactor, ...]  # the Tisdale factors, compiled


def load_scales(folder: Path, referential: Referential) -> tuple[Scale, ...]:
    path = folder / "scales.yaml"
    spec = _model(ScalesFile, _yaml(path), path)
    scales = []
    for info in spec.scales:
        table = folder / info.file
        scores: dict[str, int] = {}
        for n, row in enumerate(_csv(table), start=2):
            entry = _model(ScoreRow, row, table, f"row {n}")
            _known(entry.substance_key, referential, table, n)
            if entry.score not in info.scores:
                raise KnowledgeBaseError(f"{table}: row {n}: score {entry.score} not in {info.scores}")
            scores[entry.substance_key] = entry.score
        scales.append(Scale(info, MappingProxyType(scores)))
    return tuple(scales)


def load_qt(
    folder: Path, referential: Referential, class_members: Mapping[str, frozenset[str]]
) -> QtKnowledge:
    table = folder / "qt_drugs.csv"
    categories: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    for n, row in enumerate(_csv(table), start=2):
        entry = _model(QtDrugRow, row, table, f"row {n}")
        _known(entry.substance_key, referential, table, n)
        categories.setdefault(entry.substance_key, []).append(entry.category)
        sources.setdefault(entry.substance_key, []).append(entry.source_ref)
    risk_path = folder / "risk_factors.yaml"
    risk = _model(QtRiskFile, _yaml(risk_path), risk_path)
    return QtKnowledge(
        categories=MappingProxyType({k: tuple(dict.fromkeys(v)) for k, v in categories.items()}),
        sources=MappingProxyType({k: tuple(dict.fromkeys(v)) for k, v in sources.items()}),
        risk=risk,
        class_drugs=MappingProxyType(
            {
                group: frozenset().union(*(class_members.get(ref.class_key, ()) for ref in refs))
                for group, refs in risk.ansm_classes.items()
            }
        ),
        factors=compile_factors(risk.tisdale),
    )


def _known(key: str, referential: Referential, path: Path, row: int) -> None:
    if key not in referential.substances:
        raise KnowledgeBaseError(f"{path}: row {row}: unknown substance key {key!r}")
