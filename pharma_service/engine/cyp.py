"""Quantified CYP interactions: the contribution ratio / inhibition ratio method.

AUC ratio of a substrate with an inhibitor: 1 / (1 - CR x IR) (Ohno et al. 2007);
with an inducer: 1 / (1 + CR x IC) (Ohno et al. 2008). CR is the fraction of the
substrate's oral clearance through the enzyme, IR the inhibitor's apparent
inhibition ratio, IC the inducer's apparent increase of clearance. The values
and the magnitude classes are data (rules/cyp/); this module is the arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from pharma_service.engine.loading import read_csv, read_yaml, validate
from pharma_service.engine.schemas import CypAlternative, CypClass, CypMethod, CypRow
from pharma_service.errors import KnowledgeBaseError
from pharma_service.referential.store import Referential

# CR x IR at 1 makes the formula unbounded: such a pair is reported as a very large increase.
_UNBOUNDED_AUC_RATIO = float("inf")


@dataclass(frozen=True)
class CypKnowledge:
    method: CypMethod
    substrates: MappingProxyType[str, tuple[CypRow, ...]]  # substance key -> rows
    inhibitors: MappingProxyType[str, tuple[CypRow, ...]]
    inducers: MappingProxyType[str, tuple[CypRow, ...]]
    alternatives: MappingProxyType[str, CypAlternative]


@dataclass(frozen=True)
class CypPrediction:
    enzyme: str
    substrate: str
    perpetrator: str
    kind: str  # "inhibition" | "induction"
    auc_ratio: float
    magnitude: str | None  # weak | moderate | strong, None below the weak class


def inhibition_auc_ratio(cr: float, ir: float) -> float:
    product = cr * ir
    return _UNBOUNDED_AUC_RATIO if product >= 1 else 1 / (1 - product)


def induction_auc_ratio(cr: float, ic: float) -> float:
    return 1 / (1 + cr * ic)


def classify(value: float, classes: list[CypClass]) -> str | None:
    for cls in classes:
        if value >= cls.min and (cls.max is None or value < cls.max):
            return cls.id
    return None


def predict(knowledge: CypKnowledge, substrate: str, perpetrator: str) -> list[CypPrediction]:
    out: list[CypPrediction] = []
    for sub in knowledge.substrates.get(substrate, ()):
        for inh in knowledge.inhibitors.get(perpetrator, ()):
            if inh.enzyme == sub.enzyme:
                ratio = inhibition_auc_ratio(sub.value, inh.value)
                out.append(
                    CypPrediction(
                        sub.enzyme,
                        substrate,
                        perpetrator,
                        "inhibition",
                        ratio,
                        classify(ratio, knowledge.method.inhibitor_classes),
                    )
                )
        for ind in knowledge.inducers.get(perpetrator, ()):
            if ind.enzyme == sub.enzyme:
                ratio = induction_auc_ratio(sub.value, ind.value)
                out.append(
                    CypPrediction(
                        sub.enzyme,
                        substrate,
                        perpetrator,
                        "induction",
                        ratio,
                        classify(1 - ratio, knowledge.method.inducer_classes),
                    )
                )
    return out


def load_cyp(folder: Path, referential: Referential) -> CypKnowledge:
    method = validate(CypMethod, read_yaml(folder / "method.yaml"), folder / "method.yaml")
    tables = {}
    for name, column in (("substrates", "cr"), ("inhibitors", "ir"), ("inducers", "ic")):
        path = folder / f"{name}.csv"
        rows: dict[str, list[CypRow]] = {}
        for n, row in enumerate(read_csv(path), start=2):
            fields = {k: v for k, v in row.items() if k != column}
            entry = validate(CypRow, {**fields, "value": row.get(column)}, path, f"row {n}")
            if entry.substance_key not in referential.substances:
                raise KnowledgeBaseError(f"{path}: row {n}: unknown substance key {entry.substance_key!r}")
            if column in ("cr", "ir") and entry.value > 1:
                raise KnowledgeBaseError(f"{path}: row {n}: {column} must be between 0 and 1")
            rows.setdefault(entry.substance_key, []).append(entry)
        tables[name] = MappingProxyType({k: tuple(v) for k, v in rows.items()})
    raw = read_yaml(folder / "alternatives.yaml") or {}
    alternatives = {
        key: validate(CypAlternative, value, folder / "alternatives.yaml", f"key {key!r}")
        for key, value in raw.items()
    }
    return CypKnowledge(
        method, tables["substrates"], tables["inhibitors"], tables["inducers"], MappingProxyType(alternatives)
    )
