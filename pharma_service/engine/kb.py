"""The knowledge base: rule files from rules/, validated once, compiled into indexes.

After :meth:`KnowledgeBase.load` the object is never mutated, so one instance is
shared by the API, the CLI and batch jobs. Analysing a list costs dictionary
lookups over its pairs of substances, never a scan of the rules.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pharma_service.engine.schemas import (
    CodeLabel,
    ConditionEntry,
    DuplicationPack,
    InteractionRow,
)
from pharma_service.errors import KnowledgeBaseError
from pharma_service.referential.store import Referential

DEFAULT_RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
ANSM_LABEL = "ANSM Thésaurus des interactions médicamenteuses"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class InteractionRule:
    """One level of one thesaurus entry, with its sides as written by ANSM."""

    id: str
    entry: tuple[str, str]  # (a_key, b_key): the rows of one entry are evaluated together
    a_name: str
    b_name: str
    level: str
    condition: str
    risks: tuple[str, ...]
    actions: tuple[str, ...]
    source_version: str


class KnowledgeBase:
    def __init__(
        self,
        *,
        referential: Referential,
        interactions: tuple[InteractionRule, ...],
        pair_index: Mapping[tuple[str, str], tuple[int, ...]],
        class_members: Mapping[str, frozenset[str]],
        conditions: Mapping[str, ConditionEntry],
        risk_codes: Mapping[str, CodeLabel],
        action_codes: Mapping[str, CodeLabel],
        duplications: DuplicationPack,
        versions: Mapping[str, str],
    ) -> None:
        self.referential = referential
        self.interactions = interactions
        self.pair_index = MappingProxyType(dict(pair_index))
        self.class_members = MappingProxyType(dict(class_members))
        self.conditions = MappingProxyType(dict(conditions))
        self.risk_codes = MappingProxyType(dict(risk_codes))
        self.action_codes = MappingProxyType(dict(action_codes))
        self.duplications = duplications
        self.versions = MappingProxyType(dict(versions))

    def interaction_rules(self, a: str, b: str) -> tuple[InteractionRule, ...]:
        """Rules between two different substance keys, in either direction."""
        if a == b:
            return ()
        key = (a, b) if a < b else (b, a)
        return tuple(self.interactions[i] for i in self.pair_index.get(key, ()))

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls, rules_dir: Path = DEFAULT_RULES_DIR, *, referential: Referential | None = None
    ) -> KnowledgeBase:
        referential = referential or Referential.load()
        inter_dir = rules_dir / "interactions"
        class_members = _load_classes(inter_dir / "ansm_classes.csv")
        rows = [
            _validate(
                InteractionRow,
                row,
                inter_dir / "ansm_interactions.csv",
                f"row {n} ({row.get('id')})",
            )
            for n, row in enumerate(_read_csv(inter_dir / "ansm_interactions.csv"), start=2)
        ]
        conditions = _load_mapping(ConditionEntry, inter_dir / "conditions.yaml")
        risk_codes = _load_mapping(CodeLabel, inter_dir / "risk_codes.yaml")
        action_codes = _load_mapping(CodeLabel, inter_dir / "action_codes.yaml")
        interactions, pair_index = _compile_interactions(
            rows, class_members, conditions, risk_codes, action_codes, inter_dir
        )
        dup_path = rules_dir / "duplications" / "classes.yaml"
        duplications = _validate(DuplicationPack, _read_yaml(dup_path), dup_path, "the file")
        versions = {
            "referential": referential.version,
            "ansm_interactions": ",".join(sorted({r.source_version for r in rows})),
            "duplications": duplications.version,
        }
        return cls(
            referential=referential,
            interactions=interactions,
            pair_index=pair_index,
            class_members=class_members,
            conditions=conditions,
            risk_codes=risk_codes,
            action_codes=action_codes,
            duplications=duplications,
            versions=versions,
        )


def _compile_interactions(
    rows: list[InteractionRow],
    class_members: Mapping[str, frozenset[str]],
    conditions: Mapping[str, ConditionEntry],
    risk_codes: Mapping[str, CodeLabel],
    action_codes: Mapping[str, CodeLabel],
    path: Path,
) -> tuple[tuple[InteractionRule, ...], dict[tuple[str, str], tuple[int, ...]]]:
    """Expand classes to members once, so a lookup is one dictionary access per pair."""
    file = path / "ansm_interactions.csv"
    rules: list[InteractionRule] = []
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in rows:
        risks = tuple(code for code in row.risk.split(";") if code)
        actions = tuple(code for code in row.actions.split(";") if code)
        for code in risks:
            if code not in risk_codes:
                raise KnowledgeBaseError(f"{file}: {row.id}: unknown risk code {code!r}")
        for code in actions:
            if code not in action_codes:
                raise KnowledgeBaseError(f"{file}: {row.id}: unknown action code {code!r}")
        if row.condition and row.condition not in conditions:
            raise KnowledgeBaseError(f"{file}: {row.id}: unknown condition {row.condition!r}")
        sides = []
        for kind, key in ((row.a_kind, row.a_key), (row.b_kind, row.b_key)):
            if kind == "class":
                if key not in class_members:
                    raise KnowledgeBaseError(f"{file}: {row.id}: unknown class {key!r}")
                sides.append(class_members[key])
            else:
                sides.append(frozenset({key}))
        number = len(rules)
        rules.append(
            InteractionRule(
                id=row.id,
                entry=(row.a_key, row.b_key),
                a_name=row.a_name,
                b_name=row.b_name,
                level=row.level,
                condition=row.condition,
                risks=risks,
                actions=actions,
                source_version=row.source_version,
            )
        )
        for a in sides[0]:
            for b in sides[1]:
                if a != b:
                    index[(a, b) if a < b else (b, a)].append(number)
    return tuple(rules), {pair: tuple(dict.fromkeys(ids)) for pair, ids in index.items()}


def _load_classes(path: Path) -> dict[str, frozenset[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for n, row in enumerate(_read_csv(path), start=2):
        try:
            members[row["class_key"]].add(row["member_key"])
        except KeyError as exc:
            raise KnowledgeBaseError(f"{path}: row {n}: missing column {exc}") from exc
    return {k: frozenset(v) for k, v in members.items()}


def _load_mapping(model: type[M], path: Path) -> dict[str, M]:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise KnowledgeBaseError(f"{path}: expected a mapping of id to entry")
    return {str(key): _validate(model, value, path, f"key {key!r}") for key, value in data.items()}


def _validate(model: type[M], data: Any, path: Path, where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
        )
        raise KnowledgeBaseError(f"{path}: {where}: {problems}") from exc


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    except OSError as exc:
        raise KnowledgeBaseError(f"cannot read rule file {path}: {exc}") from exc


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeBaseError(f"cannot read rule file {path}: {exc}") from exc
