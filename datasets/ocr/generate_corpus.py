"""Seeded synthetic French ordonnances (images and PDFs) with their ground truth, for OCR.

    python datasets/ocr/generate_corpus.py --n 200 --seed 7 --out /tmp/ocr_corpus [--profile clean|noisy]

writes one file per document (PNG, JPEG, TIFF, WebP or PDF; two-page documents as a
multi-page PDF or TIFF) and ``truth.jsonl`` (one JSON object per document) into the output
folder. From Python::

    records = generate(10, seed=0, out_dir=Path("/tmp/ocr"), profile="noisy")
    documents = compose(10, seed=0)   # the same documents, text and truth only (no image, fast)

Every document is drawn from its own random streams (``Random("<seed>:<index>:content")``
for what is printed and where, ``Random("<seed>:<index>:render:<profile>")`` for the
degradations), so a seed always gives the same truth and the same pixels, document ``i``
does not depend on ``n``, and the clean and noisy profiles of one seed hold the same
documents. The drugs come from ``datasets/cohort/drug_catalogue.csv``; the posology
phrasings, header formats and drug descriptions are the ones the project's text parser
reads correctly (``tests/ocr/test_corpus.py`` checks it). Nothing here reads the
referential or imports ``pharma_service``. Layouts, degradations, the truth format and the
limits are described in README.md.
"""

from __future__ import annotations

import argparse
import csv
import html
import itertools
import json
import math
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from random import Random
from statistics import NormalDist
from typing import Any

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "cohort" / "drug_catalogue.csv"

PROFILES = ("clean", "noisy")
LAYOUTS = ("gp_software", "bizone_ald", "hospital", "handwritten")
LAYOUT_WEIGHTS = (0.4, 0.2, 0.2, 0.2)

# A4 at 300 dpi
DPI = 300
PAGE_W, PAGE_H = 2480, 3508
PT = DPI / 72  # pixels per typographic point

# --- content
SHARE_WOMEN = 0.6
SHARE_75_PLUS = 0.8
TWO_PAGES = 0.1  # share of documents whose drug lines continue on a second page
DATE_RANGE = (date(2025, 1, 6), date(2026, 10, 30))
WEIGHT_PRINTED = 0.8
CLEARANCE_PRINTED = 0.35
MAX_ACUTE = 2

# Catalogue drugs left out, with the reason (the truth must be exact for every line).
EXCLUDED_DRUGS = {
    "haloperidol": "oral solution dosed in drops: the posology is not a count of units",
}
# Phrasings not used (see README.md):
#   "2 sachets par jour"  a daily total: parse_posology rightly gives no units per intake and no
#                         intakes per day (only units_per_day), and the truth cannot say "split
#                         unknown" (units_per_intake is a number; intakes_per_day None means
#                         as needed), nor can pharma_service/ocr/evaluation.py compare it

# --------------------------------------------------------------------------- catalogue

# unit: (singular, plural, abbreviations, feminine)
UNIT_WORDS: dict[str, tuple[str, str, tuple[str, ...], bool]] = {
    "comprimé": ("comprimé", "comprimés", ("cp", "cpr"), False),
    "gélule": ("gélule", "gélules", ("gél",), True),
    "sachet": ("sachet", "sachets", (), False),
    "ampoule": ("ampoule", "ampoules", (), True),
    "capsule": ("capsule", "capsules", (), True),
}
_GELULES = {
    "amlodipine", "dabigatran", "chlorure_potassium", "omeprazole", "lansoprazole", "tamsulosine",
    "silodosine", "sertraline", "venlafaxine", "duloxetine", "galantamine", "levodopa_benserazide",
    "gabapentine", "pregabaline", "morphine", "nitrofurantoine", "tramadol", "celecoxib", "loperamide",
}  # fmt: skip
UNIT_OVERRIDES = {
    **dict.fromkeys(_GELULES, "gélule"),
    **dict.fromkeys(
        ("aspirine_75", "macrogol", "lactulose", "amoxicilline_clavulanate", "fosfomycine"), "sachet"
    ),
    "cholecalciferol": "ampoule",
    "dutasteride": "capsule",
}
# Scored tablets that may be halved (the form of the catalogue specialty says "sécable").
HALVABLE = {
    "lercanidipine", "nicardipine", "pravastatine", "fluindione", "warfarine", "furosemide",
    "spironolactone", "hydrochlorothiazide", "ramipril", "perindopril", "candesartan", "bisoprolol",
    "nebivolol", "metoprolol", "atenolol", "amiodarone", "levothyroxine", "metformine", "gliclazide",
    "prednisone", "oxybutynine", "zolpidem", "alprazolam", "bromazepam", "lorazepam", "hydroxyzine",
    "escitalopram", "paroxetine", "citalopram", "tiapride", "cyamemazine", "metoclopramide",
}  # fmt: skip
# Drugs taken with food: their three daily intakes may be written around the meals.
WITH_MEALS = {"trimetazidine", "pristinamycine", "nitrofurantoine"}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class Schedule:
    """A structured posology: ``units`` per intake, taken following ``kind``."""

    kind: str  # matin midi soir coucher jour bid tid week month prn single
    units: float = 1.0  # always a float in the truth (2.0, not 2)
    max_per_day: int | None = None  # "prn" only: the most intakes a day
    reason: str = "douleur"  # "prn" only

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", float(self.units))

    @property
    def intakes_per_day(self) -> float | None:
        return _INTAKES[self.kind]


_INTAKES: dict[str, float | None] = {
    "matin": 1.0, "midi": 1.0, "soir": 1.0, "coucher": 1.0, "jour": 1.0,
    "bid": 2.0, "tid": 3.0, "week": 1 / 7, "month": 1 / 30, "prn": None, "single": 1.0,
}  # fmt: skip
S = Schedule
SCHEDULE_OVERRIDES: dict[str, tuple[Schedule, ...]] = {
    "paracetamol": (S("tid"), S("tid"), S("prn", max_per_day=3), S("bid")),
    "codeine_paracetamol": (S("tid"), S("tid", 2), S("prn", max_per_day=4)),
    "tramadol_paracetamol": (S("tid"), S("tid", 2), S("prn", max_per_day=4)),
    "tramadol": (S("tid"), S("prn", max_per_day=3)),
    "loperamide": (S("prn", max_per_day=6, reason="diarrhée"),),
    "alprazolam": (S("bid"), S("tid"), S("prn", max_per_day=3, reason="anxiété"), S("coucher")),
    "oxazepam": (S("soir"), S("bid"), S("prn", max_per_day=3, reason="anxiété")),
    "bromazepam": (S("soir", 0.5), S("bid", 0.25)),
    "zolpidem": (S("coucher", 0.5), S("coucher")),
    "zopiclone": (S("coucher"),),
    "hydroxyzine": (S("coucher"), S("soir")),
    "fluindione": (S("soir"), S("soir", 0.5), S("soir", 0.75)),
    "warfarine": (S("soir"), S("soir", 0.5)),
    "trimetazidine": (S("tid"),),
    "molsidomine": (S("bid"), S("tid")),
    "repaglinide": (S("tid"),),
    "ropinirole": (S("tid"),),
    "pramipexole": (S("tid"),),
    "metformine": (S("bid"), S("soir")),
    "gliclazide": (S("matin"), S("matin", 0.5), S("matin", 2)),
    "diosmine": (S("bid"), S("matin", 2)),
    "macrogol": (S("matin"), S("bid")),
    "lactulose": (S("matin"), S("bid")),
    "chlorure_potassium": (S("jour"), S("bid"), S("tid")),
    "calcium_vitd": (S("bid"), S("midi")),
    "cholecalciferol": (S("month"),),
    "methotrexate": (S("week", 4), S("week", 6)),
    "levothyroxine": (S("matin"),),
    "amiodarone": (S("matin"),),
    "donepezil": (S("coucher"), S("soir")),
    "memantine": (S("matin"), S("soir")),
    "azithromycine": (S("matin", 2),),
    "pristinamycine": (S("tid", 2),),
    "nitrofurantoine": (S("tid", 2),),
    "cefpodoxime": (S("bid", 2),),
    "pivmecillinam": (S("bid", 2),),
    "phloroglucinol": (S("tid", 2), S("prn", 2, max_per_day=3)),
    "fosfomycine": (S("single"),),
    "furosemide": (S("matin"), S("matin", 0.5), S("matin", 2)),
    "oxybutynine": (S("bid"), S("tid")),
}
del S
DURATION_OVERRIDES = {"azithromycine": 3, "fosfomycine": 1}


@dataclass(frozen=True)
class Drug:
    drug_id: str
    keys: tuple[str, ...]  # substance keys, sorted
    label: str
    weight: float
    chronic: bool
    classes: frozenset[str]
    men_only: bool
    unit: str
    schedules: tuple[Schedule, ...]
    strength: str | None  # "5 mg", None for combinations and labels without one
    acute_days: int | None


_LABEL_STRENGTH = re.compile(r"(?<![\w,])(\d+(?: \d{3})*(?:,\d+)?) ?(mg|g|microgrammes|µg|UI)(?![\w/])")


def _schedules_from_regimen(drug_id: str, regimen: str) -> tuple[Schedule, ...]:
    if drug_id in SCHEDULE_OVERRIDES:
        return SCHEDULE_OVERRIDES[drug_id]
    r = regimen.lower()
    if "selon inr" in r:
        return (Schedule("soir"),)
    if "une fois par semaine" in r:
        return (Schedule("week"),)
    if "par mois" in r:
        return (Schedule("month"),)
    if "2 à 3 fois" in r:
        return (Schedule("bid"), Schedule("tid"))
    if "3 fois par jour" in r:
        return (Schedule("tid"),)
    if "2 fois par jour" in r:
        return (Schedule("bid"),)
    if "au coucher" in r:
        return (Schedule("coucher"), Schedule("soir"))
    if "le soir" in r:
        return (Schedule("soir"),)
    return (Schedule("matin"), Schedule("matin"), Schedule("jour"), Schedule("soir"))


@cache
def load_catalogue(path: Path = CATALOGUE_PATH) -> tuple[Drug, ...]:
    """The catalogue drugs the corpus uses (without ``EXCLUDED_DRUGS``)."""
    drugs = []
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            drug_id = row["drug_id"]
            if drug_id in EXCLUDED_DRUGS:
                continue
            keys = tuple(sorted(row["substance_keys"].split(";")))
            label = row["label"]
            m = _LABEL_STRENGTH.search(label)
            strength = None
            if len(keys) == 1 and m and "/" not in label:
                strength = f"{m.group(1)} {m.group(2)}"
            days = re.search(r"(\d+) jours", row["regimen"])
            acute = row["chronic"] != "1"
            drugs.append(
                Drug(
                    drug_id=drug_id,
                    keys=keys,
                    label=label,
                    weight=float(row["weight"]),
                    chronic=not acute,
                    classes=frozenset(c for c in row["classes"].split(";") if c),
                    men_only=row["sex"] == "M",
                    unit=UNIT_OVERRIDES.get(drug_id, "comprimé"),
                    schedules=_schedules_from_regimen(drug_id, row["regimen"]),
                    strength=strength,
                    acute_days=DURATION_OVERRIDES.get(drug_id, int(days.group(1)) if days else 7)
                    if acute
                    else None,
                )
            )
    return tuple(drugs)


# --------------------------------------------------------------------------- people and places

FIRST_F = (
    "Jeanne", "Marie", "Monique", "Françoise", "Jacqueline", "Denise", "Simone", "Germaine",
    "Suzanne", "Madeleine", "Yvette", "Colette", "Micheline", "Paulette", "Odette", "Josette",
    "Ginette", "Huguette", "Annie", "Nicole", "Christiane", "Marcelle", "Lucienne", "Renée",
    "Andrée", "Thérèse", "Geneviève", "Hélène", "Éliane", "Raymonde", "Marie-Thérèse", "Solange",
)  # fmt: skip
FIRST_M = (
    "Jean", "Pierre", "André", "Michel", "Jacques", "Marcel", "René", "Roger", "Bernard",
    "Claude", "Robert", "Georges", "Louis", "Henri", "Gérard", "Maurice", "Raymond", "Paul",
    "Lucien", "Roland", "Yves", "Guy", "Gilbert", "Daniel", "Alain", "Francis", "Joseph",
    "Émile", "Fernand", "Albert", "Jean-Pierre", "Roger",
)  # fmt: skip
DOCTOR_FIRST = (
    "Claire", "Sophie", "Nathalie", "Isabelle", "Camille", "Julie", "Anne", "Céline", "Émilie",
    "Marion", "Hélène", "Thomas", "Nicolas", "Julien", "Antoine", "Olivier", "Laurent",
    "François", "Mathieu", "Benoît", "Stéphane", "Guillaume", "Jean-Marc", "Anne-Sophie",
)  # fmt: skip
SURNAMES = (
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY",
    "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX",
    "VINCENT", "FOURNIER", "MOREL", "GIRARD", "LEFÈVRE", "MERCIER", "DUPONT", "LAMBERT",
    "BONNET", "FRANÇOIS", "MARTINEZ", "LEGRAND", "GARNIER", "FAURE", "ROUSSEAU", "BLANC",
    "GUÉRIN", "MULLER", "HENRY", "ROUSSEL", "NICOLAS", "PERRIN", "MORIN", "MATHIEU", "CLÉMENT",
    "GAUTHIER", "DUMONT", "LOPEZ", "FONTAINE", "CHEVALIER", "ROBIN", "DEBRUYNE", "VANDAMME",
    "DELATTRE", "LEFRANC", "CARON", "DUHAMEL", "DELANNOY", "LECLERCQ", "DUQUESNE", "PLOUVIER",
    "LE GALL", "KERGOAT", "ETCHEVERRY", "BONNEFOY", "CHAUVET", "RENAUD", "BRUNET", "BARBIER",
)  # fmt: skip
# city, postcode, phone prefix
CITIES = (
    ("Lille", "59000", "03 20"), ("Roubaix", "59100", "03 20"), ("Arras", "62000", "03 21"),
    ("Amiens", "80000", "03 22"), ("Reims", "51100", "03 26"), ("Nancy", "54000", "03 83"),
    ("Metz", "57000", "03 87"), ("Strasbourg", "67000", "03 88"), ("Lyon", "69003", "04 78"),
    ("Grenoble", "38000", "04 76"), ("Marseille", "13005", "04 91"), ("Nice", "06000", "04 93"),
    ("Montpellier", "34000", "04 67"), ("Toulouse", "31000", "05 61"), ("Bordeaux", "33000", "05 56"),
    ("Limoges", "87000", "05 55"), ("Nantes", "44000", "02 40"), ("Rennes", "35000", "02 99"),
    ("Brest", "29200", "02 98"), ("Rouen", "76000", "02 35"), ("Caen", "14000", "02 31"),
    ("Tours", "37000", "02 47"), ("Paris", "75014", "01 45"), ("Versailles", "78000", "01 39"),
    ("Dijon", "21000", "03 80"), ("Besançon", "25000", "03 81"), ("Clermont-Ferrand", "63000", "04 73"),
    ("Saint-Étienne", "42000", "04 77"), ("Poitiers", "86000", "05 49"), ("Pau", "64000", "05 59"),
)  # fmt: skip
STREETS = (
    "rue Nationale", "avenue de la République", "boulevard Victor Hugo", "rue du Général de Gaulle",
    "place de la Mairie", "rue Pasteur", "rue des Écoles", "avenue Jean Jaurès", "rue Gambetta",
    "chemin des Vignes", "rue de la Gare", "allée des Tilleuls", "rue Jules Ferry", "avenue Foch",
)  # fmt: skip
SPECIALTIES_GP = ("Médecin généraliste",) * 6 + ("Gériatre", "Cardiologue", "Médecin interniste")
SPECIALTIES_HOSPITAL = ("Gériatre",) * 4 + ("Cardiologue", "Médecin interniste", "Neurologue", "Néphrologue")
HOSPITAL_SERVICES = (
    "Pôle de Gérontologie", "Service de Médecine Gériatrique", "Court séjour gériatrique",
    "Soins de Suite et de Réadaptation gériatriques", "Unité de Soins de Longue Durée",
)  # fmt: skip
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
FOOTERS = (
    "Ordonnance à présenter dans un délai de 3 mois",
    "Consultations sur rendez-vous du lundi au vendredi",
    "Membre d'une association agréée, le règlement des honoraires par chèque est accepté",
    "Conventionné secteur 1 - Carte Vitale acceptée",
    "Cabinet médical - Parking et accès handicapés",
)
HOSPITAL_FOOTERS = (
    "Ordonnance de sortie - à remettre au pharmacien d'officine",
    "Pour tout renseignement, contacter le secrétariat du service",
)


@dataclass
class Patient:
    sex: str
    first: str
    last: str
    birth: date
    age: int
    weight: int | None
    clearance: int | None


@dataclass
class Prescriber:
    first: str
    last: str
    specialty: str
    rpps: str
    city: str
    postcode: str
    phone: str
    street: str
    am: str | None
    finess: str | None

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


@dataclass
class DrugLine:
    drug: Drug
    schedule: Schedule
    printed: str  # the drug description as printed
    posology: str  # the posology as printed
    duration_days: float | None
    next_line: bool = False  # posology printed on an indented continuation line
    alt_printed: str | None = None  # the drug's other name, used when ``printed`` is split-unsafe
    number: int | None = None
    ald: bool | None = None
    page: int = 1


def _age_at(birth: date, at: date) -> int:
    return at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))


def _draw_patient(rng: Random, on: date) -> Patient:
    sex = "F" if rng.random() < SHARE_WOMEN else "M"
    age = rng.randint(75, 99) if rng.random() < SHARE_75_PLUS else rng.randint(65, 74)
    if age > 92 and rng.random() < 0.5:
        age = rng.randint(75, 92)  # fewer very old patients
    # the latest birth date for this age is the anniversary on the ordonnance date
    last = date(on.year - age, on.month, 28 if (on.month, on.day) == (2, 29) else on.day)
    birth = last - timedelta(days=rng.randint(0, 364))
    age = _age_at(birth, on)
    weight = None
    if rng.random() < WEIGHT_PRINTED:
        weight = round(rng.gauss(64, 11) if sex == "F" else rng.gauss(75, 12))
        weight = max(38, min(120, weight))
    clearance = rng.randint(18, 85) if rng.random() < CLEARANCE_PRINTED else None
    first = rng.choice(FIRST_F if sex == "F" else FIRST_M)
    return Patient(sex, first, rng.choice(SURNAMES), birth, age, weight, clearance)


def _draw_prescriber(rng: Random, specialties: Sequence[str]) -> Prescriber:
    city, postcode, prefix = rng.choice(CITIES)
    phone = f"{prefix} " + " ".join(f"{rng.randint(0, 99):02d}" for _ in range(3))
    dept = postcode[:2]
    return Prescriber(
        first=rng.choice(DOCTOR_FIRST),
        last=rng.choice(SURNAMES),
        specialty=rng.choice(specialties),
        rpps="10" + "".join(str(rng.randint(0, 9)) for _ in range(9)),
        city=city,
        postcode=postcode,
        phone=phone,
        street=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        am=f"{dept} 1 {rng.randint(10000, 99999)} {rng.randint(0, 9)}" if rng.random() < 0.5 else None,
        finess=f"{dept}{rng.randint(1000000, 9999999)}" if rng.random() < 0.3 else None,
    )


def _draw_date(rng: Random) -> date:
    start, end = DATE_RANGE
    return start + timedelta(days=rng.randint(0, (end - start).days))


def _draw_drugs(rng: Random, sex: str, n: int) -> list[Drug]:
    """n drugs by catalogue weight, without replacement, one per class and substance."""
    catalogue = load_catalogue()
    keyed = sorted(catalogue, key=lambda d: -(rng.random() ** (1 / d.weight)))
    chosen: list[Drug] = []
    classes: set[str] = set()
    keys: set[str] = set()
    acute = 0
    for d in keyed:
        if len(chosen) == n:
            break
        if (d.men_only and sex == "F") or d.classes & classes or set(d.keys) & keys:
            continue
        if not d.chronic:
            if acute == MAX_ACUTE:
                continue
            acute += 1
        chosen.append(d)
        classes |= d.classes
        keys |= set(d.keys)
    # chronic first, as prescribing software lists them
    return sorted(chosen, key=lambda d: not d.chronic)


# --------------------------------------------------------------------------- phrasing


def _quantity(units: float, unit: str, rng: Random, words: bool = True) -> str:
    noun, plural, abbrevs, fem = UNIT_WORDS[unit]
    if units == 0.5:
        return rng.choice(("1/2 cp", "½ cp", "1/2 comprimé", "un demi-comprimé"))
    if units == 0.25:
        return rng.choice(("1/4 cp", "¼ cp"))
    if units == 0.75:
        return rng.choice(("3/4 cp", "¾ cp"))
    n = int(units)
    assert n == units, units
    if n == 1:
        options = [f"1 {noun}", f"1 {noun}"] + [f"1 {a}" for a in abbrevs]
        if words:
            options.append(f"{'une' if fem else 'un'} {noun}")
    else:
        options = [f"{n} {plural}"] + [f"{n} {a}" for a in abbrevs]
        if words and n <= 3:
            options.append(f"{('deux', 'trois')[n - 2]} {plural}")
    return rng.choice(options)


def _grid(kind: str, units: float) -> str | None:
    if units != int(units):
        return None
    u = str(int(units))
    return {
        "matin": f"{u}-0-0",
        "midi": f"0-{u}-0",
        "soir": f"0-0-{u}",
        "bid": f"{u}-0-{u}",
        "tid": f"{u}-{u}-{u}",
    }.get(kind)


def _posology(drug: Drug, s: Schedule, rng: Random) -> tuple[str, float | None]:
    """The posology as printed and the duration it states (days)."""
    q = _quantity(s.units, drug.unit, rng)
    k = s.kind
    fasting = " à jeun" if drug.drug_id in ("levothyroxine", "alendronate", "risedronate") else ""
    options: list[str]
    if k == "matin":
        options = [f"{q} le matin{fasting}", f"{q} le matin{fasting}", f"{q} par jour, le matin"]
        if not fasting:
            options.append(f"{q} le matin au petit déjeuner")
    elif k == "midi":
        options = [f"{q} le midi", f"{q} à midi"]
    elif k == "soir":
        options = [f"{q} le soir", f"{q} le soir", f"{q} le soir au dîner"]
    elif k == "coucher":
        options = [f"{q} au coucher", f"{q} le soir au coucher"]
    elif k == "jour":
        options = [f"{q} par jour", f"{q} 1 fois par jour"]
        if q.startswith("1 ") and drug.unit == "comprimé":
            options.append("1 cp/j")
    elif k == "bid":
        q2 = _quantity(s.units, drug.unit, rng, words=False)
        options = [f"{q} matin et soir", f"{q} le matin et le soir", f"{q} 2 fois par jour"]
        options.append(f"{q2} le matin et {q2} le soir")
        if drug.drug_id == "metformine":
            options.append(f"{q} matin et soir au cours des repas")
            options.append(f"{q} matin et soir au milieu des repas")
    elif k == "tid":
        options = [f"{q} matin, midi et soir", f"{q} 3 fois par jour", f"{q} le matin, midi et soir"]
        options.append(f"{q} à chaque repas")  # "chaque repas" is the three meals
        if drug.drug_id == "repaglinide":
            options += [f"{q} avant chaque repas", f"{q} 15 minutes avant chaque repas"]
        if drug.drug_id in WITH_MEALS:
            options += [f"{q} après chaque repas", f"{q} 3 fois par jour pendant les repas"]
    elif k == "week":
        day = rng.choice(WEEKDAYS)
        options = [f"{q} une fois par semaine", f"{q} le {day}", f"{q} par semaine, le {day}"]
    elif k == "month":
        options = [f"{q} par mois", f"{q} tous les mois"]
    elif k == "prn":
        m = s.max_per_day
        assert m is not None
        # A ceiling without a unit word counts units after a one-unit intake; after several
        # units it is ambiguous (3 tablets or 3 intakes?) and parse_posology leaves it to a
        # human, so the corpus writes it only after one unit. A count of intakes says "fois".
        options = [f"{q} si {s.reason}, maximum {m} fois par jour"]
        if s.units == 1:
            plural = UNIT_WORDS[drug.unit][1]
            options += [
                f"{q} si {s.reason}, max {m:g} par jour",
                f"{q} si {s.reason}, maximum {m:g} par jour",
                f"{q} si {s.reason}, sans dépasser {m} {plural} par jour",
            ]
        if s.reason == "diarrhée":  # as needed too
            options.append(f"{q} après chaque selle, max {m} fois par jour")
            if s.units == 1:
                options.append(f"{q} après chaque selle liquide, maximum {m:g} par jour")
    elif k == "single":
        options = [f"{q} en dose unique", f"{q} en prise unique"]
    else:  # pragma: no cover
        raise ValueError(k)
    grid = _grid(k, s.units)
    use_grid = grid is not None and rng.random() < 0.25
    text = grid if use_grid and grid else rng.choice(options)
    if use_grid and rng.random() < 0.3:
        text = f"{_quantity(s.units, drug.unit, rng, words=False)} {text}"  # "1 cp 1-0-1"
    suffix = ""
    duration: float | None = None
    if k == "single":
        duration = 1.0  # a single dose: no duration written, one day
    elif drug.acute_days is not None:
        if rng.random() < 0.85:
            suffix = f"{rng.choice((' ', ', '))}pendant {drug.acute_days} jours"
            duration = float(drug.acute_days)
    else:
        r = rng.random()
        if r < 0.15:
            suffix, duration = " QSP 3 mois", 90.0
        elif r < 0.22:
            suffix, duration = ", QSP 1 mois", 30.0
        elif r < 0.28:
            suffix, duration = " pendant 3 mois", 90.0
        elif r < 0.36:
            suffix = f", à renouveler {rng.randint(1, 3)} fois"
        elif r < 0.42:
            suffix, duration = f", QSP 3 mois, à renouveler {rng.randint(1, 3)} fois", 90.0
    text += suffix
    return text, duration


def _unaccented_upper(text: str) -> str:
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).upper()


def _title_case(label: str) -> str:
    """'DOLIPRANE 1000 mg' -> 'Doliprane 1000 mg' (handwriting); tokens with digits or dots stay."""
    out = []
    for word in label.split(" "):
        if word.isalpha() and word.isupper() and len(word) > 2:
            word = word.capitalize()
        out.append(word)
    return " ".join(out)


# A drug line the parser takes for one without a number or capitals: "<name> <strength>",
# the name without digits ("Macrogol 4000 10 g" and "Zymad 80 000 UI" are not).
_PLAIN_DRUG = re.compile(r"^[A-Za-z][A-Za-z'-]*(?: [A-Za-z][A-Za-z'-]*){0,3} \d+(?:,\d+)? (?:mg|g|µg)$")


# parse_ordonnance_text joins a drug line and its continuation line with " ; ", and
# parse_posology (through the normaliser) then reads part of these names as the posology:
# "OMIX L.P. 0,4 mg ; 1 gélule le matin" gives 0.4 units per intake, "CHLORURE DE POTASSIUM
# 600 mg ; ..." 600, "MACROGOL 4000 10 g ; ..." 4000; so does "<name> - <posology>" or a bare
# space. With " : " they are read correctly. Such names are printed only as
# "<name> : <posology>"; elsewhere the drug's other name (DCI or brand) is printed instead.
_SPLIT_UNSAFE = re.compile(r"\bL\.?P\.?(?=\s)|\b[Dd][Ee]\b|\(|\d \d+ ?(?:mg|g)\b")
ALT_DESCRIPTIONS = {"levodopa_benserazide": "LEVODOPA BENSERAZIDE 100 mg/25 mg"}


def _dci(drug: Drug, rng: Random | None, hand: bool) -> str:
    assert drug.strength is not None
    strength = drug.strength
    if rng is not None:
        strength = strength.replace("microgrammes", rng.choice(("µg", "microgrammes")))
    text = f"{_unaccented_upper(drug.keys[0])} {strength}"
    if hand:
        plain = f"{drug.keys[0].capitalize()} {strength}"
        return plain if _PLAIN_DRUG.match(plain) else text
    if rng is not None and rng.random() < 0.5:
        noun, _, abbrevs, _ = UNIT_WORDS[drug.unit]
        text += " " + rng.choice((noun, noun, *abbrevs))
    return text


def _brand(drug: Drug, rng: Random | None, hand: bool) -> str:
    label = drug.label
    if hand:
        plain = _title_case(label)
        return plain if _PLAIN_DRUG.match(plain) else label
    if rng is not None and rng.random() < 0.15 and drug.unit in ("comprimé", "gélule"):
        return f"{label} {drug.unit}"
    return label


def _description(drug: Drug, rng: Random, hand: bool) -> tuple[str, str | None]:
    """The drug as prescribing software (or a hand) writes it: brand label or DCI, strength,
    sometimes the form; and its other name when the first is split-unsafe (else None).

    By hand, names are written in lower case with a capital ("Doliprane 1000 mg") when the
    line is a plain "<name> <strength>", else as on the box (in capitals)."""
    dci = drug.strength is not None and rng.random() < 0.4
    text = _dci(drug, rng, hand) if dci else _brand(drug, rng, hand)
    if not _SPLIT_UNSAFE.search(text):
        return text, None
    if dci:
        alt = _brand(drug, None, hand)
    elif drug.strength is not None:
        alt = _dci(drug, None, hand)
    else:
        alt = ALT_DESCRIPTIONS.get(drug.drug_id, "")
    return text, (alt if alt and not _SPLIT_UNSAFE.search(alt) else None)


# --------------------------------------------------------------------------- fonts

PRINTED_FAMILIES: dict[str, tuple[str, str]] = {
    "Liberation Sans": ("LiberationSans-Regular.ttf", "LiberationSans-Bold.ttf"),
    "Liberation Serif": ("LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
    "Liberation Mono": ("LiberationMono-Regular.ttf", "LiberationMono-Bold.ttf"),
    "DejaVu Sans": ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"),
    "DejaVu Serif": ("DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"),
    "Nimbus Sans": ("NimbusSans-Regular.otf", "NimbusSans-Bold.otf"),
    "Nimbus Roman": ("NimbusRoman-Regular.otf", "NimbusRoman-Bold.otf"),
    "Nimbus Mono PS": ("NimbusMonoPS-Regular.otf", "NimbusMonoPS-Bold.otf"),
    "C059": ("C059-Roman.otf", "C059-Bold.otf"),
    "P052": ("P052-Roman.otf", "P052-Bold.otf"),
    "URW Gothic": ("URWGothic-Book.otf", "URWGothic-Demi.otf"),
}
HAND_FAMILIES: dict[str, tuple[str, str]] = {
    "DkgHandwriting": ("dkg.ttf", "dkgBd.ttf"),
    "Comic Neue": ("ComicNeue-Regular.otf", "ComicNeue-Bold.otf"),
}
FALLBACK_FAMILY = "DejaVu Sans"
FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)


@cache
def _font_files() -> dict[str, Path]:
    """Font files by file name, from the usual font folders (first found wins, sorted paths)."""
    found: dict[str, Path] = {}
    for folder in FONT_DIRS:
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.suffix.lower() in (".ttf", ".otf"):
                    found.setdefault(path.name, path)
    return found


def _fc_match(family: str, style: str) -> Path | None:
    """The file fontconfig gives for a family, when it really is that family."""
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{family}|%{file}", f"{family}:style={style}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    families, _, file = out.partition("|")
    if family not in families.split(",") or not file.lower().endswith((".ttf", ".otf")):
        return None
    return Path(file)


@cache
def resolve_family(family: str) -> tuple[str, Path, Path]:
    """(family actually used, regular file, bold file); DejaVu Sans when the family is missing."""
    files = _font_files()
    names = PRINTED_FAMILIES.get(family) or HAND_FAMILIES.get(family)
    if names:
        regular, bold = files.get(names[0]), files.get(names[1])
        if regular is not None:
            return family, regular, bold or regular
    regular_fc = _fc_match(family, "Regular")
    if regular_fc is not None:
        return family, regular_fc, _fc_match(family, "Bold") or regular_fc
    if family != FALLBACK_FAMILY:
        return resolve_family(FALLBACK_FAMILY)
    raise RuntimeError("no usable font: install fonts-dejavu-core (DejaVu Sans)")


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


# --------------------------------------------------------------------------- page model


@dataclass
class TextEl:
    x: int
    y: int  # top of the line box
    text: str
    font: Path
    size: int
    indent: int = 0  # posology continuation lines: 1 (four spaces in the truth text)
    angle: float = 0.0  # degrees, counter-clockwise
    ink: str = "black"
    drug: int | None = None  # index of the drug line it belongs to


@dataclass
class Shape:
    kind: str  # rule | rect | scribble | disc
    points: tuple[tuple[int, int], ...]
    width: int = 3
    ink: str = "black"


@dataclass
class Page:
    texts: list[TextEl] = field(default_factory=list)
    shapes: list[Shape] = field(default_factory=list)


@dataclass
class Style:
    family: str  # body text family actually used
    regular: Path
    bold: Path
    size: int  # body size, px
    header_family: str
    header_regular: Path
    header_bold: Path

    @property
    def lh(self) -> int:
        return round(self.size * 1.45)


def _width(text: str, font: Path, size: int) -> float:
    return _font(font, size).getlength(text)


class Flow:
    """Places lines top to bottom on pages; a new page starts when a block does not fit."""

    def __init__(self, style: Style, top: int, bottom: int, margin: int) -> None:
        self.style = style
        self.pages = [Page()]
        self.top = top
        self.bottom = bottom  # lowest y a drug block may reach
        self.margin = margin
        self.y = top

    @property
    def page(self) -> Page:
        return self.pages[-1]

    def line(
        self, x: int, text: str, *, font: Path | None = None, size: int | None = None, **kw: Any
    ) -> TextEl:
        el = TextEl(
            x=x, y=self.y, text=text, font=font or self.style.regular, size=size or self.style.size, **kw
        )
        self.page.texts.append(el)
        self.y += round((size or self.style.size) * 1.45)
        return el

    def new_page(self, header: Callable[[Flow, int], None] | None, nxt: int) -> None:
        self.pages.append(Page())
        self.y = self.top
        if header is not None:
            header(self, nxt)


# --------------------------------------------------------------------------- header texts


def _date_text(d: date, rng: Random, city: str, short_year: bool = False) -> str:
    numeric = f"{d.day:02d}/{d.month:02d}/{d.year % 100:02d}" if short_year else d.strftime("%d/%m/%Y")
    spelled = f"{'1er' if d.day == 1 else d.day} {MONTHS[d.month - 1]} {d.year}"
    return rng.choice(
        (
            f"Le {numeric}",
            f"{city}, le {spelled}",
            f"{city}, le {numeric}",
            f"Le {spelled}",
            f"Date : {numeric}",
        )
    )


def _patient_lines(
    p: Patient, rng: Random, *, hospital: bool = False, hand: bool = False
) -> tuple[list[str], bool]:
    """The patient as printed (civility and name, birth date and/or age, weight, clearance),
    and whether the birth date is printed."""
    fem = p.sex == "F"
    civ = rng.choice(("Mme", "Madame") if fem else ("M.", "Monsieur"))
    last = p.last.title() if hand else p.last
    name = rng.choice((f"{civ} {last} {p.first}", f"{civ} {p.first} {last}"))
    if hospital:
        name = f"Patient{'e' if fem else ''} : {name}"
    born = "née" if fem else "né"
    birth = p.birth.strftime("%d/%m/%Y")
    lines: list[str] = []
    shown_birth = False
    form = rng.random()
    if hospital:
        lines.append(name)
        if form < 0.7:
            lines.append(f"Né(e) le {birth}")
            shown_birth = True
        if form > 0.4:
            lines.append(f"Âge : {p.age} ans")
    elif hand:
        lines.append(name)
        lines.append(f"{p.age} ans")
    elif form < 0.3:
        lines.append(f"{name}, {p.age} ans")
    elif form < 0.55:
        lines += [name, f"{born} le {birth} ({p.age} ans)"]
        shown_birth = True
    elif form < 0.8:
        lines += [name, f"{born.capitalize()} le {birth}"]
        shown_birth = True
    else:
        lines += [name, f"Date de naissance : {birth}"]
        shown_birth = True
    if p.weight is not None:
        lines.append(
            f"{p.weight} kg" if hand else rng.choice((f"Poids : {p.weight} kg", f"Poids {p.weight} kg"))
        )
    if p.clearance is not None:
        lines.append(
            rng.choice(
                (
                    f"Clairance créatinine : {p.clearance} ml/min",
                    f"Clairance de la créatinine : {p.clearance} ml/min",
                    f"Clairance (Cockcroft) : {p.clearance} ml/min",
                )
            )
        )
    return lines, shown_birth


def _prescriber_lines(d: Prescriber, rng: Random, *, with_ids: bool = True) -> list[str]:
    title = rng.choice(("Dr", "Dr", "Docteur"))
    lines = [f"{title} {d.name}", d.specialty, d.street, f"{d.postcode} {d.city}"]
    lines.append(rng.choice((f"Tél. {d.phone}", f"Tél : {d.phone}", f"Tel. {d.phone}")))
    if with_ids:
        lines.append(rng.choice((f"RPPS {d.rpps}", f"N° RPPS : {d.rpps}", f"RPPS : {d.rpps}")))
        if d.am:
            lines.append(f"N° AM : {d.am}")
        if d.finess:
            lines.append(f"FINESS {d.finess}")
    return lines


# --------------------------------------------------------------------------- drug blocks


def _number_marker(i: int, style: str) -> str:
    return {"paren": f"{i})", "dot": f"{i}.", "dash": f"{i} -"}[style]


def _drug_block(dl: DrugLine, marker: str | None, sep: str) -> list[tuple[str, int]]:
    """The printed lines of one drug: (text, indent). May change ``dl``: a split-unsafe name
    is printed with " : " before its posology, or replaced by the drug's other name."""
    if sep == " " and not _PLAIN_DRUG.match(dl.printed):
        sep = " : "  # without a separator the parser needs "<name> <strength>" to see a drug
    if _SPLIT_UNSAFE.search(dl.printed) and (dl.next_line or sep != " : "):
        if dl.alt_printed is not None:
            dl.printed = dl.alt_printed
        else:
            dl.next_line, sep = False, " : "
    head = f"{marker} {dl.printed}" if marker else dl.printed
    if dl.next_line:
        return [(head, 0), (dl.posology, 1)]
    return [(f"{head}{sep}{dl.posology}", 0)]


PageHeader = Callable[["Flow", int], None]  # prints the top of a continuation page (next line index)


def _place_drugs(
    flow: Flow,
    lines: list[DrugLine],
    *,
    x: int,
    indent_px: int,
    numbering: str | None,
    sep: str,
    bold_names: bool = False,
    break_before: int | None = None,
    page_header: PageHeader | None = None,
    zone_titles: dict[int, Callable[[Flow], None]] | None = None,
    jitter: Random | None = None,
    ink: str = "black",
    gap: float = 0.35,
) -> None:
    """Print the drug lines, numbered or not, starting a new page when a line does not fit
    (or before ``break_before``). A zone title due before a line that opens a new page is
    left to ``page_header``, which repeats the title of the zone the page continues."""
    st = flow.style
    if break_before is not None:
        gap = max(gap, 0.9)  # the first sheet of a two-page document is filled
    for i, dl in enumerate(lines):
        if numbering is None:
            dl.number = None
        marker = _number_marker(i + 1, numbering) if numbering else None
        block = _drug_block(dl, marker, sep)
        # the whole line must fit the width, else the posology goes on its own line
        if len(block) == 1 and x + _width(block[0][0], st.regular, st.size) > PAGE_W - flow.margin - 40:
            dl.next_line = True
            block = _drug_block(dl, marker, sep)
        title = zone_titles.get(i) if zone_titles else None
        height = (len(block) + (4 if title else 0)) * st.lh
        if (i == break_before and len(flow.pages) == 1) or flow.y + height > flow.bottom:
            flow.new_page(page_header, i)
        elif title is not None:
            title(flow)
        dl.page = len(flow.pages)
        for j, (text, indent) in enumerate(block):
            font = st.bold if (bold_names and j == 0 and len(block) == 2) else st.regular
            dx, dy, angle = 0, 0, 0.0
            if jitter is not None:
                dx, dy, angle = (
                    jitter.randint(-25, 25),
                    jitter.randint(-8, 8),
                    round(jitter.uniform(-1.2, 1.2), 2),
                )
            flow.page.texts.append(
                TextEl(
                    x=x + indent * indent_px + dx,
                    y=flow.y + dy,
                    text=text,
                    font=font,
                    size=st.size,
                    indent=indent,
                    angle=angle,
                    ink=ink,
                    drug=i,
                )
            )
            flow.y += st.lh
        flow.y += round(st.lh * gap)


def _scribble(rng: Random, x: int, y: int, w: int, h: int, ink: str) -> Shape:
    """A signature: a smooth random stroke through a few points, and a loop back underneath."""
    n = rng.randint(6, 10)
    anchors = [(x + round(w * k / (n - 1)), y + rng.randint(0, h)) for k in range(n)]
    anchors[1:-1] = [(ax + rng.randint(-w // 12, w // 12), ay) for ax, ay in anchors[1:-1]]
    pts: list[tuple[int, int]] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(anchors):
        bulge = rng.randint(-h // 2, h // 2)
        for t in range(8):
            u = t / 8
            pts.append((round(x0 + (x1 - x0) * u), round(y0 + (y1 - y0) * u + bulge * math.sin(math.pi * u))))
    pts.append(anchors[-1])
    pts.append((x + w // 3, y + h + rng.randint(10, 40)))
    return Shape("scribble", tuple(pts), width=rng.randint(4, 7), ink=ink)


def _signature(flow: Flow, rng: Random, *, label: str | None, ink: str) -> None:
    """An optional label and a scribble, at the right, below the last line."""
    st = flow.style
    x = round(PAGE_W * rng.uniform(0.55, 0.62))
    y = flow.y + round(st.lh * rng.uniform(0.8, 2.0))
    if label:
        flow.page.texts.append(TextEl(x, y, label, st.header_regular, round(st.size * 0.9)))
        y += st.lh
    flow.page.shapes.append(_scribble(rng, x + 40, y + 20, rng.randint(380, 560), rng.randint(90, 160), ink))
    flow.y = y + 260


def _footer(page: Page, font: Path, texts: Sequence[str], size: int) -> None:
    """Small centred lines at the bottom of a page."""
    y = PAGE_H - 150 - len(texts) * round(size * 1.4)
    for t in texts:
        page.texts.append(TextEl(round((PAGE_W - _width(t, font, size)) / 2), y, t, font, size))
        y += round(size * 1.4)


def _page_marks(flow: Flow) -> None:
    """'Page k/n' at the bottom right of every page of a multi-page document."""
    n = len(flow.pages)
    if n == 1:
        return
    size = round(flow.style.size * 0.8)
    for k, page in enumerate(flow.pages, start=1):
        x = PAGE_W - flow.margin - 300
        page.texts.append(TextEl(x, PAGE_H - 120, f"Page {k}/{n}", flow.style.header_regular, size))


# --------------------------------------------------------------------------- layouts


@dataclass
class Facts:
    patient: Patient
    prescriber: Prescriber
    on: date
    lines: list[DrugLine]
    two_pages: bool
    birth_shown: bool = False  # set by the layout: the birth date is printed


def _continuation_header(facts: Facts) -> PageHeader:
    p = facts.patient

    def header(flow: Flow, _next: int) -> None:
        civ = "Mme" if p.sex == "F" else "M."
        flow.line(
            flow.margin, f"Suite de l'ordonnance de {civ} {p.last} {p.first}", font=flow.style.header_regular
        )
        flow.y += flow.style.lh

    return header


def _break_index(facts: Facts, rng: Random) -> int | None:
    n = len(facts.lines)
    # the last one to three lines go on the second sheet, as when the first one is full
    return n - rng.randint(1, 3) if facts.two_pages else None


def _centred(flow: Flow, text: str, font: Path, size: int) -> None:
    flow.line(round((PAGE_W - _width(text, font, size)) / 2), text, font=font, size=size)


def layout_gp(facts: Facts, st: Style, rng: Random) -> list[Page]:
    """Prescriber top left, date and patient top right, numbered lines (GP software)."""
    margin = rng.randint(170, 260)
    flow = Flow(st, top=rng.randint(170, 260), bottom=PAGE_H - 620, margin=margin)
    d = facts.prescriber
    for k, text in enumerate(_prescriber_lines(d, rng)):
        font, size = (st.bold, round(st.size * 1.2)) if k == 0 else (st.regular, st.size)
        flow.line(margin, text, font=font, size=size)
    left_bottom = flow.y
    flow.y = flow.top
    right = round(PAGE_W * rng.uniform(0.54, 0.6))
    flow.line(right, _date_text(facts.on, rng, d.city))
    flow.y += st.lh
    patient, facts.birth_shown = _patient_lines(facts.patient, rng)
    for text in patient:
        flow.line(right, text)
    flow.y = max(flow.y, left_bottom) + st.lh
    if rng.random() < 0.5:
        _centred(flow, "ORDONNANCE", st.bold, round(st.size * 1.3))
        flow.y += st.lh
    _place_drugs(
        flow,
        facts.lines,
        x=margin,
        indent_px=rng.randint(90, 140),
        numbering=rng.choice(("paren", "paren", "dot", "dash")),
        sep=rng.choice((" : ", " : ", " - ")),
        break_before=_break_index(facts, rng),
        page_header=_continuation_header(facts),
    )
    if rng.random() < 0.3:
        flow.y += st.lh // 2
        flow.line(margin, f"Ordonnance valable 3 mois, renouvelable {rng.randint(1, 3)} fois")
    _signature(flow, rng, label=rng.choice(("Signature", "Signature", None)), ink="black")
    footers = rng.sample(FOOTERS, rng.randint(0, 2))
    for page in flow.pages:
        _footer(page, st.regular, footers, round(st.size * 0.75))
    _page_marks(flow)
    return flow.pages


ALD_TITLE = (
    "Prescriptions relatives au traitement de",
    "l'affection de longue durée reconnue (liste ou hors liste)",
)
ALD_SUBTITLE = "(AFFECTION EXONÉRANTE)"
NON_ALD_TITLE = "Prescriptions SANS RAPPORT avec l'affection de longue durée"
NON_ALD_SUBTITLE = "(MALADIES INTERCURRENTES)"


def layout_bizone(facts: Facts, st: Style, rng: Random) -> list[Page]:
    """The ALD bizone form: identification boxes, the ALD zone, a rule, the zone without
    relation to the ALD. The first title is cut before "l'affection" so that the line the
    parser reads as the zone title holds "affection de longue durée" whole."""
    margin = rng.randint(150, 200)
    flow = Flow(st, top=rng.randint(150, 220), bottom=PAGE_H - 560, margin=margin)
    d = facts.prescriber
    box_top = flow.y
    mid = PAGE_W // 2
    for k, text in enumerate(_prescriber_lines(d, rng)):
        flow.line(margin + 30, text, font=st.bold if k == 0 else st.regular)
    left_bottom = flow.y
    flow.y = box_top
    patient, facts.birth_shown = _patient_lines(facts.patient, rng)
    for text in patient:
        flow.line(mid + 40, text)
    flow.y = max(flow.y, left_bottom) + 20
    for x0, x1 in ((margin, mid - 20), (mid + 20, PAGE_W - margin)):
        flow.page.shapes.append(Shape("rect", ((x0, box_top - 25), (x1, flow.y)), width=3))
    flow.y += st.lh // 2
    flow.line(mid + 40, _date_text(facts.on, rng, d.city))
    flow.y += st.lh // 2
    title_size = round(st.size * 0.95)

    def ald_title(flow: Flow) -> None:
        for t in ALD_TITLE:
            _centred(flow, t, st.bold, title_size)
        _centred(flow, ALD_SUBTITLE, st.regular, round(st.size * 0.8))
        flow.y += st.lh // 3

    def non_ald_title(flow: Flow) -> None:
        flow.y += st.lh // 3
        flow.page.shapes.append(Shape("rule", ((margin, flow.y), (PAGE_W - margin, flow.y)), width=5))
        flow.y += st.lh // 2
        _centred(flow, NON_ALD_TITLE, st.bold, title_size)
        _centred(flow, NON_ALD_SUBTITLE, st.regular, round(st.size * 0.8))
        flow.y += st.lh // 3

    def page_header(flow: Flow, nxt: int) -> None:
        _continuation_header(facts)(flow, nxt)
        # the zone goes on on the new sheet: its title is printed again
        (ald_title if facts.lines[nxt].ald else non_ald_title)(flow)

    n_ald = sum(1 for dl in facts.lines if dl.ald)
    titles: dict[int, Callable[[Flow], None]] = {0: ald_title}
    if n_ald < len(facts.lines):
        titles[n_ald] = non_ald_title
    _place_drugs(
        flow,
        facts.lines,
        x=margin + 20,
        indent_px=rng.randint(90, 140),
        numbering=rng.choice(("paren", "dot")),
        sep=" : ",
        break_before=_break_index(facts, rng),
        page_header=page_header,
        zone_titles=titles,
    )
    if n_ald == len(facts.lines):
        non_ald_title(flow)  # the second zone is printed, empty
    _signature(flow, rng, label="Signature du médecin", ink="black")
    _page_marks(flow)
    return flow.pages


HOSPITALS = (
    "Centre Hospitalier de {city}",
    "CHU de {city}",
    "Hôpital de {city}",
    "Groupe Hospitalier de {city}",
)


def layout_hospital(facts: Facts, st: Style, rng: Random) -> list[Page]:
    """A logo box and the service, drug names in bold, posology on the next indented line."""
    margin = rng.randint(160, 230)
    flow = Flow(st, top=rng.randint(150, 220), bottom=PAGE_H - 560, margin=margin)
    d = facts.prescriber
    logo = rng.randint(220, 300)
    top = flow.y
    q1, q3 = logo // 4, 3 * logo // 4
    flow.page.shapes += [
        Shape("rect", ((margin, top), (margin + logo, top + logo)), width=8),
        Shape("disc", ((margin + q1, top + q1), (margin + q3, top + q3))),
        Shape(
            "rule",
            ((margin + logo // 2, top + logo // 6), (margin + logo // 2, top + 5 * logo // 6)),
            width=18,
        ),
    ]
    x = margin + logo + 60
    flow.line(x, rng.choice(HOSPITALS).format(city=d.city), font=st.bold, size=round(st.size * 1.3))
    flow.line(x, rng.choice(HOSPITAL_SERVICES))
    flow.line(x, f"Secrétariat : {d.phone}")
    if d.finess:
        flow.line(x, f"FINESS {d.finess}")
    flow.y = max(flow.y, top + logo) + st.lh
    top2 = flow.y
    flow.line(margin, f"Dr {d.name}", font=st.bold)
    flow.line(margin, d.specialty)
    flow.line(margin, rng.choice((f"RPPS {d.rpps}", f"N° RPPS : {d.rpps}")))
    left_bottom = flow.y
    flow.y = top2
    right = round(PAGE_W * rng.uniform(0.52, 0.58))
    flow.line(right, _date_text(facts.on, rng, d.city))
    patient, facts.birth_shown = _patient_lines(facts.patient, rng, hospital=True)
    for text in patient:
        flow.line(right, text)
    flow.y = max(flow.y, left_bottom) + st.lh
    _centred(flow, rng.choice(("ORDONNANCE DE SORTIE", "ORDONNANCE")), st.bold, round(st.size * 1.25))
    flow.y += st.lh // 2
    for dl in facts.lines:
        dl.next_line = True
    _place_drugs(
        flow,
        facts.lines,
        x=margin,
        indent_px=rng.randint(100, 160),
        numbering=rng.choice(("paren", "dot", None)),
        sep=" : ",
        bold_names=True,
        break_before=_break_index(facts, rng),
        page_header=_continuation_header(facts),
        gap=0.5,
    )
    _signature(flow, rng, label=f"Dr {d.name}", ink="black")
    footers = rng.sample(HOSPITAL_FOOTERS, rng.randint(1, 2))
    for page in flow.pages:
        _footer(page, st.regular, footers, round(st.size * 0.75))
    _page_marks(flow)
    return flow.pages


def layout_handwritten(facts: Facts, st: Style, rng: Random) -> list[Page]:
    """A printed letterhead, then a handwriting-like body in blue ink: unnumbered lines, each
    moved by up to 25 px sideways, 8 px up or down and turned by up to 1.2 degrees."""
    margin = rng.randint(170, 240)
    flow = Flow(st, top=rng.randint(140, 200), bottom=PAGE_H - 520, margin=margin)
    d = facts.prescriber
    head = round(st.size * rng.uniform(0.62, 0.72))  # the letterhead is printed smaller
    for k, text in enumerate(_prescriber_lines(d, rng)):
        font = st.header_bold if k == 0 else st.header_regular
        _centred(flow, text, font, round(head * 1.2) if k == 0 else head)
    flow.y += 20
    flow.page.shapes.append(Shape("rule", ((margin, flow.y), (PAGE_W - margin, flow.y)), width=3))
    flow.y += st.lh
    ink = "blue"
    on = facts.on
    date_text = rng.choice((f"le {on:%d/%m/%y}", f"Le {on:%d/%m/%Y}", f"{d.city}, le {on:%d/%m/%Y}"))
    angle = round(rng.uniform(-1, 1), 2)
    flow.page.texts.append(
        TextEl(round(PAGE_W * 0.55), flow.y, date_text, st.regular, st.size, angle=angle, ink=ink)
    )
    flow.y += round(st.lh * 1.3)
    patient, facts.birth_shown = _patient_lines(facts.patient, rng, hand=True)
    for text in patient:
        x, angle = margin + rng.randint(0, 60), round(rng.uniform(-1, 1), 2)
        flow.page.texts.append(TextEl(x, flow.y, text, st.regular, st.size, angle=angle, ink=ink))
        flow.y += st.lh
    flow.y += st.lh
    _place_drugs(
        flow,
        facts.lines,
        x=margin + 40,
        indent_px=rng.randint(100, 180),
        numbering=None,
        sep=rng.choice((" : ", " ")),
        break_before=_break_index(facts, rng),
        jitter=rng,
        ink=ink,
        gap=0.3,
    )
    _signature(flow, rng, label=None, ink=ink)
    _page_marks(flow)
    return flow.pages


LAYOUT_FUNCS: dict[str, Callable[[Facts, Style, Random], list[Page]]] = {
    "gp_software": layout_gp,
    "bizone_ald": layout_bizone,
    "hospital": layout_hospital,
    "handwritten": layout_handwritten,
}


# --------------------------------------------------------------------------- composition


@dataclass
class Document:
    """One ordonnance: its pages (what to draw) and its ground truth (without files)."""

    index: int
    doc_id: str
    pages: list[Page]
    truth: dict[str, Any]
    fmt: str  # png jpeg tiff webp pdf
    text_layer: bool  # PDF made from HTML, with real text


FORMAT_WEIGHTS_ONE_PAGE = {
    "png": 0.27,
    "jpeg": 0.27,
    "tiff": 0.11,
    "webp": 0.1,
    "pdf_image": 0.15,
    "pdf_text": 0.1,
}
FORMAT_WEIGHTS_TWO_PAGES = {"pdf_image": 0.45, "pdf_text": 0.2, "tiff": 0.35}


def _choice(rng: Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _n_lines(rng: Random, layout: str, two_pages: bool) -> int:
    """3-12 drug lines (mean ~7); 8-12 when they run onto a second sheet; by hand, fewer."""
    if layout == "handwritten":
        return rng.randint(6, 8) if two_pages else rng.randint(3, 8)
    if two_pages:
        return rng.randint(8, 12)
    return max(3, min(12, round(rng.gauss(7, 2.5))))


def _style(rng: Random, layout: str) -> Style:
    header_family, header_regular, header_bold = resolve_family(rng.choice(list(PRINTED_FAMILIES)))
    if layout == "handwritten":
        family, regular, bold = resolve_family(rng.choice(list(HAND_FAMILIES)))
        size = round(rng.uniform(15, 18) * PT)
    else:
        family, regular, bold = header_family, header_regular, header_bold
        size = round(rng.uniform(10, 13) * PT)
    return Style(family, regular, bold, size, header_family, header_regular, header_bold)


def _text(pages: list[Page]) -> str:
    return "\n".join("    " * el.indent + el.text for page in pages for el in page.texts)


def compose_one(seed: int, index: int) -> Document:
    """The content, layout and truth of document ``index`` (deterministic, no image)."""
    rng = Random(f"ocr-corpus:{seed}:{index}:content")
    layout = rng.choices(LAYOUTS, weights=LAYOUT_WEIGHTS)[0]
    on = _draw_date(rng)
    patient = _draw_patient(rng, on)
    specialties = SPECIALTIES_HOSPITAL if layout == "hospital" else SPECIALTIES_GP
    prescriber = _draw_prescriber(rng, specialties)
    hand = layout == "handwritten"
    two_pages = rng.random() < TWO_PAGES
    n = _n_lines(rng, layout, two_pages)
    drugs = _draw_drugs(rng, patient.sex, n)
    # bizone form: the first n_ald chronic drugs are those of the ALD zone (at least one)
    n_chronic = sum(d.chronic for d in drugs)
    n_ald = rng.randint(1, max(1, n_chronic)) if layout == "bizone_ald" else 0
    lines: list[DrugLine] = []
    placement = rng.random()  # share of posologies on a continuation line
    for k, drug in enumerate(drugs):
        sched = rng.choice(drug.schedules)
        halvable = drug.drug_id in HALVABLE and sched.kind in ("matin", "soir", "jour") and sched.units == 1
        if halvable and rng.random() < 0.15:
            sched = Schedule(sched.kind, 0.5)
        posology, duration = _posology(drug, sched, rng)
        printed, alt = _description(drug, rng, hand)
        dl = DrugLine(
            drug=drug,
            schedule=sched,
            printed=printed,
            alt_printed=alt,
            posology=posology,
            duration_days=duration,
            # a two-page document is spaced out: posologies on their own lines
            next_line=(rng.random() < placement * 0.8) or two_pages,
            number=k + 1,
            ald=(k < n_ald) if layout == "bizone_ald" else None,
        )
        lines.append(dl)
    facts = Facts(patient, prescriber, on, lines, two_pages=two_pages and len(lines) >= 5)
    style = _style(rng, layout)
    pages = LAYOUT_FUNCS[layout](facts, style, rng)
    fmt_key = _choice(rng, FORMAT_WEIGHTS_TWO_PAGES if len(pages) > 1 else FORMAT_WEIGHTS_ONE_PAGE)
    fmt = "pdf" if fmt_key.startswith("pdf") else fmt_key
    doc_id = f"ordo_{index:04d}"
    truth: dict[str, Any] = {
        "id": doc_id,
        "files": [],
        "format": fmt,
        "text_layer": fmt_key == "pdf_text",
        "pages": len(pages),
        "layout": layout,
        "font": style.family,
        "fonts": {
            "body": style.family,
            "body_file": style.regular.name,
            "header": style.header_family,
            "header_file": style.header_regular.name,
        },
        "font_size_pt": round(style.size / PT, 1),
        "profile": None,
        "degradations": [],
        "text": _text(pages),
        "patient": {
            "sex": patient.sex,
            "age": patient.age,
            "birth_date": patient.birth.isoformat() if facts.birth_shown else None,
            "weight_kg": patient.weight,
            "clearance_ml_min": patient.clearance,
        },
        "prescriber": {"name": prescriber.name, "rpps": prescriber.rpps, "specialty": prescriber.specialty},
        "date": on.isoformat(),
        "lines": [
            {
                "number": dl.number,
                "printed": dl.printed,
                "posology": dl.posology,
                "posology_placement": "next_line" if dl.next_line else "inline",
                "drug_id": dl.drug.drug_id,
                "substances": list(dl.drug.keys),
                "units_per_intake": dl.schedule.units,
                "unit": dl.drug.unit,
                "intakes_per_day": dl.schedule.intakes_per_day,
                "as_needed": dl.schedule.kind == "prn",
                "max_units_per_day": float(dl.schedule.max_per_day * dl.schedule.units)
                if dl.schedule.max_per_day
                else None,
                "duration_days": dl.duration_days,
                "ald": dl.ald,
                "page": dl.page,
            }
            for dl in lines
        ],
    }
    return Document(index, doc_id, pages, truth, fmt, fmt_key == "pdf_text")


def compose(n: int, seed: int) -> list[Document]:
    """The n documents of a seed, without rendering: their truth is ``doc.truth``."""
    return [compose_one(seed, i) for i in range(n)]


# --------------------------------------------------------------------------- rasterising

INKS = {"black": (22, 22, 26), "blue": (28, 45, 120)}


def _ink(name: str, mode: str) -> int | tuple[int, int, int]:
    r, g, b = INKS[name]
    return (r, g, b) if mode == "RGB" else round(0.299 * r + 0.587 * g + 0.114 * b)


def rasterise(page: Page, mode: str) -> Image.Image:
    """The page as a white A4 image at 300 dpi."""
    img = Image.new(mode, (PAGE_W, PAGE_H), (255, 255, 255) if mode == "RGB" else 255)
    draw = ImageDraw.Draw(img)
    for sh in page.shapes:
        ink = _ink(sh.ink, mode)
        if sh.kind == "rule":
            draw.line(sh.points, fill=ink, width=sh.width)
        elif sh.kind == "rect":
            draw.rectangle(sh.points, outline=ink, width=sh.width)
        elif sh.kind == "disc":
            draw.ellipse(sh.points, fill=_ink("black", mode) if mode == "L" else (90, 90, 100))
        elif sh.kind == "scribble":
            draw.line(sh.points, fill=ink, width=sh.width, joint="curve")
    for el in page.texts:
        font = _font(el.font, el.size)
        ink = _ink(el.ink, mode)
        if el.angle == 0:
            draw.text((el.x, el.y), el.text, font=font, fill=ink)
            continue
        _, _, right, bottom = font.getbbox(el.text)
        mask = Image.new("L", (math.ceil(right) + 8, math.ceil(bottom) + 8), 0)
        ImageDraw.Draw(mask).text((4, 4), el.text, font=font, fill=255)
        rotated = mask.rotate(el.angle, resample=Image.Resampling.BICUBIC, expand=True)
        dy = (rotated.height - mask.height) // 2
        img.paste(ink, (el.x - 4, el.y - 4 - dy), rotated)
    return img


# --------------------------------------------------------------------------- degradations


@dataclass
class Degradation:
    name: str
    params: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "params": self.params}


def choose_degradations(
    rng: Random, fmt: str, pages: int, text_layer: bool, profile: str
) -> list[Degradation]:
    """The degradations of one document, with their parameters (none for clean or text PDFs)."""
    if profile == "clean" or text_layer:
        return []
    out: list[Degradation] = []
    if rng.random() < 0.5:
        level = rng.randint(212, 245)
        tint = rng.choice(("grey", "cream"))
        out.append(Degradation("paper_tone", {"level": level, "tint": tint}))
    if rng.random() < 0.3:
        out.append(
            Degradation(
                "shadow", {"strength": round(rng.uniform(0.15, 0.45), 2), "angle": rng.randrange(0, 360, 15)}
            )
        )
    phone = fmt in ("jpeg", "webp") and pages == 1 and rng.random() < 0.4
    if phone:
        long_side = rng.randint(1200, 1600)
        corners = [[round(rng.uniform(0.0, 0.07), 3), round(rng.uniform(0.0, 0.06), 3)] for _ in range(4)]
        out.append(Degradation("phone_photo", {"long_side": long_side, "corner_insets": corners}))
    elif rng.random() < 0.55:
        angle = round(rng.uniform(0.3, 4.0) * rng.choice((-1, 1)), 2)
        out.append(Degradation("skew", {"angle": angle}))
    if rng.random() < 0.35:
        radius = round(rng.uniform(0.4, 1.0) if phone else rng.uniform(0.5, 1.5), 2)
        out.append(Degradation("blur", {"radius": radius}))
    # sensor noise is a camera's: frequent in JPEG and WebP, rarer in scans (PNG, TIFF, PDF)
    if rng.random() < (0.5 if fmt in ("jpeg", "webp") else 0.15):
        out.append(Degradation("gaussian_noise", {"sigma": round(rng.uniform(4, 16), 1)}))
    if rng.random() < 0.2:
        out.append(Degradation("speckle", {"count": rng.randint(300, 3000)}))
    if rng.random() < 0.11:
        angle = rng.choice((90, 180, 270))
        # a phone stores its pictures as the sensor saw them and says how to turn them in EXIF
        if fmt == "jpeg" and pages == 1 and rng.random() < (0.8 if phone else 0.5):
            out.append(Degradation("exif_orientation", {"stored_rotation": angle, "tag": _EXIF_TAG[angle]}))
        else:
            out.append(Degradation("rotation", {"angle": angle}))
    if fmt == "jpeg":
        out.append(Degradation("jpeg_quality", {"quality": rng.randint(30, 70)}))
    elif fmt == "webp":
        out.append(Degradation("webp_quality", {"quality": rng.randint(30, 70)}))
    return out


# stored pixels = upright page rotated by this many degrees counter-clockwise -> EXIF tag
_EXIF_TAG = {90: 6, 180: 3, 270: 8}
_ROTATE = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}


def _paper_color(mode: str, params: dict[str, Any] | None) -> int | tuple[int, int, int]:
    if params is None:
        return (255, 255, 255) if mode == "RGB" else 255
    level = int(params["level"])
    if mode == "RGB":
        return (level, level, level) if params["tint"] == "grey" else (min(255, level + 6), level, level - 14)
    return level


def _perspective_coeffs(
    src: Sequence[tuple[float, float]], dst: Sequence[tuple[float, float]]
) -> list[float]:
    """Coefficients of Image.transform(PERSPECTIVE) mapping output points dst to input points src."""
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    # Gaussian elimination with partial pivoting on the 8x8 system
    a = [[*row, b] for row, b in zip(rows, rhs, strict=True)]
    for c in range(8):
        p = max(range(c, 8), key=lambda r: abs(a[r][c]))
        a[c], a[p] = a[p], a[c]
        for r in range(8):
            if r != c:
                f = a[r][c] / a[c][c]
                a[r] = [vr - f * vc for vr, vc in zip(a[r], a[c], strict=True)]
    return [a[i][8] / a[i][i] for i in range(8)]


def _noise_lut(sigma: float) -> list[int]:
    nd = NormalDist(128, sigma)
    return [max(0, min(255, round(nd.inv_cdf((i + 0.5) / 256)))) for i in range(256)]


def _merge(mode: str, band: Image.Image) -> Image.Image:
    return band if mode == "L" else Image.merge("RGB", (band, band, band))


def degrade(img: Image.Image, degradations: Sequence[Degradation], rng: Random) -> Image.Image:
    """Apply the degradations in a fixed physical order: paper, light, geometry, optics, sensor."""
    by = {d.name: d.params for d in degradations}
    mode = img.mode
    paper = by.get("paper_tone")
    if paper is not None:
        color = _paper_color(mode, paper)
        levels = color if isinstance(color, tuple) else (color,)
        lut = [round(v * lv / 255) for lv in levels for v in range(256)]
        img = img.point(lut)
    if "shadow" in by:
        s, angle = by["shadow"]["strength"], by["shadow"]["angle"]
        grad = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR, expand=False)
        grad = grad.crop((40, 40, 216, 216)).resize(img.size, Image.Resampling.BILINEAR)
        grad = grad.point([round(255 * (1 - s) + v * s) for v in range(256)])
        img = ImageChops.multiply(img, _merge(mode, grad))
    background = _paper_color(mode, paper)
    if "skew" in by:
        img = img.rotate(by["skew"]["angle"], resample=Image.Resampling.BILINEAR, fillcolor=background)
    if "phone_photo" in by:
        params = by["phone_photo"]
        scale = params["long_side"] / max(img.size)
        w, h = round(img.width * scale), round(img.height * scale)
        img = img.resize((w, h), Image.Resampling.LANCZOS)
        (a, b), (c, d_), (e, f), (g, h_) = params["corner_insets"]
        dst = [(a * w, b * h), (w - c * w, d_ * h), (w - e * w, h - f * h), (g * w, h - h_ * h)]
        src = [(0, 0), (w, 0), (w, h), (0, h)]
        table = (120, 104, 88) if mode == "RGB" else 100
        img = img.transform(
            (w, h),
            Image.Transform.PERSPECTIVE,
            _perspective_coeffs(src, dst),
            resample=Image.Resampling.BICUBIC,
            fillcolor=table,
        )
    if "blur" in by:
        img = img.filter(ImageFilter.GaussianBlur(by["blur"]["radius"]))
    if "gaussian_noise" in by:
        noise = Image.frombytes("L", img.size, rng.randbytes(img.width * img.height))
        noise = noise.point(_noise_lut(by["gaussian_noise"]["sigma"]))
        img = ImageChops.add(img, _merge(mode, noise), scale=1.0, offset=-128)
    if "speckle" in by:
        draw = ImageDraw.Draw(img)
        for _ in range(by["speckle"]["count"]):
            x, y, r = rng.randrange(img.width), rng.randrange(img.height), rng.randint(1, 3)
            dark = rng.random() < 0.7
            v = rng.randint(0, 90) if dark else 255
            draw.ellipse((x, y, x + r, y + r), fill=(v, v, v) if mode == "RGB" else v)
    for name in ("rotation", "exif_orientation"):
        if name in by:
            key = "angle" if name == "rotation" else "stored_rotation"
            img = img.transpose(_ROTATE[by[name][key]])
    return img


# --------------------------------------------------------------------------- writing


def _pdf_date(on: date) -> time.struct_time:
    """A fixed PDF creation date (the ordonnance's), so that the same seed gives the same bytes."""
    return datetime(on.year, on.month, on.day, 12, 0, 0).timetuple()


def _save_images(
    images: list[Image.Image], path: Path, fmt: str, doc: Document, degr: list[Degradation]
) -> dict[str, Any]:
    """Write the page images; returns the encoding parameters."""
    by = {d.name: d.params for d in degr}
    dpi = DPI
    if "phone_photo" in by:
        dpi = round(DPI * by["phone_photo"]["long_side"] / PAGE_H)
    first, rest = images[0], images[1:]
    if fmt == "png":
        first.save(path, format="PNG", dpi=(dpi, dpi), compress_level=3)
        return {"dpi": dpi}
    if fmt == "jpeg":
        quality = by.get("jpeg_quality", {}).get("quality", 92)
        kwargs: dict[str, Any] = {}
        if "exif_orientation" in by:
            exif = Image.Exif()
            exif[0x0112] = by["exif_orientation"]["tag"]
            kwargs["exif"] = exif.tobytes()
        first.save(path, format="JPEG", quality=quality, dpi=(dpi, dpi), **kwargs)
        return {"dpi": dpi, "quality": quality}
    if fmt == "webp":
        quality = by.get("webp_quality", {}).get("quality", 90)
        first.save(path, format="WEBP", quality=quality, method=0)
        return {"quality": quality}
    if fmt == "tiff":
        first.save(
            path, format="TIFF", compression="tiff_lzw", dpi=(dpi, dpi), save_all=True, append_images=rest
        )
        return {"dpi": dpi, "compression": "lzw"}
    if fmt == "pdf":
        when = _pdf_date(date.fromisoformat(doc.truth["date"]))
        first.save(
            path,
            format="PDF",
            resolution=float(dpi),
            save_all=True,
            append_images=rest,
            title="Ordonnance",
            creationDate=when,
            modDate=when,
        )
        return {"dpi": dpi, "image_only": True}
    raise ValueError(fmt)


_CSS_PT = 72 / DPI  # one 300-dpi pixel in points


def _html(doc: Document) -> str:
    """The pages as HTML with every element absolutely placed, for a PDF with a text layer."""
    fonts: dict[Path, str] = {}
    for page in doc.pages:
        for el in page.texts:
            fonts.setdefault(el.font, f"F{len(fonts)}")
    faces = "\n".join(
        f'@font-face {{ font-family: "{name}"; src: url("{path.as_uri()}"); }}'
        for path, name in fonts.items()
    )
    parts = [
        "<!DOCTYPE html><html lang='fr'><head><meta charset='utf-8'>",
        f"<title>Ordonnance</title><meta name='dcterms.created' content='{doc.truth['date']}T12:00:00'>",
        f"<meta name='dcterms.modified' content='{doc.truth['date']}T12:00:00'>",
        "<style>@page { size: A4; margin: 0 } body { margin: 0 }",
        ".p { position: relative; width: 210mm; height: 297mm; overflow: hidden; break-after: page }",
        ".p:last-child { break-after: auto }",
        ".t { position: absolute; white-space: pre; line-height: 1; transform-origin: 0 50% }",
        faces,
        "</style></head><body>",
    ]
    for page in doc.pages:
        parts.append("<div class='p'>")
        for sh in page.shapes:
            r, g, b = INKS[sh.ink]
            color = f"rgb({r},{g},{b})"
            if sh.kind == "scribble":
                pts = " ".join(f"{x * _CSS_PT:.1f},{y * _CSS_PT:.1f}" for x, y in sh.points)
                parts.append(
                    "<svg style='position:absolute;left:0;top:0' width='595pt' height='842pt' "
                    "viewBox='0 0 595 842'>"
                    f"<polyline points='{pts}' fill='none' stroke='{color}' "
                    f"stroke-width='{sh.width * _CSS_PT:.2f}' stroke-linejoin='round' "
                    "stroke-linecap='round'/></svg>"
                )
                continue
            (x0, y0), (x1, y1) = sh.points
            w = sh.width * _CSS_PT
            box = f"left:{x0 * _CSS_PT:.1f}pt;top:{y0 * _CSS_PT:.1f}pt;"
            if sh.kind == "rule" and y0 == y1:
                parts.append(
                    f"<div style='position:absolute;{box}width:{(x1 - x0) * _CSS_PT:.1f}pt;"
                    f"border-top:{w:.2f}pt solid {color}'></div>"
                )
            elif sh.kind == "rule":
                parts.append(
                    f"<div style='position:absolute;left:{(x0 - sh.width / 2) * _CSS_PT:.1f}pt;"
                    f"top:{y0 * _CSS_PT:.1f}pt;"
                    f"width:{w:.2f}pt;height:{(y1 - y0) * _CSS_PT:.1f}pt;background:{color}'></div>"
                )
            else:
                radius = "border-radius:50%;" if sh.kind == "disc" else ""
                fill = f"background:{color};" if sh.kind == "disc" else f"border:{w:.2f}pt solid {color};"
                parts.append(
                    f"<div style='position:absolute;{box}width:{(x1 - x0) * _CSS_PT:.1f}pt;"
                    f"height:{(y1 - y0) * _CSS_PT:.1f}pt;{radius}{fill}box-sizing:border-box'></div>"
                )
        for el in page.texts:
            r, g, b = INKS[el.ink]
            rotate = f"transform:rotate({-el.angle}deg);" if el.angle else ""
            parts.append(
                f"<div class='t' style='left:{el.x * _CSS_PT:.1f}pt;top:{el.y * _CSS_PT:.1f}pt;"
                f'font-family:"{fonts[el.font]}";font-size:{el.size * _CSS_PT:.2f}pt;'
                f"color:rgb({r},{g},{b});{rotate}'>{html.escape(el.text)}</div>"
            )
        parts.append("</div>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _write_text_pdf(doc: Document, path: Path) -> None:
    import weasyprint  # imported here: only text-layer PDFs need it

    # whole fonts: weasyprint's font subsets are not byte-identical from one run to the next
    weasyprint.HTML(string=_html(doc)).write_pdf(path, full_fonts=True)


def _render_rng(doc: Document, seed: int, profile: str) -> Random:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
    return Random(f"ocr-corpus:{seed}:{doc.index}:render:{profile}")


def plan_degradations(doc: Document, seed: int, profile: str) -> list[Degradation]:
    """The degradations ``render`` applies to ``doc``, without rendering it."""
    return choose_degradations(
        _render_rng(doc, seed, profile), doc.fmt, len(doc.pages), doc.text_layer, profile
    )


def render(doc: Document, out_dir: Path, seed: int, profile: str) -> dict[str, Any]:
    """Write the document's file into out_dir; returns its complete truth record."""
    rng = _render_rng(doc, seed, profile)
    degradations = choose_degradations(rng, doc.fmt, len(doc.pages), doc.text_layer, profile)
    ext = {"png": "png", "jpeg": "jpg", "tiff": "tif", "webp": "webp", "pdf": "pdf"}[doc.fmt]
    name = f"{doc.doc_id}.{ext}"
    path = out_dir / name
    truth = dict(doc.truth)
    if doc.text_layer:
        _write_text_pdf(doc, path)
        encoding: dict[str, Any] = {"text_layer": True}
        sizes = [[PAGE_W, PAGE_H]] * len(doc.pages)
    else:
        # colour for photos and cream paper (and then the handwriting is in blue ink); a
        # grey-level scan otherwise, as most scanners send
        rgb = any(d.name == "phone_photo" or d.params.get("tint") == "cream" for d in degradations)
        rgb = rgb or (truth["layout"] == "handwritten" and doc.fmt in ("jpeg", "webp", "png"))
        mode = "RGB" if rgb else "L"
        images = [degrade(rasterise(page, mode), degradations, rng) for page in doc.pages]
        encoding = _save_images(images, path, doc.fmt, doc, degradations)
        sizes = [list(im.size) for im in images]
    truth.update(
        files=[name],
        profile=profile,
        degradations=[d.as_dict() for d in degradations],
        encoding=encoding,
        size_px=sizes,
    )
    return truth


def generate(n: int, seed: int, out_dir: Path, *, profile: str = "noisy") -> list[dict[str, Any]]:
    """Write n ordonnances and ``truth.jsonl`` into out_dir; returns the truth records."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, not {profile!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = [render(compose_one(seed, i), out_dir, seed, profile) for i in range(n)]
    with (out_dir / "truth.jsonl").open("w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return records


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="number of documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--profile", choices=PROFILES, default="noisy")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    records = generate(args.n, args.seed, args.out, profile=args.profile)
    elapsed = time.perf_counter() - start
    pages = sum(r["pages"] for r in records)
    formats: dict[str, int] = {}
    for r in records:
        key = r["format"] + ("+text" if r["text_layer"] else "")
        formats[key] = formats.get(key, 0) + 1
    print(
        f"{len(records)} documents, {pages} pages in {args.out} ({args.profile}) in {elapsed:.1f} s "
        f"({elapsed / max(pages, 1):.2f} s/page); formats {dict(sorted(formats.items()))}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
