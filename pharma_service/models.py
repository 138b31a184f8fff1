"""Domain models shared by every stage: request, normalised lines, findings, analysis.

Field names are English (the API contract); texts meant for pharmacists are French.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# --------------------------------------------------------------------------- basics


class Strict(BaseModel):
    """Base for inputs: unknown fields are a client mistake worth reporting."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Out(BaseModel):
    """Base for outputs."""

    model_config = ConfigDict(frozen=True)


class Strength(Out):
    value: float
    unit: str


# --------------------------------------------------------------------------- patient

Sex = Literal["F", "M"]


class Labs(Strict):
    potassium_mmol_l: Annotated[float, Field(gt=0, lt=15)] | None = None
    sodium_mmol_l: Annotated[float, Field(gt=80, lt=200)] | None = None
    qtc_ms: Annotated[float, Field(gt=200, lt=900)] | None = None
    inr: Annotated[float, Field(gt=0, lt=20)] | None = None
    heart_rate_bpm: Annotated[float, Field(gt=10, lt=300)] | None = None
    magnesium_mmol_l: Annotated[float, Field(gt=0, lt=10)] | None = None
    calcium_mmol_l: Annotated[float, Field(gt=0, lt=10)] | None = None


VaccineKey = Literal["influenza", "covid19", "pneumococcal", "zoster", "rsv", "dtp"]


class VaccinationRecord(Strict):
    """One vaccine dose the patient received (the history the request may carry)."""

    vaccine: VaccineKey
    given_on: date | None = Field(default=None, description="Date of the dose, when known.")


class Patient(Strict):
    """What the request says of the patient. Age is required, directly or as a birth date."""

    age: Annotated[int, Field(ge=0, le=125)] | None = None
    birth_date: date | None = None
    reference_date: date | None = Field(
        default=None, description="Date the age is computed at (default: today)."
    )
    sex: Sex | None = None
    weight_kg: Annotated[float, Field(gt=0.3, le=350)] | None = None
    height_cm: Annotated[float, Field(gt=30, le=250)] | None = None
    creatinine_umol_l: Annotated[float, Field(gt=5, le=3000)] | None = None
    crcl_ml_min: Annotated[float, Field(ge=0, le=300)] | None = Field(
        default=None, description="Creatinine clearance (Cockcroft-Gault) when already known."
    )
    egfr_ml_min_1_73m2: Annotated[float, Field(ge=0, le=300)] | None = None
    conditions: list[Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?$")]] = Field(
        default_factory=list, description="ICD-10 codes, e.g. I48, N18.4."
    )
    labs: Labs = Field(default_factory=Labs)
    vaccinations: list[VaccinationRecord] | None = Field(
        default=None,
        description="Vaccination history; when absent, vaccines are listed as to check, not as gaps.",
    )
    ald: bool | None = Field(default=None, description="At least one affection de longue durée.")

    @model_validator(mode="after")
    def _age_is_known(self) -> Patient:
        if self.age is None and self.birth_date is None:
            raise ValueError("patient.age or patient.birth_date is required")
        ref = self.reference_date or date.today()
        if self.birth_date is not None and self.birth_date > ref:
            raise ValueError("patient.birth_date is after the reference date")
        if self.birth_date is not None and self.age is None and _years_between(self.birth_date, ref) > 125:
            raise ValueError("patient.birth_date gives an age over 125 years")
        return self

    @property
    def age_years(self) -> int:
        if self.age is not None:
            return self.age
        assert self.birth_date is not None  # enforced by the validator
        return _years_between(self.birth_date, self.reference_date or date.today())


def _years_between(start: date, end: date) -> int:
    return end.year - start.year - ((end.month, end.day) < (start.month, start.day))


class RenalFunction(Out):
    crcl_ml_min: float | None
    method: Literal["given", "cockcroft_gault", "egfr", "unknown"]
    note: str | None = None


# --------------------------------------------------------------------------- request


class MedicationInput(Strict):
    """One prescribed line. At least one of text, atc, cis, cip13 identifies the drug."""

    text: Annotated[str, Field(max_length=500)] | None = None
    atc: Annotated[str, Field(pattern=r"^[A-Z][0-9]{2}[A-Z]{0,2}[0-9]{0,2}$")] | None = None
    cis: Annotated[str, Field(pattern=r"^[0-9]{8}$")] | None = None
    cip13: Annotated[str, Field(pattern=r"^[0-9]{13}$")] | None = None
    posology: Annotated[str, Field(max_length=500)] | None = Field(
        default=None, description="Posology text when it is not already in `text`."
    )

    @model_validator(mode="after")
    def _identified(self) -> MedicationInput:
        if not any((self.text and self.text.strip(), self.atc, self.cis, self.cip13)):
            raise ValueError("a medication needs one of: text, atc, cis, cip13")
        return self


class AnalysisRequest(Strict):
    patient: Patient
    medications: Annotated[list[MedicationInput], Field(min_length=1, max_length=200)]


# --------------------------------------------------------------------------- normalised lines


class Posology(Out):
    """A parsed French posology. Unknown parts stay None rather than being guessed."""

    text: str = ""
    units_per_intake: float | None = None
    unit: str | None = Field(default=None, description="comprimé, gélule, mg, ml, goutte, ...")
    intakes_per_day: float | None = Field(
        default=None, description="Average intakes per day (a weekly intake counts 1/7)."
    )
    period_days: float = Field(default=1, description="1 daily, 7 weekly, 30 monthly, ...")
    intakes_per_period: float | None = None
    times_of_day: list[str] = Field(default_factory=list)
    as_needed: bool = False
    as_needed_reason: str | None = None
    units_per_day: float | None = Field(
        default=None,
        description="Average units (in ``unit``) a day. Known from a daily total ('2 sachets par "
        "jour') even when the units per intake and the intakes per day are not; None for an "
        "as-needed line without a regular schedule.",
    )
    max_units_per_day: float | None = None
    duration_days: float | None = None
    daily_dose: Strength | None = None
    unparsed: list[str] = Field(default_factory=list, description="Fragments not understood.")


class LineStatus(StrEnum):
    RESOLVED = "resolved"
    AMBIGUOUS = "ambiguous"
    UNRESOLVED = "unresolved"


class SubstanceRef(Out):
    name: str
    key: str
    atc: str | None = None
    strength: Strength | None = None


class Product(Out):
    cis: str
    name: str
    form: str | None = None
    cip13: str | None = None


class MedicationLine(Out):
    index: int
    line: str
    status: LineStatus
    confidence: float
    product: Product | None = None
    substances: list[SubstanceRef] = Field(default_factory=list)
    posology: Posology | None = None
    candidates: list[str] = Field(default_factory=list, description="Other readings of an ambiguous line.")
    atc: str | None = Field(default=None, description="Product-level ATC code when known.")
    route: Literal["systemic", "topical"] | None = Field(
        default=None,
        description="'topical' for skin, eye and ear forms: listed, but left out of the systemic checks.",
    )


class MedicationList(Out):
    lines: list[MedicationLine]


# --------------------------------------------------------------------------- findings


class Category(StrEnum):
    INTERACTION = "interaction"
    DUPLICATION = "duplication"
    PIM = "pim"
    DOSE = "dose"
    RENAL = "renal"
    QT = "qt"
    ANTICHOLINERGIC = "anticholinergic"
    OMISSION = "omission"
    VACCINATION = "vaccination"
    UNRESOLVED = "unresolved"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MODERATE = "moderate"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 0,
    Severity.HIGH: 1,
    Severity.MODERATE: 2,
    Severity.LOW: 3,
    Severity.INFO: 4,
}


class InteractionLevel(StrEnum):
    CI = "CI"
    ASDEC = "ASDEC"
    PE = "PE"
    APEC = "APEC"

    @property
    def rank(self) -> int:
        """0 is the most constraining level."""
        return ("CI", "ASDEC", "PE", "APEC").index(self.value)


class Source(Out):
    label: str
    version: str
    reference: str | None = Field(default=None, description="Article, table or criterion.")


class DrugRef(Out):
    name: str
    atc: str | None = None
    line: int | None = Field(default=None, description="Index of the medication line.")


class Finding(Out):
    id: str
    category: Category
    severity: Severity
    level: InteractionLevel | None = None
    drugs: list[DrugRef] = Field(default_factory=list)
    summary: str
    detail: str = ""
    recommendation: str = ""
    rule: str
    related_rules: list[str] = Field(
        default_factory=list, description="Other criteria (other sources) merged into this finding."
    )
    source: Source
    status: Literal["confirmed", "to_verify"] = "confirmed"
    missing_data: list[str] = Field(default_factory=list)
    codes: dict[str, Any] = Field(
        default_factory=dict, description="Structured facts: risk, actions, condition..."
    )


class Unevaluated(Out):
    """A criterion whose drug is present but which needs data the request did not carry."""

    rule: str
    category: Category
    drugs: list[DrugRef]
    summary: str
    missing_data: list[str]
    source: Source
    criteria: list[str] = Field(
        default_factory=list, description="The criteria grouped in this entry: 'id — what it checks'."
    )


class Analysis(Out):
    patient: dict[str, Any]
    medications: list[MedicationLine]
    findings: list[Finding]
    unevaluated: list[Unevaluated] = Field(
        default_factory=list,
        description="Criteria that apply to a drug of the list but need a diagnosis, duration or lab "
        "value the request did not give: to check, not silently passed.",
    )
    scores: dict[str, Any] = Field(default_factory=dict)
    eligibility: dict[str, Any] = Field(default_factory=dict)
    knowledge: dict[str, str] = Field(default_factory=dict, description="Pack id to version.")
