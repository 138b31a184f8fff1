"""The knowledge base: rule files from rules/, validated once, compiled into indexes.

After :meth:`KnowledgeBase.load` the object is never mutated, so one instance is
shared by the API, the CLI and batch jobs. Analysing a list costs dictionary
lookups over its pairs of substances, never a scan of the rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from pydantic import BaseModel

from pharma_service.engine.conditions import ConditionTest, compile_condition
from pharma_service.engine.context import drug_ref
from pharma_service.engine.criteria_index import CriteriaIndex
from pharma_service.engine.cyp import CypKnowledge, load_cyp
from pharma_service.engine.line_views import code_prefixes, line_shape
from pharma_service.engine.loading import read_csv as _read_csv
from pharma_service.engine.loading import read_yaml as _read_yaml
from pharma_service.engine.loading import validate as _validate
from pharma_service.engine.packs import QtKnowledge, Scale, load_qt, load_scales
from pharma_service.engine.schemas import (
    ActIpFile,
    CodeLabel,
    ConditionEntry,
    CriteriaPack,
    DuplicationPack,
    InteractionRow,
    Programme,
    ProgrammesFile,
    VaccineCalendar,
)
from pharma_service.errors import KnowledgeBaseError
from pharma_service.models import Source
from pharma_service.referential.store import Referential

DEFAULT_RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
ANSM_LABEL = "ANSM Thésaurus des interactions médicamenteuses"
LEVELS = ("CI", "ASDEC", "PE", "APEC")
# Folders of rules/ holding criteria packs (pim, renal, dose, omission).
CRITERIA_DIRS = ("pim", "renal", "dose", "omissions")

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True, eq=False)
class InteractionRule:
    """One level of one thesaurus entry, with its sides as written by ANSM (compared by identity)."""

    id: str
    entry: tuple[str, str]  # (a_key, b_key): the rows of one entry are evaluated together
    a_name: str
    b_name: str
    level: str
    condition: str
    risks: tuple[str, ...]
    actions: tuple[str, ...]
    source_version: str
    # Derived once at load so that building a finding is string assembly only.
    rank: int  # 0 = CI, the most constraining
    risk_labels: tuple[str, ...]
    recommendation: str
    source: Source
    entry_names: frozenset[str]  # both sides, lower case: is the finding's pair the entry itself?
    # Sentences of the finding that depend on the row alone.
    summary_risk: str  # " (first risk)", or ""
    risk_sentence: str  # "Risque : ...", or ""
    entry_sentence: str  # "Règle du thésaurus : A + B."
    condition_label: str
    condition_test: ConditionTest | None  # compiled from the condition; None when unconditional


@dataclass(frozen=True, slots=True, eq=False)
class EntryRules:
    """The rows of one thesaurus entry that cover a pair of substances: one finding at most."""

    rules: tuple[InteractionRule, ...]
    levels: tuple[str, ...]  # the rows' levels, the most constraining first


class KnowledgeBase:
    def __init__(
        self,
        *,
        referential: Referential,
        interactions: tuple[InteractionRule, ...],
        pair_index: Mapping[tuple[str, str], tuple[InteractionRule, ...]],
        class_members: Mapping[str, frozenset[str]],
        conditions: Mapping[str, ConditionEntry],
        risk_codes: Mapping[str, CodeLabel],
        action_codes: Mapping[str, CodeLabel],
        duplications: DuplicationPack,
        criteria: CriteriaIndex,
        criteria_packs: tuple[CriteriaPack, ...],
        scales: tuple[Scale, ...],
        qt: QtKnowledge,
        cyp: CypKnowledge,
        vaccines: VaccineCalendar,
        programmes: tuple[Programme, ...],
        actip: ActIpFile,
        versions: Mapping[str, str],
    ) -> None:
        self.referential = referential
        self.interactions = interactions
        self.pair_index = MappingProxyType(dict(pair_index))
        # The same rules grouped by thesaurus entry, in the order of the index.
        self.pair_entries = MappingProxyType(_group_by_entry(pair_index))
        self.class_members = MappingProxyType(dict(class_members))
        self.conditions = MappingProxyType(dict(conditions))
        self.risk_codes = MappingProxyType(dict(risk_codes))
        self.action_codes = MappingProxyType(dict(action_codes))
        self.duplications = duplications
        self.criteria = criteria
        self.criteria_packs = criteria_packs
        self.scales = scales
        self.qt = qt
        self.cyp = cyp
        self.vaccines = vaccines
        self.programmes = programmes
        self.actip = actip
        self.versions = MappingProxyType(dict(versions))

    def interaction_rules(self, a: str, b: str) -> tuple[InteractionRule, ...]:
        """Rules between two different substance keys, in either direction."""
        if a == b:
            return ()
        return self.pair_index.get((a, b) if a < b else (b, a), ())

    def clear_memos(self) -> None:
        """Forget what analyses memoised about drugs (criteria reached, ATC prefixes, names): for cold
        measurements. Each memo is a pure function of its drugs, so this never changes a result."""
        self.criteria.clear_memos()
        code_prefixes.cache_clear()
        line_shape.cache_clear()
        drug_ref.cache_clear()

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(
        cls, rules_dir: Path = DEFAULT_RULES_DIR, *, referential: Referential | None = None
    ) -> KnowledgeBase:
        referential = referential or Referential.load()
        inter_dir = rules_dir / "interactions"
        class_members = _load_classes(inter_dir / "ansm_classes.csv")
        groups = _load_groups(inter_dir / "substance_groups.csv", referential)
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
            rows, class_members, groups, conditions, risk_codes, action_codes, inter_dir
        )
        dup_path = rules_dir / "duplications" / "classes.yaml"
        duplications = _validate(DuplicationPack, _read_yaml(dup_path), dup_path, "the file")
        criteria, packs = _load_criteria(rules_dir, referential)
        scales = load_scales(rules_dir / "anticholinergic", referential)
        qt = load_qt(rules_dir / "qt", referential, class_members)
        cyp = load_cyp(rules_dir / "cyp", referential)
        vaccines_path = rules_dir / "vaccines" / "calendar_fr.yaml"
        vaccines = _validate(VaccineCalendar, _read_yaml(vaccines_path), vaccines_path)
        programmes_path = rules_dir / "eligibility" / "programmes.yaml"
        programmes = _validate(ProgrammesFile, _read_yaml(programmes_path), programmes_path).programmes
        actip_path = rules_dir / "ppp" / "actip.yaml"
        actip = _validate(ActIpFile, _read_yaml(actip_path), actip_path)
        for rule in actip.coding:
            if rule.problem not in actip.problems or rule.intervention not in actip.interventions:
                raise KnowledgeBaseError(f"{actip_path}: coding {rule.match}: unknown Act-IP code")
        versions = {
            "referential": referential.version,
            "ansm_interactions": ",".join(sorted({r.source_version for r in rows})),
            "duplications": duplications.version,
            **{pack.source.id: pack.source.version for pack in packs},
            **{scale.info.id: scale.info.version for scale in scales},
            "qt": qt.risk.tisdale.id,
            "vaccines": vaccines.version,
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
            criteria=criteria,
            criteria_packs=packs,
            scales=scales,
            qt=qt,
            cyp=cyp,
            vaccines=vaccines,
            programmes=tuple(programmes),
            actip=actip,
            versions=versions,
        )


def _compile_interactions(
    rows: list[InteractionRow],
    class_members: Mapping[str, frozenset[str]],
    groups: Mapping[str, frozenset[str]],
    conditions: Mapping[str, ConditionEntry],
    risk_codes: Mapping[str, CodeLabel],
    action_codes: Mapping[str, CodeLabel],
    path: Path,
) -> tuple[tuple[InteractionRule, ...], dict[tuple[str, str], tuple[InteractionRule, ...]]]:
    """Expand classes to members once, so a lookup is one dictionary access per pair."""
    file = path / "ansm_interactions.csv"
    tests = {key: compile_condition(entry.evaluate) for key, entry in conditions.items()}
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
                members = class_members[key]
            else:
                members = frozenset({key})
            # ANSM names ions and some spellings differently from BDPM ("POTASSIUM").
            sides.append(frozenset().union(members, *(groups.get(m, ()) for m in members)))
        number = len(rules)
        risk_labels = tuple(risk_codes[c].label_fr for c in risks)
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
                rank=LEVELS.index(row.level),
                risk_labels=risk_labels,
                recommendation="; ".join(action_codes[c].label_fr for c in actions),
                source=Source(
                    label=ANSM_LABEL, version=row.source_version, reference=f"{row.a_name} + {row.b_name}"
                ),
                entry_names=frozenset({row.a_name.lower(), row.b_name.lower()}),
                summary_risk=f" ({risk_labels[0].lower()})" if risk_labels else "",
                risk_sentence=f"Risque : {'; '.join(risk_labels)}." if risk_labels else "",
                entry_sentence=f"Règle du thésaurus : {row.a_name} + {row.b_name}.",
                condition_label=conditions[row.condition].label_fr if row.condition else "",
                condition_test=tests[row.condition] if row.condition else None,
            )
        )
        for a in sides[0]:
            for b in sides[1]:
                if a != b:
                    index[(a, b) if a < b else (b, a)].append(number)
    return tuple(rules), {pair: tuple(rules[i] for i in dict.fromkeys(ids)) for pair, ids in index.items()}


def _group_by_entry(
    pair_index: Mapping[tuple[str, str], tuple[InteractionRule, ...]],
) -> dict[tuple[str, str], tuple[EntryRules, ...]]:
    shared: dict[tuple[InteractionRule, ...], EntryRules] = {}  # many pairs share an entry's rows

    def entry_rules(rules: tuple[InteractionRule, ...]) -> EntryRules:
        entry = shared.get(rules)
        if entry is None:
            levels = tuple(r.level for r in sorted(rules, key=lambda r: r.rank))
            entry = shared[rules] = EntryRules(rules, levels)
        return entry

    grouped: dict[tuple[str, str], tuple[EntryRules, ...]] = {}
    for pair, rules in pair_index.items():
        if len(rules) == 1:
            grouped[pair] = (entry_rules(rules),)
            continue
        by_entry: dict[tuple[str, str], list[InteractionRule]] = {}
        for rule in rules:
            by_entry.setdefault(rule.entry, []).append(rule)
        grouped[pair] = tuple(entry_rules(tuple(group)) for group in by_entry.values())
    return grouped


def _load_criteria(
    rules_dir: Path, referential: Referential
) -> tuple[CriteriaIndex, tuple[CriteriaPack, ...]]:
    index = CriteriaIndex()
    packs: list[CriteriaPack] = []
    ids: dict[str, Path] = {}
    for folder in CRITERIA_DIRS:
        for path in sorted((rules_dir / folder).glob("*.yaml")):
            pack = _validate(CriteriaPack, _read_yaml(path), path, "the file")
            for crit in pack.criteria:
                if crit.id in ids:
                    raise KnowledgeBaseError(
                        f"{path}: criterion id {crit.id!r} already used in {ids[crit.id]}"
                    )
                ids[crit.id] = path
                if not crit.id.startswith(pack.source.id + ":"):
                    raise KnowledgeBaseError(f"{path}: {crit.id}: ids must start with {pack.source.id!r}:")
                for selector in (crit.drugs, crit.when.with_any, crit.when.without_any):
                    for key in (
                        [] if selector is None else [*selector.substances, *selector.exclude_substances]
                    ):
                        if key not in referential.substances:
                            raise KnowledgeBaseError(
                                f"{path}: {crit.id}: unknown substance key {key!r} "
                                "(see datasets/referential/substances.csv)"
                            )
                index.add(crit, pack.source)
            packs.append(pack)
    return index, tuple(packs)


def _load_groups(path: Path, referential: Referential) -> dict[str, frozenset[str]]:
    """Curated: an ANSM substance name -> the referential substances it designates."""
    groups: dict[str, set[str]] = defaultdict(set)
    for n, row in enumerate(_read_csv(path), start=2):
        member = row.get("member_key", "")
        if member not in referential.substances:
            raise KnowledgeBaseError(f"{path}: row {n}: unknown substance key {member!r}")
        groups[row["ansm_key"]].add(member)
    return {k: frozenset(v) for k, v in groups.items()}


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
