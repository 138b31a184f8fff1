"""Vaccinations of the French calendar for older adults: to check, or gaps when the history is given.

Without a vaccination history the applicable vaccines are gathered in one
"to check" finding (severity info): one line per vaccine would drown the
prescription's alerts. With a history, each vaccine that is not up to date is a
gap of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.drafts import FindingDraft
from pharma_service.engine.schemas import VaccineCalendar, VaccineEntry
from pharma_service.models import Category, Severity, Source


def vaccination_status(ctx: AnalysisContext) -> tuple[dict[str, Any], list[FindingDraft]]:
    calendar: VaccineCalendar = ctx.kb.vaccines
    patient = ctx.patient
    age = patient.age_years
    today = patient.reference_date or date.today()
    applicable: list[tuple[VaccineEntry, str | None]] = []
    for entry in calendar.entries:
        if age < entry.age_min or (entry.age_max is not None and age > entry.age_max):
            continue
        note = None
        if entry.condition_icd10_any:
            if ctx.has_condition(entry.condition_icd10_any):
                note = None
            elif patient.conditions:
                continue
            else:
                note = f"si {entry.condition_note_fr or ', '.join(entry.condition_icd10_any)}"
        applicable.append((entry, note))

    source = Source(label=calendar.source.label, version=calendar.version, reference=calendar.source.citation)
    status: dict[str, Any] = {"calendar": calendar.calendar, "version": calendar.version, "vaccines": []}
    findings: list[FindingDraft] = []
    if patient.vaccinations is None:
        for entry, note in applicable:
            status["vaccines"].append(
                {
                    "id": entry.id,
                    "vaccine": entry.vaccine_label_fr,
                    "status": "to_check",
                    "schedule": entry.schedule_fr,
                    "note": note,
                }
            )
        if applicable:
            labels = ", ".join(
                dict.fromkeys(e.vaccine_label_fr.split(" (")[0].split(" :")[0] for e, _ in applicable)
            )
            findings.append(
                FindingDraft(
                    id="vaccines:to-check",
                    category=Category.VACCINATION,
                    severity=Severity.INFO,
                    summary=f"Vaccinations recommandées à vérifier : {labels}"[:140],
                    detail=" ".join(
                        f"{e.vaccine_label_fr} : {e.schedule_fr}" + (f" ({n})" if n else "")
                        for e, n in applicable
                    ),
                    recommendation="Vérifier le statut vaccinal et proposer les vaccins manquants.",
                    rule="vaccines:to-check",
                    source=source,
                    status="to_verify",
                    missing_data=["historique vaccinal"],
                )
            )
        return status, findings

    history: dict[str, list[date | None]] = {}
    for record in patient.vaccinations:
        history.setdefault(record.vaccine, []).append(record.given_on)
    for entry, note in applicable:
        up_to_date, why = _up_to_date(entry, history.get(entry.history_key, []), today, age, patient)
        status["vaccines"].append(
            {
                "id": entry.id,
                "vaccine": entry.vaccine_label_fr,
                "status": "up_to_date" if up_to_date else "gap",
                "detail": why,
                "note": note,
            }
        )
        if not up_to_date:
            findings.append(
                FindingDraft(
                    id=f"vaccines:gap|{entry.id}",
                    category=Category.VACCINATION,
                    severity=Severity.LOW,
                    summary=f"Vaccination à proposer : {entry.vaccine_label_fr}"[:140],
                    detail=f"{why}. Schéma : {entry.schedule_fr}" + (f" ({note})" if note else ""),
                    recommendation=f"Proposer la vaccination ({entry.reference}).",
                    rule=f"vaccines:{entry.id}",
                    source=Source(label=entry.source, version=entry.version, reference=entry.reference),
                    status="to_verify" if note else "confirmed",
                )
            )
    return status, findings


def _up_to_date(
    entry: VaccineEntry, doses: list[date | None], today: date, age: int, patient: Any
) -> tuple[bool, str]:
    if not doses:
        return False, "Aucune dose enregistrée"
    dated = sorted(d for d in doses if d is not None)
    interval = entry.interval
    if interval.type == "once":
        return True, "Dose enregistrée"
    if interval.type == "series":
        needed = interval.doses or 1
        return (len(doses) >= needed, f"{len(doses)} dose(s) sur {needed}")
    if not dated:
        return False, "Date de la dernière dose inconnue"
    last = dated[-1]
    months = (today.year - last.year) * 12 + today.month - last.month
    if interval.type == "yearly":
        return (months < 12, f"Dernière dose il y a {months} mois")
    # at_ages: a booster is due at each listed age, then every N years.
    birth_year = today.year - age
    due_ages = list(interval.ages)
    if interval.then_every_years and due_ages:
        step = interval.then_every_years
        due_ages += list(range(due_ages[-1] + step, age + 1, step))
    past = [a for a in due_ages if a <= age]
    if not past:
        return True, "Pas encore de rappel dû"
    return (
        last.year >= birth_year + past[-1] - 1,
        f"Dernier rappel en {last.year}, rappel dû à {past[-1]} ans",
    )
