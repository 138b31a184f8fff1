"""Schemas of the rule files in rules/: validated strictly at load.

Unknown keys are errors, so a typo in a rule file fails loudly at start-up with
the file and the key, instead of silently disabling a rule.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class RuleModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(RuleModel):
    min: float | None = None
    max: float | None = None

    def contains(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value < self.max)


class DoseCondition(RuleModel):
    """True when the substance is on the list with a dose in every range given.

    With no range at all, it only asks whether the substance is on the list.
    """

    kind: Literal["dose"]
    substance: str
    per_intake_mg: Range | None = None
    daily_mg: Range | None = None
    weekly_mg: Range | None = None


class DiagnosisCondition(RuleModel):
    kind: Literal["diagnosis"]
    icd10_prefixes: list[str]
    present: bool = True


class AgeCondition(RuleModel):
    kind: Literal["age"]
    min: int | None = None
    max: int | None = None


class ManualCondition(RuleModel):
    kind: Literal["manual"]


class AllCondition(RuleModel):
    kind: Literal["all"]
    of: list[ConditionSpec]


class AnyCondition(RuleModel):
    kind: Literal["any"]
    of: list[ConditionSpec]


ConditionSpec = Annotated[
    DoseCondition | DiagnosisCondition | AgeCondition | ManualCondition | AllCondition | AnyCondition,
    Field(discriminator="kind"),
]
AllCondition.model_rebuild()
AnyCondition.model_rebuild()


class ConditionEntry(RuleModel):
    label_fr: str
    evaluate: ConditionSpec


class CodeLabel(RuleModel):
    label_fr: str
    label_en: str


class InteractionRow(RuleModel):
    """One row of rules/interactions/ansm_interactions.csv."""

    id: str
    a_key: str
    a_name: str
    a_kind: Literal["substance", "class"]
    b_key: str
    b_name: str
    b_kind: Literal["substance", "class"]
    level: Literal["CI", "ASDEC", "PE", "APEC"]
    condition: str = ""
    risk: str
    actions: str = ""
    source_version: str


class DuplicationClass(RuleModel):
    """A therapeutic class where two different drugs are a duplication."""

    id: str
    label_fr: str
    atc_prefixes: list[Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}[A-Z]{0,2}[0-9]{0,2}$")]]
    exclude_atc_prefixes: list[str] = Field(default_factory=list)
    severity: Literal["high", "moderate", "low"] = "moderate"
    source: str
    note: str = ""


class DuplicationPack(RuleModel):
    pack: Literal["duplications"]
    version: str
    source: str
    same_substance_severity: Literal["high", "moderate"] = "high"
    classes: list[DuplicationClass]


# --------------------------------------------------------------------------- geriatric criteria
# One schema serves inappropriate drugs (pim), renal limits (renal), dose limits
# (dose) and omissions (omission): a trigger (drugs and/or conditions) and
# conditions that must all hold. What the request cannot tell is reported as
# "to verify" with the missing data named, never passed or failed silently.


class DrugSelector(RuleModel):
    """Lines matching any ATC prefix or substance key, minus the excluded ATC prefixes."""

    atc: list[Annotated[str, Field(pattern=r"^[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?$")]] = Field(
        default_factory=list
    )
    substances: list[str] = Field(default_factory=list)
    exclude_atc: list[str] = Field(default_factory=list)
    exclude_substances: list[str] = Field(default_factory=list)


class DoseLimit(RuleModel):
    value: float
    unit: Literal["mg", "µg", "UI"] = "mg"


class CriterionWhen(RuleModel):
    min_age: int | None = None
    conditions_any: list[str] = Field(default_factory=list, description="ICD-10 prefixes")
    conditions_none: list[str] = Field(default_factory=list)
    crcl_below: float | None = Field(default=None, description="ml/min, exclusive")
    crcl_at_least: float | None = None
    daily_dose_above: DoseLimit | None = Field(default=None, description="exclusive")
    daily_dose_at_least: DoseLimit | None = None
    duration_days_above: float | None = None
    regular_use: bool | None = Field(default=None, description="True: not 'as needed'")
    with_any: DrugSelector | None = None
    without_any: DrugSelector | None = None
    min_count: int | None = Field(default=None, description="Lines matching `drugs` at least")
    labs: dict[str, Range] = Field(default_factory=dict, description="Lab name -> range that fires")


class Criterion(RuleModel):
    id: str = Field(pattern=r"^[a-z0-9]+:[A-Za-z0-9_.\-]+$")
    category: Literal["pim", "renal", "dose", "omission"]
    reference: str = Field(description="Table, criterion number or SmPC section in the source.")
    drugs: DrugSelector | None = None
    when: CriterionWhen = Field(default_factory=CriterionWhen)
    severity: Literal["critical", "high", "moderate", "low", "info"]
    action: Literal[
        "avoid", "contraindicated", "reduce_dose", "monitor", "start", "review", "use_with_caution"
    ]
    summary_fr: Annotated[str, Field(max_length=140)]
    rationale_fr: str = ""
    recommendation_fr: str = ""
    alternatives_fr: str = ""
    adjusted_dose_fr: str = ""


class SourceInfo(RuleModel):
    id: str
    label: str
    citation: str
    version: str
    verification: str = Field(
        default="", description="How the encoded criteria were checked against the source; shown to users."
    )


class CriteriaPack(RuleModel):
    pack: str
    source: SourceInfo
    criteria: list[Criterion]


# --------------------------------------------------------------------------- scores


class ScaleInfo(RuleModel):
    id: str
    label: str
    citation: str
    version: str
    file: str
    scores: list[int]
    threshold_high: int
    complete: bool
    description_fr: str


class ScalesFile(RuleModel):
    scales: list[ScaleInfo]


class ScoreRow(RuleModel):
    substance_key: str
    score: int
    source_ref: str


class QtDrugRow(RuleModel):
    substance_key: str
    category: Literal["known", "possible", "conditional", "ansm_torsadogenic"]
    source: str
    source_ref: str


class FactorEval(RuleModel):
    kind: Literal["patient", "lab", "diagnosis", "drugs", "qt_drugs"]
    field: str | None = None
    op: Literal[">=", "<=", "==", ">", "<"] | None = None
    value: float | str | None = None
    icd10_prefixes: list[str] = Field(default_factory=list)
    atc_prefixes: list[str] = Field(default_factory=list)
    min_count: int | None = None


class TisdaleFactor(RuleModel):
    id: str
    points: int
    label_fr: str
    evaluate: FactorEval


class Band(RuleModel):
    id: str
    min: int
    max: int


class TisdaleScore(RuleModel):
    id: str
    label: str
    citation: str
    population: str
    outcome: str
    max_score: int
    bands: list[Band]
    factors: list[TisdaleFactor]


class AnsmClassRef(RuleModel):
    name: str
    class_key: str
    members: int


class QtRiskFile(RuleModel):
    tisdale: TisdaleScore
    ansm_classes: dict[str, list[AnsmClassRef]]


# --------------------------------------------------------------------------- vaccines, eligibility


class VaccineInterval(RuleModel):
    type: Literal["yearly", "once", "series", "at_ages"]
    season: Literal["autumn", "spring"] | None = None
    min_months_since_last: int | None = None
    doses: int | None = None
    dose_interval_months: int | None = None
    max_interval_months: int | None = None
    ages: list[int] = Field(default_factory=list)
    then_every_years: int | None = None


class VaccineEntry(RuleModel):
    id: str
    vaccine_label_fr: str
    history_key: Literal["influenza", "covid19", "pneumococcal", "zoster", "rsv", "dtp"]
    age_min: int
    age_max: int | None = None
    condition_icd10_any: list[str] = Field(default_factory=list)
    condition_note_fr: str = ""
    schedule_fr: str
    interval: VaccineInterval
    also_for_fr: str = ""
    source: str
    reference: str
    version: str
    verified: str


class LeftOut(RuleModel):
    what: str
    why: str


class VaccineSource(RuleModel):
    label: str
    citation: str


class VaccineCalendar(RuleModel):
    calendar: str
    version: str
    source: VaccineSource
    entries: list[VaccineEntry]
    left_out: list[LeftOut] = Field(default_factory=list)


class EligibilityCriterion(RuleModel):
    kind: Literal[
        "age_min",
        "distinct_molecules_min",
        "treatment_duration_months_min",
        "any_of",
        "all_of",
        "ald",
        "hospitalised",
    ]
    value: float | bool | None = None
    of: list[EligibilityCriterion] = Field(default_factory=list)
    note_fr: str = ""


class ProgrammeHistory(RuleModel):
    version: str
    status: str
    criteria: list[EligibilityCriterion]
    checked_with: str = ""


class Programme(RuleModel):
    id: str
    label_fr: str
    region: str
    operator: str
    status: Literal["verified", "to_confirm", "left_out"]
    criteria: list[EligibilityCriterion]
    source: str
    reference: str
    version: str
    checked_with: str
    notes_fr: str = ""
    history: list[ProgrammeHistory] = Field(default_factory=list)


class ProgrammesFile(RuleModel):
    programmes: list[Programme]


# --------------------------------------------------------------------------- CYP (CR/IR method)


class CypRow(RuleModel):
    substance_key: str
    enzyme: Literal["CYP3A4", "CYP2D6", "CYP2C9", "CYP2C19", "CYP1A2"]
    value: float = Field(ge=0)
    source_ref: str


class CypClass(RuleModel):
    id: Literal["weak", "moderate", "strong"]
    min: float
    max: float | None = None


class CypFormula(RuleModel):
    auc_ratio: str
    source_ref: str


class CypMethod(RuleModel):
    inhibition: CypFormula
    induction: CypFormula
    inhibitor_classes: list[CypClass]
    inducer_classes: list[CypClass]
    enzymes: list[str]


class CypAlternative(RuleModel):
    enzyme: str
    alternatives: list[str]
    source_ref: str


# --------------------------------------------------------------------------- PPP coding (Act-IP)


class ActIpMatch(RuleModel):
    category: str | None = None
    level: str | None = None
    action: str | None = None
    has_alternatives: bool | None = None


class ActIpRule(RuleModel):
    match: ActIpMatch
    problem: str
    intervention: str


class ActIpSource(RuleModel):
    label: str
    citation: str
    version: str


class ActIpFile(RuleModel):
    source: ActIpSource
    problems: dict[str, str]
    interventions: dict[str, str]
    coding: list[ActIpRule]
    monitoring: dict[str, str]
    category_monitoring: dict[str, list[str]]
    follow_up_days: list[int]
    participants: list[str]
