"""Derive the project's ANSM interaction knowledge (rules/interactions/) from the thesaurus.

    python3 datasets/build/derive_ansm_interactions.py [--reference ../shared/reference]

Inputs (read-only, never copied): the Sept 2023 thesaurus as a CSV parsed from
the PDF by a third party, the Oct 2020 thesaurus as JSON, and the Oct 2020
substance index (substance -> ANSM classes). Outputs, all facts or our own
codes and wording:

* ansm_classes.csv       class -> member substances
* ansm_interactions.csv  one row per (pair of sides, level[, condition])
* conditions.yaml        evaluable conditions of multi-level entries
* risk_codes.yaml        closed vocabulary of risks (our labels)
* action_codes.yaml      closed vocabulary of actions (our labels)

The ANSM prose is read to classify each entry into risk and action codes; it
is never written out. Re-running on the same inputs gives identical files.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pharma_service.text import fold, substance_key  # noqa: E402

OUT = REPO / "rules" / "interactions"
CSV_2023 = ("ansm", "thesaurus_2023_09.csv")
JSON_2020 = ("ansm", "thesaurus-referentiel-national-des-interactions-medicamenteuses-20102020.json")
INDEX_2020 = ("ansm", "index-des-substances-20102020.json")
V2023 = "2023-09"
V2020 = "2020-10"

LEVELS = ("CI", "ASDEC", "PE", "APEC")  # most severe first
LEVEL_RANK = {lv: i for i, lv in enumerate(LEVELS)}
CSV_LEVELS = {"CI": "CI", "AD": "ASDEC", "PE": "PE", "APEC": "APEC"}
JSON_LEVELS = {
    "CONTRE-INDICATION": "CI",
    "Association DECONSEILLEE": "ASDEC",
    "Précaution d'emploi": "PE",
    "A prendre en compte": "APEC",
    "Il convient de prendre en compte": "APEC",
}
# A 2023 row whose conduct text starts with "CI - ASDEC - APEC" (etc.) is an entry
# with several levels that the PDF parser collapsed into its least severe level.
MARKER = re.compile(r"^\s*((?:CI|ASDEC|PE|APEC)(?:\s*-\s*(?:CI|ASDEC|PE|APEC))+)\b")

# --------------------------------------------------------------------------- names


def key(name: str) -> str:
    """The key of a thesaurus side, after the alias table."""
    raw = substance_key(name)
    return SIDE_ALIASES.get(raw, raw)


# Side keys that must be read as another key: truncations by the PDF parser and
# classes renamed between the 2020 and the 2023 thesaurus (2023 name is canonical).
REDUCED_ABSORPTION = (
    "substances a absorption reduite par les topiques gastro intestinaux antiacides et adsorbants"
)
SIDE_ALIASES: dict[str, str] = {
    # 2023 parser split "SUBSTANCES A ABSORPTION REDUITE ... ANTIACIDES ET ADSORBANTS"
    "adsorbants": REDUCED_ABSORPTION,
    "substances a absorption reduite par les topiques gastro intestinaux antiacides et": REDUCED_ABSORPTION,
    # renamed in 2023: same partners, now also covers apalutamide and enzalutamide
    "anticonvulsivants inducteurs enzymatiques": "inducteurs enzymatiques puissants",
}

# Canonical class keys absent from the 2020 index, with where their members come from.
IEP = "inducteurs enzymatiques puissants"
EXTRA_CLASSES: dict[str, dict[str, Any]] = {
    IEP: {
        "name": "inducteurs enzymatiques puissants",
        "from_index_class": "anticonvulsivants inducteurs enzymatiques",
        # named as members of this class in the 2023 conduct texts (clozapine, ledipasvir rows)
        "extra_members": ["apalutamide", "enzalutamide"],
    },
    "setrons": {
        "name": "sétrons",
        # INN stem -setron (5-HT3 antagonists); ondansetron is the only one in the 2020 index
        "from_index_class": None,
        "extra_members": ["ondansétron", "granisétron", "palonosétron", "tropisétron"],
    },
}

# Side names that denote a group of drugs but have no membership in the 2020 index
# and no safe alias. They are written as kind "substance" (they match no real
# substance, so they never fire) and listed in the summary and the README.
UNMAPPED_GROUPS = {
    "medicaments a l origine d atteintes musculaires",
    "autres medicaments a l origine d atteintes musculaires",
    "corticoides voie intra articulaire",
    "glucocorticoides par voie intra articulaire et metabolises",
    "medicaments administres par voie orale",
    "medicaments utilises par voie vaginale",
    "sels de fer par voie injectable",
}

# Rows of the 2023 CSV whose side the parser took from the previous block:
# (substance, interactant) as written -> corrected substance side.
ROW_FIXES = {
    ("MÉDICAMENTS SÉDATIFS", "AUTRES MEDICAMENTS À RISQUE D'ANGIO-ŒDÈME"): (
        "MÉDICAMENTS, BRADYKININE ET ANGIO-ŒDÈME"
    ),
}


def fix_row_sides(substance: str, interactant: str) -> tuple[str, str]:
    fixed = ROW_FIXES.get((substance, interactant))
    return (fixed, interactant) if fixed else (substance, interactant)


def pair_of(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


# --------------------------------------------------------------------------- conditions

Spec = dict[str, Any]
ASPIRIN = "acide acetylsalicylique"
MTX = "methotrexate"


def dose(substance: str, **ranges: dict[str, float]) -> Spec:
    spec: Spec = {"kind": "dose", "substance": substance}
    spec.update(ranges)
    return spec


def present(substance: str) -> Spec:
    """A dose condition without a range: true when the substance is on the list."""
    return {"kind": "dose", "substance": substance_key(substance)}


def any_present(names: Iterable[str]) -> Spec:
    keys = sorted({substance_key(n) for n in names})
    return present(keys[0]) if len(keys) == 1 else {"kind": "any", "of": [present(k) for k in keys]}


def any_of(*specs: Spec) -> Spec:
    return {"kind": "any", "of": list(specs)}


def all_of(*specs: Spec) -> Spec:
    return {"kind": "all", "of": list(specs)}


MANUAL: Spec = {"kind": "manual"}
ULCER = ["K25", "K26", "K27", "K28"]
ASPIRIN_AI = any_of(dose(ASPIRIN, per_intake_mg={"min": 1000}), dose(ASPIRIN, daily_mg={"min": 3000}))
# ANSM writes ">= 500 mg per intake and/or < 3 g per day"; read as "and": with "or",
# every antiplatelet dose (< 3 g/day) would also be an analgesic dose.
ASPIRIN_ANALGESIC = all_of(dose(ASPIRIN, per_intake_mg={"min": 500}), dose(ASPIRIN, daily_mg={"max": 3000}))
# 50 to 375 mg/day inclusive; max is exclusive in the schema.
ASPIRIN_ANTIPLATELET = dose(ASPIRIN, daily_mg={"min": 50, "max": 375.01})
ULCER_HISTORY = {"kind": "diagnosis", "icd10_prefixes": ULCER, "present": True}
NO_ULCER_HISTORY = {"kind": "diagnosis", "icd10_prefixes": ULCER, "present": False}
# "> 20 mg/week" (min inclusive in the schema, hence 20.01) and "<= 20 mg/week".
MTX_HIGH = dose(MTX, weekly_mg={"min": 20.01})
MTX_LOW = dose(MTX, weekly_mg={"max": 20.01})
CITALOPRAM_GROUP = ["citalopram", "dompéridone", "escitalopram", "hydroxyzine", "pipéraquine"]


def build_conditions(members: dict[str, set[str]]) -> dict[str, tuple[str, Spec]]:
    """Condition id -> (our French label, evaluable spec). ``members`` maps class -> member keys."""

    def cls(class_key: str, *, minus: Iterable[str] = ()) -> list[str]:
        drop = {substance_key(m) for m in minus}
        return sorted(members[class_key] - drop)

    opioids = cls("morphiniques", minus=["naloxone", "naltrexone", "nalméfène"]) + cls("barbituriques")
    return {
        # -- aspirin dose bands and ulcer history
        "aspirin_antiinflammatory_dose": (
            "Aspirine à dose anti-inflammatoire (≥ 1 g par prise ou ≥ 3 g par jour)",
            ASPIRIN_AI,
        ),
        "aspirin_analgesic_dose": (
            "Aspirine à dose antalgique ou antipyrétique (≥ 500 mg par prise, < 3 g par jour)",
            ASPIRIN_ANALGESIC,
        ),
        "aspirin_antiinflammatory_or_analgesic_dose": (
            "Aspirine à dose anti-inflammatoire, antalgique ou antipyrétique (≥ 500 mg par prise)",
            any_of(ASPIRIN_AI, ASPIRIN_ANALGESIC),
        ),
        "aspirin_antiplatelet_dose": (
            "Aspirine à dose antiagrégante (50 à 375 mg par jour)",
            ASPIRIN_ANTIPLATELET,
        ),
        "aspirin_ai_dose_or_analgesic_dose_with_ulcer_history": (
            "Aspirine à dose anti-inflammatoire, ou antalgique avec antécédent d'ulcère gastro-duodénal",
            any_of(ASPIRIN_AI, all_of(ASPIRIN_ANALGESIC, ULCER_HISTORY)),
        ),
        "aspirin_analgesic_dose_without_ulcer_or_antiplatelet_with_ulcer": (
            "Aspirine à dose antalgique sans antécédent d'ulcère, ou antiagrégante avec antécédent d'ulcère",
            any_of(all_of(ASPIRIN_ANALGESIC, NO_ULCER_HISTORY), all_of(ASPIRIN_ANTIPLATELET, ULCER_HISTORY)),
        ),
        # -- methotrexate weekly dose
        "methotrexate_above_20mg_week": ("Méthotrexate à plus de 20 mg par semaine", MTX_HIGH),
        "methotrexate_20mg_week_or_less": ("Méthotrexate à 20 mg par semaine ou moins", MTX_LOW),
        "methotrexate_above_20mg_week_with_aspirin_analgesic_or_ai_dose": (
            "Méthotrexate > 20 mg/semaine et aspirine à dose antalgique, antipyrétique ou anti-inflammatoire",
            all_of(MTX_HIGH, any_of(ASPIRIN_AI, ASPIRIN_ANALGESIC)),
        ),
        "methotrexate_aspirin_precaution_cases": (
            "Méthotrexate > 20 mg/sem. avec aspirine antiagrégante, "
            "ou ≤ 20 mg/sem. avec aspirine antalgique ou anti-inflammatoire",
            any_of(
                all_of(MTX_HIGH, ASPIRIN_ANTIPLATELET),
                all_of(MTX_LOW, any_of(ASPIRIN_AI, ASPIRIN_ANALGESIC)),
            ),
        ),
        # -- patient
        "patient_aged_65_or_more": ("Patient âgé (65 ans ou plus)", {"kind": "age", "min": 65}),
        # -- a named member of a class side is involved
        "with_doxazosin": ("Avec la doxazosine", present("doxazosine")),
        "with_nimodipine": ("Avec la nimodipine", present("nimodipine")),
        "with_lercanidipine": ("Avec la lercanidipine", present("lercanidipine")),
        "with_rosuvastatin": ("Avec la rosuvastatine", present("rosuvastatine")),
        "with_ketoconazole": ("Avec le kétoconazole", present("kétoconazole")),
        "with_rifampicin": ("Avec la rifampicine", present("rifampicine")),
        "with_bupropion": ("Avec le bupropion", present("bupropion")),
        "with_darifenacin": ("Avec la darifénacine", present("darifénacine")),
        "with_tolterodine": ("Avec la toltérodine", present("toltérodine")),
        "with_oxybutynin": ("Avec l'oxybutynine", present("oxybutynine")),
        "with_sodium_oxybate": (
            "Avec l'oxybate de sodium",
            any_present(["oxybate de sodium", "sodium (oxybate de)"]),
        ),
        "with_fesoterodine_or_solifenacin": (
            "Avec la fésotérodine ou la solifénacine (fonctions rénale et hépatique normales)",
            any_present(["fésotérodine", "solifénacine"]),
        ),
        "fesoterodine_or_solifenacin_with_renal_or_hepatic_impairment": (
            "Fésotérodine ou solifénacine chez un insuffisant rénal ou hépatique modéré à sévère",
            all_of(any_present(["fésotérodine", "solifénacine"]), MANUAL),
        ),
        "with_citalopram_escitalopram_domperidone_hydroxyzine_piperaquine": (
            "Avec citalopram, escitalopram, dompéridone, hydroxyzine ou pipéraquine",
            any_present(CITALOPRAM_GROUP),
        ),
        "with_carbamazepine_apalutamide_or_enzalutamide": (
            "Avec la carbamazépine, l'apalutamide ou l'enzalutamide",
            any_present(["carbamazépine", "apalutamide", "enzalutamide"]),
        ),
        "with_carbamazepine_phenobarbital_or_primidone": (
            "Avec la carbamazépine, le phénobarbital ou la primidone",
            any_present(["carbamazépine", "phénobarbital", "primidone"]),
        ),
        "with_rifampicin_or_anticonvulsant_inducer": (
            "Avec la rifampicine ou un anticonvulsivant inducteur enzymatique",
            any_present(["rifampicine", *members["anticonvulsivants inducteurs enzymatiques"]]),
        ),
        "with_cabotegravir_contraindicated_inducer": (
            "Avec rifampicine, carbamazépine, oxcarbazépine, phénytoïne ou phénobarbital",
            any_present(["rifampicine", "carbamazépine", "oxcarbazépine", "phénytoïne", "phénobarbital"]),
        ),
        "with_fostemsavir_contraindicated_inducer": (
            "Avec rifampicine, carbamazépine, phénytoïne ou enzalutamide",
            any_present(["rifampicine", "carbamazépine", "phénytoïne", "enzalutamide"]),
        ),
        "with_everolimus_sirolimus_or_temsirolimus": (
            "Avec l'évérolimus, le sirolimus ou le temsirolimus",
            any_present(["évérolimus", "sirolimus", "temsirolimus"]),
        ),
        "with_simvastatin_pitavastatin_or_rosuvastatin": (
            "Avec la simvastatine, la pitavastatine ou la rosuvastatine",
            any_present(["simvastatine", "pitavastatine", "rosuvastatine"]),
        ),
        "with_itk_advised_against_with_cyp3a4_inhibitors": (
            "Avec un inhibiteur de tyrosine kinase listé comme déconseillé (axitinib, dasatinib, ibrutinib…)",
            any_present(
                [
                    "axitinib",
                    "bosutinib",
                    "cabozantinib",
                    "céritinib",
                    "cobimétinib",
                    "dabrafénib",
                    "dasatinib",
                    "entrectinib",
                    "ibrutinib",
                    "nilotinib",
                    "ribociclib",
                    "sunitinib",
                ]
            ),
        ),
        "with_mab_advised_against_with_live_vaccines": (
            "Avec un anticorps monoclonal cité comme déconseillé avec les vaccins vivants",
            any_present(
                [
                    "anifrolumab",
                    "atézolizumab",
                    "bélimumab",
                    "bimékizumab",
                    "blinatumomab",
                    "canakinumab",
                    "durvalumab",
                    "guselkumab",
                    "inébilizumab",
                    "inotuzumab",
                    "ixékizumab",
                    "obinutuzumab",
                    "ocrélizumab",
                    "ofatumumab",
                    "rituximab",
                    "sacituzumab",
                    "spésolimab",
                    "tafasitamab",
                    "tézépelumab",
                    "tocilizumab",
                    "ustékinumab",
                ]
            ),
        ),
        "with_pde5_inhibitor": (
            "Avec un inhibiteur de la phosphodiestérase de type 5",
            any_present(cls("inhibiteurs de la phosphodiesterase de type 5")),
        ),
        "with_integrase_inhibitor": (
            "Avec un inhibiteur d'intégrase (raltégravir, bictégravir, dolutégravir, cabotégravir)",
            any_present([*cls("inhibiteurs d integrase"), "cabotégravir"]),
        ),
        "with_macrolide": (
            "Avec un macrolide inhibiteur du CYP3A4",
            any_present(
                sorted(members["inhibiteurs puissants du cyp3a4"] & members["macrolides sauf spiramycine"])
            ),
        ),
        "with_ritonavir_or_cobicistat": (
            "Avec le ritonavir ou le cobicistat",
            any_present(["ritonavir", "cobicistat"]),
        ),
        "with_protease_inhibitor": (
            "Avec un inhibiteur de protéase",
            any_present(
                sorted(
                    members["inhibiteurs puissants du cyp3a4"]
                    & members["inhibiteurs de proteases boostes par ritonavir"]
                )
            ),
        ),
        "gemfibrozil_with_simvastatin_or_rosuvastatin_40mg": (
            "Gemfibrozil avec simvastatine, ou rosuvastatine à 40 mg par jour",
            any_of(
                all_of(present("gemfibrozil"), present("simvastatine")),
                dose("rosuvastatine", daily_mg={"min": 40}),
            ),
        ),
        "sodium_oxybate_with_opioid_or_barbiturate": (
            "Oxybate de sodium avec un opiacé ou un barbiturique",
            all_of(any_present(["oxybate de sodium", "sodium (oxybate de)"]), any_present(opioids)),
        ),
        "sacubitril_with_ace_inhibitor": (
            "Sacubitril avec un inhibiteur de l'enzyme de conversion",
            all_of(present("sacubitril"), any_present(cls("inhibiteurs de l enzyme de conversion"))),
        ),
        "gliptin_with_ace_inhibitor": (
            "Gliptine avec un inhibiteur de l'enzyme de conversion",
            all_of(any_present(cls("gliptines")), any_present(cls("inhibiteurs de l enzyme de conversion"))),
        ),
        "potassium_sparing_precaution_cases": (
            "Spironolactone 12,5 à 50 mg/j ou éplérénone dans l'insuffisance cardiaque, ou hypokaliémie",
            any_of(
                dose("spironolactone", daily_mg={"min": 12.5, "max": 50.01}),
                all_of(
                    present("éplérénone"), {"kind": "diagnosis", "icd10_prefixes": ["I50"], "present": True}
                ),
                {"kind": "diagnosis", "icd10_prefixes": ["E87.6"], "present": True},
            ),
        ),
        # -- cannot be read from a prescription
        "outside_acs_validated_indications": (
            "En dehors des indications validées de l'association dans le syndrome coronarien aigu",
            MANUAL,
        ),
        "renal_function_low_to_moderate": ("Fonction rénale faible à modérée", MANUAL),
        "renal_or_hepatic_impairment": ("Insuffisance rénale et/ou hépatique", MANUAL),
        "left_ventricular_dysfunction": ("Altération de la fonction ventriculaire gauche", MANUAL),
        "intravenous_diltiazem": ("Diltiazem par voie intraveineuse", MANUAL),
        "intravenous_verapamil": ("Vérapamil par voie intraveineuse", MANUAL),
        "intravenous_calcium": ("Sels de calcium par voie IV (hors supplémentation parentérale)", MANUAL),
        "oral_midazolam": ("Midazolam par voie orale", MANUAL),
        "venetoclax_titration_phase": ("Phase de titration du vénétoclax", MANUAL),
        "integrase_inhibitor_resistance": ("Résistance connue aux inhibiteurs d'intégrase", MANUAL),
        "cyproterone_contraceptive_use": ("Cyprotérone utilisée comme contraceptif hormonal", MANUAL),
        "cyproterone_contraceptive_with_emergency_ulipristal": (
            "Cyprotérone à visée contraceptive et ulipristal en contraception d'urgence",
            MANUAL,
        ),
        "start_during_lamotrigine_titration": (
            "Mise en route pendant la période d'ajustement de la lamotrigine",
            MANUAL,
        ),
        "potassium_sparing_outside_precaution_cases": (
            "Hors spironolactone 12,5-50 mg/j, éplérénone dans l'insuffisance cardiaque ou hypokaliémie",
            MANUAL,
        ),
        "aminoglycosides_given_together": ("Aminosides administrés simultanément", MANUAL),
        "two_torsadogenic_antiarrhythmics": (
            "Deux antiarythmiques torsadogènes (amiodarone, disopyramide, quinidiniques, sotalol…)",
            MANUAL,
        ),
        "antiarrhythmics_of_same_class": ("Deux antiarythmiques de la même classe", MANUAL),
        "torsadogenic_pair_without_exception": (
            "Deux torsadogènes dont aucun n'est antiparasitaire, neuroleptique, méthadone, "
            "arsénieux ou hydroxychloroquine",
            MANUAL,
        ),
        "pde5_inhibitor_level_per_smpc": ("Niveau selon le RCP de l'inhibiteur de PDE5 concerné", MANUAL),
        "angioedema_other_combinations": (
            "Autres associations à risque d'angio-œdème (hors sacubitril + IEC et gliptine + IEC)",
            MANUAL,
        ),
        "oral_drug_sensitive_to_antacids": ("Selon le médicament oral associé", MANUAL),
    }


# Entries with several levels. Pair (sorted keys) -> level -> condition ids; ""
# means "applies whenever the pair is present" (the base level of the entry).
# 2023 entries collapsed by the parser and 2020-only entries share this table.
MULTI: dict[tuple[str, str], dict[str, list[str]]] = {}


def _multi(a: str, b: str, **levels: str | list[str]) -> None:
    pair = pair_of(key(a), key(b))
    MULTI[pair] = {lv: ([c] if isinstance(c, str) else list(c)) for lv, c in levels.items()}


TDP = "substances susceptibles de donner des torsades de pointes"
CITALOPRAM_CI = "with_citalopram_escitalopram_domperidone_hydroxyzine_piperaquine"
# -- collapsed in the 2023 CSV (conduct text starting with "CI - ASDEC - ...")
_multi(
    ASPIRIN,
    "anticoagulants oraux",
    CI="aspirin_ai_dose_or_analgesic_dose_with_ulcer_history",
    ASDEC="aspirin_analgesic_dose_without_ulcer_or_antiplatelet_with_ulcer",
    APEC="aspirin_antiplatelet_dose",
)
_multi(
    ASPIRIN,
    "anti-inflammatoires non stéroïdiens",
    ASDEC="aspirin_antiinflammatory_or_analgesic_dose",
    APEC="aspirin_antiplatelet_dose",
)
# -- single-level entries that apply only above a dose the text names (added by the lead):
# without a condition, every low-dose aspirin with a diuretic or an ACE inhibitor would fire.
_multi(ASPIRIN, "diurétiques", PE="aspirin_antiinflammatory_or_analgesic_dose")
_multi(ASPIRIN, "inhibiteurs de l'enzyme de conversion", PE="aspirin_antiinflammatory_or_analgesic_dose")
_multi(
    ASPIRIN,
    "antagonistes des récepteurs de l'angiotensine ii",
    PE="aspirin_antiinflammatory_or_analgesic_dose",
)
_multi(ASPIRIN, "deferasirox", APEC="aspirin_antiinflammatory_or_analgesic_dose")
_multi(ASPIRIN, "clopidogrel", ASDEC="outside_acs_validated_indications", PE="")
_multi(ASPIRIN, "ticagrelor", ASDEC="outside_acs_validated_indications", PE="")
_multi(
    ASPIRIN,
    "glucocorticoïdes (sauf hydrocortisone)",
    ASDEC="aspirin_antiinflammatory_dose",
    APEC="aspirin_analgesic_dose",
)
_multi(
    ASPIRIN,
    "héparines (doses curatives et/ou sujet âgé)",
    ASDEC="aspirin_antiinflammatory_or_analgesic_dose",
    APEC="aspirin_antiplatelet_dose",
)
_multi(ASPIRIN, "pemetrexed", ASDEC="renal_function_low_to_moderate", PE="")
_multi("anti-inflammatoires non stéroïdiens", "pemetrexed", ASDEC="renal_function_low_to_moderate", PE="")
_multi(
    "alphabloquants à visée urologique",
    "inhibiteurs de la phosphodiesterase de type 5",
    ASDEC="with_doxazosin",
    PE="",
)
_multi(
    "antihypertenseurs alpha-bloquants",
    "inhibiteurs de la phosphodiesterase de type 5",
    ASDEC="with_doxazosin",
    PE="",
)
_multi("amiodarone", "diltiazem", ASDEC="intravenous_diltiazem", PE="")
_multi("amiodarone", "verapamil", ASDEC="intravenous_verapamil", PE="")
_multi("antagonistes des canaux calciques", IEP, ASDEC="with_nimodipine", PE="")
_multi("antagonistes des canaux calciques", "rifampicine", ASDEC="with_nimodipine", PE="")
_multi(
    "antagonistes des canaux calciques", "inhibiteurs puissants du cyp3a4", ASDEC="with_lercanidipine", PE=""
)
for _other in ("antagonistes des récepteurs de l'angiotensine ii", "inhibiteurs de l'enzyme de conversion"):
    _multi(
        _other,
        "diurétiques épargneurs de potassium (seuls ou associés)",
        ASDEC="potassium_sparing_outside_precaution_cases",
        PE="potassium_sparing_precaution_cases",
    )
_multi(
    "anticorps monoclonaux (hors anti-tnf alpha)",
    "vaccins vivants atténués",
    ASDEC="with_mab_advised_against_with_live_vaccines",
    APEC="",
)
_multi(
    "antisécrétoires inhibiteurs de la pompe à protons",
    MTX,
    ASDEC="methotrexate_above_20mg_week",
    APEC="methotrexate_20mg_week_or_less",
)
_multi(
    "antispasmodiques urinaires",
    "inhibiteurs puissants du cyp3a4",
    CI=["with_darifenacin", "fesoterodine_or_solifenacin_with_renal_or_hepatic_impairment"],
    ASDEC="with_tolterodine",
    PE="with_fesoterodine_or_solifenacin",
    APEC="with_oxybutynin",
)
_multi("cabotegravir", "inducteurs enzymatiques", CI="with_cabotegravir_contraindicated_inducer", APEC="")
_multi("fostemsavir", "inducteurs enzymatiques", CI="with_fostemsavir_contraindicated_inducer", APEC="")
_multi("calcium", "digoxine", CI="intravenous_calcium", PE="")
_multi("clozapine", IEP, ASDEC="with_carbamazepine_apalutamide_or_enzalutamide", PE="")
_multi("cyproterone", "inducteurs enzymatiques", ASDEC="cyproterone_contraceptive_use", PE="")
_multi(
    "cyproterone",
    "inhibiteurs de protéases boostés par ritonavir",
    ASDEC="cyproterone_contraceptive_use",
    PE="",
)
_multi(
    "dapoxétine",
    "médicaments à l'origine d'une hypotension orthostatique",
    ASDEC="with_pde5_inhibitor",
    APEC="",
)
_multi("diltiazem", "esmolol", ASDEC="left_ventricular_dysfunction", PE="")
_multi("esmolol", "verapamil", ASDEC="left_ventricular_dysfunction", PE="")
_multi("dolutégravir", "inducteurs enzymatiques", ASDEC="integrase_inhibitor_resistance", PE="")
_multi("estroprogestatifs contraceptifs", "lamotrigine", ASDEC="start_during_lamotrigine_titration", PE="")
_multi(
    "inhibiteurs de protéases boostés par ritonavir",
    "lamotrigine",
    ASDEC="start_during_lamotrigine_titration",
    PE="",
)
_multi("eszopiclone", "inhibiteurs puissants du cyp3a4", CI="patient_aged_65_or_more", PE="")
_multi("glasdégib", "inducteurs enzymatiques", ASDEC="with_rifampicin_or_anticonvulsant_inducer", PE="")
_multi("immunosuppresseurs", "voriconazole", ASDEC="with_everolimus_sirolimus_or_temsirolimus", PE="")
_multi("inhibiteurs de l'hmg-coa réductase (statines)", "lédipasvir", CI="with_rosuvastatin", PE="")
_multi(
    "inhibiteurs de l'hmg-coa réductase (statines)",
    "létermovir",
    ASDEC="with_simvastatin_pitavastatin_or_rosuvastatin",
    PE="",
)
_multi(
    "inhibiteurs de tyrosine kinases métabolisés",
    "inhibiteurs puissants du cyp3a4",
    ASDEC="with_itk_advised_against_with_cyp3a4_inhibitors",
    PE="",
)
_multi("inhibiteurs puissants du cyp3a4", "isavuconazole", CI="with_ketoconazole", PE="")
_multi("inhibiteurs puissants du cyp3a4", "midazolam", ASDEC="oral_midazolam", PE="")
_multi("inhibiteurs puissants du cyp3a4", "vénétoclax", CI="venetoclax_titration_phase", PE="")
_multi(
    "médicaments sédatifs",
    "autres médicaments sédatifs",
    CI="sodium_oxybate_with_opioid_or_barbiturate",
    ASDEC="with_sodium_oxybate",
    APEC="",
)
_multi(
    "médicaments, bradykinine et angio-œdème",
    "autres medicaments à risque d'angio-œdème",
    CI="sacubitril_with_ace_inhibitor",
    ASDEC="angioedema_other_combinations",
    APEC="gliptin_with_ace_inhibitor",
)
_multi(
    "substances à absorption réduite par les topiques gastro-intestinaux, antiacides et adsorbants",
    "topiques gastro-intestinaux, antiacides et adsorbants",
    ASDEC="with_integrase_inhibitor",
    PE="",
)
_multi("aminosides", "autres aminosides", CI="aminoglycosides_given_together", APEC="")
_multi("crizotinib", TDP, CI=CITALOPRAM_CI, ASDEC="")
_multi("sulfaméthoxazole + triméthoprime", TDP, CI=CITALOPRAM_CI, ASDEC="")
# -- 2020 entries with several levels that the 2023 CSV lost entirely
_multi(
    ASPIRIN,
    MTX,
    CI="methotrexate_above_20mg_week_with_aspirin_analgesic_or_ai_dose",
    PE="methotrexate_aspirin_precaution_cases",
)
_multi(
    "anti-inflammatoires non stéroïdiens",
    MTX,
    ASDEC="methotrexate_above_20mg_week",
    PE="methotrexate_20mg_week_or_less",
)
_multi(
    "antiarythmiques",
    "autres antiarythmiques",
    CI="two_torsadogenic_antiarrhythmics",
    ASDEC="antiarrhythmics_of_same_class",
    APEC="",
)
_multi(IEP, "voriconazole", CI="with_carbamazepine_phenobarbital_or_primidone", ASDEC="")
for _side in (
    "antiparasitaires susceptibles de donner des torsades de pointes",
    "neuroleptiques susceptibles de donner des torsades de pointes",
    "arsenieux",
    "délamanid",
    "hydroxychloroquine",
    "methadone",
):
    _multi(_side, TDP, CI=CITALOPRAM_CI, ASDEC="")
_multi(
    TDP,
    "torsadogènes (sauf arsénieux, antiparasitaires, neuroleptiques, méthadone...)",
    CI=[CITALOPRAM_CI, "torsadogenic_pair_without_exception"],
    ASDEC="",
)
_multi("bictégravir", "inducteurs enzymatiques", CI="with_rifampicin", ASDEC="")
_multi("inducteurs enzymatiques", "sofosbuvir", CI="with_rifampicin_or_anticonvulsant_inducer", ASDEC="")
_multi("colchicine", "inhibiteurs puissants du cyp3a4", CI="with_macrolide", ASDEC="")
_multi("colchicine", "ombitasvir + paritaprévir", CI="renal_or_hepatic_impairment", ASDEC="")
_multi("cyproterone", "ulipristal", ASDEC="cyproterone_contraceptive_with_emergency_ulipristal", PE="")
_multi(
    "fibrates",
    "inhibiteurs de l'hmg-coa réductase (statines)",
    CI="gemfibrozil_with_simvastatin_or_rosuvastatin_40mg",
    ASDEC="",
)
_multi(
    "grazoprevir + elbasvir", "inhibiteurs puissants du cyp3a4", CI="with_ritonavir_or_cobicistat", ASDEC=""
)
_multi(
    "imao-a réversibles, y compris oxazolidinones et bleu de méthylène",
    "sympathomimétiques indirects",
    CI="with_bupropion",
    ASDEC="",
)
_multi(
    "inhibiteurs de la phosphodiesterase de type 5",
    "inhibiteurs puissants du cyp3a4",
    CI="pde5_inhibitor_level_per_smpc",
    ASDEC="pde5_inhibitor_level_per_smpc",
    PE="",
)
_multi("inhibiteurs puissants du cyp3a4", "quinine", ASDEC="with_protease_inhibitor", PE="")
_multi(
    "topiques gastro-intestinaux, antiacides et adsorbants",
    "médicaments administrés par voie orale",
    ASDEC="oral_drug_sensitive_to_antacids",
    PE="",
)

# --------------------------------------------------------------------------- risk and action codes

RISK_CODES: dict[str, tuple[str, str]] = {
    "bleeding": ("Risque hémorragique majoré", "Increased bleeding risk"),
    "thrombosis": ("Risque thrombotique ou thrombo-embolique", "Thrombotic or thromboembolic risk"),
    "gi_toxicity": (
        "Toxicité digestive (ulcère, lésions, pancréatite)",
        "Gastrointestinal toxicity (ulcer, mucosal injury, pancreatitis)",
    ),
    "hyperkalaemia": ("Hyperkaliémie", "Hyperkalaemia"),
    "hypokalaemia": ("Hypokaliémie", "Hypokalaemia"),
    "hyponatraemia": ("Hyponatrémie", "Hyponatraemia"),
    "electrolyte_disturbance": (
        "Autre trouble hydro-électrolytique (calcium, magnésium, déshydratation)",
        "Other fluid or electrolyte disturbance",
    ),
    "torsades": ("Allongement du QT, torsades de pointes", "QT prolongation, torsades de pointes"),
    "arrhythmia": ("Autre trouble du rythme cardiaque", "Other cardiac arrhythmia"),
    "bradycardia": ("Bradycardie, troubles de la conduction", "Bradycardia, conduction disorders"),
    "heart_failure": ("Dépression de la fonction cardiaque", "Depressed cardiac function"),
    "hypotension": ("Hypotension, hypotension orthostatique", "Hypotension, orthostatic hypotension"),
    "hypertension": ("Poussée hypertensive", "Hypertensive episode"),
    "vasoconstriction_ischaemia": (
        "Vasoconstriction, ischémie, ergotisme",
        "Vasoconstriction, ischaemia, ergotism",
    ),
    "rhabdomyolysis": ("Atteinte musculaire, rhabdomyolyse", "Muscle toxicity, rhabdomyolysis"),
    "serotonin_syndrome": ("Syndrome sérotoninergique", "Serotonin syndrome"),
    "sedation": ("Sédation, baisse de vigilance", "Sedation, reduced alertness"),
    "respiratory_depression": (
        "Dépression respiratoire ou atteinte pulmonaire",
        "Respiratory depression or lung injury",
    ),
    "seizures": ("Convulsions, baisse du seuil épileptogène", "Seizures, lowered seizure threshold"),
    "neurotoxicity": (
        "Neurotoxicité (confusion, encéphalopathie, neuropathie…)",
        "Neurotoxicity (confusion, encephalopathy, neuropathy…)",
    ),
    "nephrotoxicity": ("Atteinte rénale, insuffisance rénale", "Kidney injury, renal failure"),
    "hepatotoxicity": ("Atteinte hépatique", "Liver toxicity"),
    "ototoxicity": ("Ototoxicité", "Ototoxicity"),
    "haematotoxicity": ("Toxicité hématologique", "Haematological toxicity"),
    "hypoglycaemia": ("Hypoglycémie", "Hypoglycaemia"),
    "glycaemic_imbalance": ("Déséquilibre glycémique, hyperglycémie", "Glycaemic imbalance, hyperglycaemia"),
    "acidosis": ("Acidose (lactique ou métabolique)", "Lactic or metabolic acidosis"),
    "tendinopathy": ("Tendinopathie, rupture tendineuse", "Tendinopathy, tendon rupture"),
    "skin_reaction": ("Réaction cutanée", "Skin reaction"),
    "increased_exposure": (
        "Exposition accrue à l'un des médicaments (surdosage)",
        "Higher exposure to one of the drugs (overdose)",
    ),
    "unstable_exposure": (
        "Concentrations ou effet variables, imprévisibles",
        "Variable, unpredictable levels or effect",
    ),
    "reduced_efficacy": (
        "Baisse d'efficacité de l'un des médicaments",
        "Reduced efficacy of one of the drugs",
    ),
    "reduced_absorption": ("Absorption digestive diminuée", "Reduced gastrointestinal absorption"),
    "additive_adverse_effects": ("Addition d'effets indésirables", "Additive adverse effects"),
    "contraceptive_failure": ("Échec de la contraception", "Contraceptive failure"),
    "infection_immunosuppression": (
        "Immunodépression, infection, maladie vaccinale",
        "Immunosuppression, infection, vaccine-induced disease",
    ),
    "anticholinergic_effects": ("Effets atropiniques", "Anticholinergic effects"),
    "cholinergic_effects": ("Effets cholinergiques", "Cholinergic effects"),
    "methaemoglobinaemia": ("Méthémoglobinémie", "Methaemoglobinaemia"),
    "angioedema": ("Angio-œdème", "Angioedema"),
    "disulfiram_reaction": ("Effet antabuse", "Disulfiram-like reaction"),
    "teratogenicity": ("Risque tératogène ou fœtal", "Teratogenic or fetal risk"),
    "adrenal_disorder": (
        "Insuffisance surrénale ou hypercorticisme",
        "Adrenal insufficiency or corticosteroid excess",
    ),
    "other": ("Autre risque (voir le thésaurus)", "Other risk (see the thesaurus)"),
}

# (code, pattern over the folded text). Order only matters for readability.
RISK_RULES: list[tuple[str, str]] = [
    (
        "bleeding",
        r"hemorrag|saignement|effet anticoagulant|risque anticoagulant|hypocoagul|"
        r"activites? antiagregant",
    ),
    ("thrombosis", r"thrombotique|thrombo embolique|hypercoagul"),
    (
        "gi_toxicity",
        r"ulcere|ulcerogene|muqueuse gastro|digestiv.{0,30}(toxic|lesion|hemorrag)|"
        r"diarrhee|vomissement|occlusion|akinesie colique|constipation|pancreatit|necrose colique",
    ),
    ("hyperkalaemia", r"hyperkaliem"),
    ("hypokalaemia", r"hypokaliem"),
    ("hyponatraemia", r"hyponatrem"),
    (
        "electrolyte_disturbance",
        r"hypercalcem|hypocalcem|calcemie|magnesem|hypomagnes|hypovolem|"
        r"diurese importante|alcalose|hypophosphat|phosphatemie|retention hydrosodee",
    ),
    ("torsades", r"torsade|\bqt\b|allongement de l intervalle"),
    (
        "arrhythmia",
        r"troubles? du rythme|\barythmi|fibrillation|tachycard|excitabilite cardiaque|"
        r"arret cardiaque",
    ),
    ("bradycardia", r"bradycard|auriculo ventriculaire|conduction|automatisme|bloc sino|arret sinusal"),
    (
        "heart_failure",
        r"defaillance cardiaque|inotrope negatif|decompensation|contractilite|"
        r"insuffisance cardiaque aigue|fonction cardiaque|fonction ventriculaire",
    ),
    (
        "hypotension",
        r"hypotens|orthostati|syncope|vasodilat|lipothymi|\bchoc\b|collapsus|"
        r"majoration de l effet antihypertenseur|"
        r"reactions cardiovasculaires de compensation",
    ),
    ("hypertension", r"\bhypertens|pression arterielle.{0,20}(augment|eleva)|action pressive"),
    (
        "vasoconstriction_ischaemia",
        r"vasoconstrict|ergotisme|ischemi|vasospas|necrose des extremites|"
        r"coronari",
    ),
    ("rhabdomyolysis", r"rhabdomyolys|\bmusculaires?\b|myopathi|myalgi|myotoxi"),
    ("serotonin_syndrome", r"serotoninergique"),
    (
        "sedation",
        r"sedati|vigilance|depression centrale|somnolence|effet depresseur central|"
        r"depression du systeme nerveux",
    ),
    (
        "respiratory_depression",
        r"depress\w* respiratoire|depresseur respiratoire|notamment respiratoires|"
        r"detresse respiratoire|toxicite pulmonaire|arret respiratoire",
    ),
    ("seizures", r"\bconvulsi|\bepilep|seuil epileptogene"),
    (
        "neurotoxicity",
        r"confusion|encephalopath|hallucin|neurotox|neuropsych|syndrome malin|"
        r"agitation|delire|neurologique|cerebelleu|troubles? psychi|excitation|"
        r"insomnie|sevrage|dyskinesie|extrapyramidal|ataxie|atteinte centrale|"
        r"comportement|coordination|neuropathi",
    ),
    (
        "nephrotoxicity",
        r"nephrotox|insuffisance renale aigue|insuffisance renale fonctionnelle|atteinte renale|"
        r"(degradation|alteration) de la fonction renale|toxicite renale|creatininemie|"
        r"lithiase|cristallurie|precipitation cristalline",
    ),
    (
        "hepatotoxicity",
        r"hepatotox|hepatique.{0,30}(toxic|atteinte|lesion)|hepatite|transaminase|"
        r"atteinte hepatique|toxicite hepatique|insuffisance hepatique aigue",
    ),
    ("ototoxicity", r"ototox"),
    (
        "haematotoxicity",
        r"hematolog|neutropeni|agranulocyt|aplasie|myelotox|leucopeni|thrombopeni|"
        r"anemie|pancytopeni|medullaire|hemolys|hemogramme|myelosuppress",
    ),
    ("hypoglycaemia", r"hypoglycem"),
    (
        "glycaemic_imbalance",
        r"hyperglycem|\bglycemi|equilibre glycemique|besoins en insuline|diabetogene|"
        r"tolerance aux glucides",
    ),
    ("acidosis", r"acidose"),
    ("tendinopathy", r"tendin|tendon"),
    ("skin_reaction", r"cutane"),
    (
        "increased_exposure",
        r"augmentation.{0,40}(concentration|exposition|biodisponibilite|taux|"
        r"lithemie|effets? indesirables|toxicite|aire sous la courbe|auc|absorption)|"
        r"surdosage|diminution (de son|du|de leur)? ?(metabolisme|elimination|"
        r"clairance|excretion)|inhibition (de son|du|de leur) metabolisme|"
        r"majoration (des|de la|du).{0,20}(effets? indesirables|toxicite|concentration)|"
        r"majoration de (son|leur) absorption|"
        r"concentrations? (plasmatiques? )?(elevees|augmentees)|"
        r"inhibition .{0,40}(metabolisme|elimination)|toxicite (du|de la|de l|des)|"
        r"accumulation|lithemie|(doublement|triplement|quadruplement|multipli).{0,30}"
        r"(concentration|exposition|taux)|augmentation.{0,30}\winemie|fraction active|passage systemique",
    ),
    ("unstable_exposure", r"variation"),
    (
        "reduced_efficacy",
        r"diminution.{0,40}(concentration|exposition|effet|efficacite|biodisponibilite|"
        r"activite|taux|lithemie|aire sous la courbe)|"
        r"(perte|baisse|moindre|reduction|diminution).{0,20}(efficacite|effet|activite|"
        r"reponse)|inefficacit|antagonism|augmentation (de son|du|de leur) metabolisme|"
        r"echec|inactiv|neutralis|resistance|antagonist|"
        r"inhibition des effets|abolition|diminution.{0,30}\winemie|hypothyroidie|"
        r"desequilibre du traitement",
    ),
    (
        "reduced_absorption",
        r"(diminution|reduction|baisse|diminue)\w*.{0,40}(absorption|resorption)|"
        r"chelat|formation de complexes|adsorb|ph gastrique|acidite gastrique",
    ),
    (
        "additive_adverse_effects",
        r"addition (des|d) ?effets|effets? additi|potentialisation|hypervitaminose|"
        r"augmentation des effets (de|du)|cumul|synergi|s ajoutent",
    ),
    ("contraceptive_failure", r"contracept|preservatif"),
    (
        "infection_immunosuppression",
        r"immunodepress|immunosuppression|\binfections?\b|maladie vaccinale|"
        r"lymphoprolif|reponse immunitaire|maladie generalisee|(?<!anti )infectieu",
    ),
    ("anticholinergic_effects", r"atropinique|anticholinergique|retention urinaire|secheresse"),
    ("cholinergic_effects", r"\bcholinergique|bloc moteur|curarisation|muscarinique|bloc neuromusculaire"),
    ("methaemoglobinaemia", r"methemoglobin"),
    ("angioedema", r"angio oedeme|angioedeme|oedeme de quincke"),
    ("disulfiram_reaction", r"antabuse"),
    ("teratogenicity", r"teratogen|foetotox|malformation"),
    ("adrenal_disorder", r"surrenal|hypercorticisme|cushing"),
]
# Symptom lists of a named syndrome are not risks of their own.
SYNDROME_SYMPTOMS = {
    "serotonin_syndrome": {"gi_toxicity", "arrhythmia", "neurotoxicity", "sedation"},
    "disulfiram_reaction": {"gi_toxicity", "arrhythmia"},
    "anticholinergic_effects": {"gi_toxicity"},
}

ACTION_CODES: dict[str, tuple[str, str]] = {
    "contraindicated": ("Ne pas associer (contre-indication)", "Do not combine (contraindication)"),
    "avoid": (
        "Éviter l'association ; si elle est indispensable, l'encadrer",
        "Avoid the combination; if needed, supervise it",
    ),
    "take_into_account": ("Tenir compte du risque dans la décision", "Weigh the risk in the decision"),
    "clinical_monitoring": ("Surveillance clinique", "Clinical monitoring"),
    "monitor_inr": ("Contrôler l'INR / la coagulation", "Check INR / coagulation"),
    "monitor_kalaemia": ("Surveiller la kaliémie", "Monitor serum potassium"),
    "monitor_electrolytes": (
        "Surveiller natrémie, calcémie ou magnésémie",
        "Monitor sodium, calcium or magnesium",
    ),
    "monitor_renal_function": ("Surveiller la fonction rénale", "Monitor renal function"),
    "ecg": ("Contrôle ou surveillance de l'ECG", "ECG check or monitoring"),
    "monitor_heart_rate": ("Surveiller la fréquence cardiaque", "Monitor heart rate"),
    "monitor_blood_pressure": ("Surveiller la pression artérielle", "Monitor blood pressure"),
    "monitor_drug_level": ("Doser le médicament (concentrations, lithémie…)", "Therapeutic drug monitoring"),
    "monitor_blood_count": ("Surveiller l'hémogramme", "Monitor blood count"),
    "monitor_glycaemia": ("Renforcer la surveillance glycémique", "Closer blood glucose monitoring"),
    "monitor_liver_function": ("Surveiller le bilan hépatique", "Monitor liver tests"),
    "adjust_dose": ("Adapter la posologie", "Adjust the dose"),
    "monitor_after_stop": (
        "Poursuivre la surveillance après l'arrêt de l'associé",
        "Keep monitoring after the other drug is stopped",
    ),
    "space_intakes": ("Espacer les prises", "Space the intakes"),
    "additional_contraception": (
        "Utiliser une autre contraception ou une contraception mécanique",
        "Use another or a barrier contraception",
    ),
    "correct_hypokalaemia": (
        "Corriger une hypokaliémie avant et pendant l'association",
        "Correct hypokalaemia before and during the combination",
    ),
    "ensure_hydration": ("Assurer une hydratation suffisante", "Ensure adequate hydration"),
    "prefer_alternative": ("Préférer une alternative thérapeutique", "Prefer an alternative treatment"),
    "suspend_treatment": (
        "Suspendre ou interrompre un des traitements",
        "Suspend or interrupt one of the treatments",
    ),
    "avoid_alcohol": (
        "Éviter l'alcool (boissons et médicaments en contenant)",
        "Avoid alcohol (drinks and medicines containing it)",
    ),
    "no_abrupt_stop": (
        "Ne pas arrêter brutalement le traitement concerné",
        "Do not stop the drug concerned abruptly",
    ),
    "inform_patient": ("Informer le patient", "Inform the patient"),
}

ACTION_RULES: list[tuple[str, str]] = [
    (
        "clinical_monitoring",
        r"surveillance (clinique|etroite|accrue|renforcee|reguliere)|surveiller|"
        r"controle clinique|surveillance",
    ),
    ("monitor_inr", r"\binr\b|tp inr|taux de prothrombine|coagulation|temps de saignement|hemostase"),
    ("monitor_kalaemia", r"kaliemie"),
    (
        "monitor_electrolytes",
        r"natremie|calcemie|magnesemie|ionogramme|electroly|phosphoremie|"
        r"phosphatemie|hyponatremie",
    ),
    ("monitor_renal_function", r"fonction renale|creatinin"),
    ("ecg", r"\becg\b|electrocardiogra|qt\b"),
    ("monitor_heart_rate", r"frequence cardiaque|bradycardie|pouls"),
    ("monitor_blood_pressure", r"pression arterielle|tension arterielle|tensionnel|hypotension"),
    (
        "monitor_drug_level",
        r"concentrations? (plasmatiques?|sanguines?|residuelles?)|dosage|lithemie|"
        r"taux (plasmatique|sanguin)|(?<!creatin)inemie|"
        r"controle des concentrations",
    ),
    ("monitor_blood_count", r"hemogramme|numeration|\bnfs\b|formule sanguine|plaquettes|hematolog"),
    ("monitor_glycaemia", r"glycem"),
    (
        "monitor_liver_function",
        r"hepatique.{0,20}(surveill|bilan|controle)|bilan hepatique|"
        r"transaminase|fonction hepatique",
    ),
    (
        "adjust_dose",
        r"adapt.{0,25}posologi|posologie.{0,40}(adapt|reduit|reduire|diminu|augment|ajust)|"
        r"reduction (de la )?(posologie|dose)|reduire (la )?(posologie|dose)|"
        r"ajustement posologique|diminuer (la )?(posologie|dose)|augmenter (la )?(dose|posologie)|"
        r"ne pas depasser|dose maximale|doses? (reduites?|minimales?|faibles?)|"
        r"adaptation (eventuelle )?(de la )?(dose|posologie)|moitie|doses? plus faibles|"
        r"limiter (l apport|les doses|la dose)|maintenir la posologie|posologie a \d",
    ),
    ("monitor_after_stop", r"apres (son|l|leur) arret|apres l arret"),
    (
        "space_intakes",
        r"a distance|intervalle|espac|heures? (avant|apres|d intervalle)|en decale|"
        r"respecter un delai",
    ),
    ("additional_contraception", r"contraception|contraceptive"),
    ("correct_hypokalaemia", r"corriger.{0,20}hypokaliem|hypokaliemie.{0,30}corrig"),
    ("ensure_hydration", r"\bhydrat|rehydrat"),
    (
        "prefer_alternative",
        r"utiliser (de preference )?(un|une) autre|preferer|alternative|"
        r"autre (anti|traitement|classe|antalgique)|de preference|(un|une) autre \w+ (non|peu)",
    ),
    (
        "suspend_treatment",
        r"interromp|suspend|interruption|arret (temporaire|du traitement)|"
        r"arreter",
    ),
    ("avoid_alcohol", r"boissons? alcoolisee|alcool"),
    ("no_abrupt_stop", r"arret brutal"),
    ("inform_patient", r"informer|prevenir le patient|avertir|eduquer|patient.{0,20}averti"),
]
LEVEL_ACTION = {"CI": "contraindicated", "ASDEC": "avoid", "APEC": "take_into_account"}


def _fold(text: str) -> str:
    return fold(text.replace("œ", "oe").replace("Œ", "oe"))


_OTHER_ARRHYTHMIA = re.compile(r"\barythmi|fibrillation|tachycard|arret cardiaque|excitabilite")
_RISK_RX = [(code, re.compile(rx)) for code, rx in RISK_RULES]
_ACTION_RX = [(code, re.compile(rx)) for code, rx in ACTION_RULES]


def classify_risks(text: str) -> list[str]:
    folded = _fold(text)
    found = [code for code, rx in _RISK_RX if rx.search(folded)]
    # Generic codes only when nothing more specific was found.
    specific = [
        c for c in found if c not in {"increased_exposure", "reduced_efficacy", "additive_adverse_effects"}
    ]
    if "reduced_absorption" in found and "reduced_efficacy" in found:
        found.remove("reduced_efficacy")
    if specific and "additive_adverse_effects" in found:
        found.remove("additive_adverse_effects")
    # "troubles du rythme ventriculaire, notamment torsades": the torsades code says it all.
    if "torsades" in found and "arrhythmia" in found and not _OTHER_ARRHYTHMIA.search(folded):
        found.remove("arrhythmia")
    for syndrome, symptoms in SYNDROME_SYMPTOMS.items():
        if syndrome in found:
            found = [c for c in found if c not in symptoms]
    return [c for c in RISK_CODES if c in found] or ["other"]


def classify_actions(text: str, level: str) -> list[str]:
    folded = _fold(text)
    found = {code for code, rx in _ACTION_RX if rx.search(folded)}
    if level in LEVEL_ACTION:
        found.add(LEVEL_ACTION[level])
    if level == "PE" and not found:
        found.add("clinical_monitoring")
    return [c for c in ACTION_CODES if c in found]


# --------------------------------------------------------------------------- model


@dataclass
class Side:
    key: str
    name: str
    kind: str


@dataclass
class Entry:
    """One unordered pair of sides with its levels, from one source."""

    a: str
    b: str
    source_version: str
    levels: set[str] = field(default_factory=set)
    risk_text: list[str] = field(default_factory=list)
    level_text: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    raw_names: set[tuple[str, str]] = field(default_factory=set)


@dataclass
class Derived:
    classes: dict[str, tuple[str, dict[str, str]]]  # class key -> (name, member key -> name)
    rows: list[dict[str, str]]
    conditions: dict[str, tuple[str, Spec]]
    reconciled: list[dict[str, Any]]
    removed_2020: list[dict[str, str]]
    unmapped: list[str]
    warnings: list[str]


def load_inputs(reference: Path) -> tuple[list[dict[str, str]], list[dict[str, Any]], list[dict[str, Any]]]:
    with reference.joinpath(*CSV_2023).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    thesaurus_2020 = json.loads(reference.joinpath(*JSON_2020).read_text(encoding="utf-8"))
    index = json.loads(reference.joinpath(*INDEX_2020).read_text(encoding="utf-8"))
    return rows, thesaurus_2020, index


def build_classes(
    index: list[dict[str, Any]],
) -> tuple[dict[str, str], dict[str, dict[str, str]], dict[str, str]]:
    """Class key -> chosen name, class key -> {member key: member name}, substance key -> name."""
    spellings: dict[str, Counter[str]] = defaultdict(Counter)
    members: dict[str, dict[str, str]] = defaultdict(dict)
    substance_names: dict[str, str] = {}
    for entry in index:
        name = entry["substance"].strip().lower()
        skey = substance_key(name)
        substance_names.setdefault(skey, name)
        for cls in entry["drug_classes"]:
            ckey = substance_key(cls)
            spellings[ckey][cls.strip().lower()] += 1
            members[ckey].setdefault(skey, name)
    # Several spellings of one class ("bêta- bloquants" / "bêta-bloquants"): keep the most
    # used, then the one without a line-break artefact ("- "), then the first in order.
    names = {
        ckey: sorted(counter.items(), key=lambda kv: (-kv[1], "- " in kv[0], kv[0]))[0][0]
        for ckey, counter in spellings.items()
    }
    for ckey, spec in EXTRA_CLASSES.items():
        names[ckey] = spec["name"]
        base = dict(members.get(spec["from_index_class"] or "", {}))
        for extra in spec["extra_members"]:
            base.setdefault(substance_key(extra), substance_names.get(substance_key(extra), extra))
        members[ckey] = base
    return names, dict(members), substance_names


def derive(reference: Path) -> Derived:
    csv_rows, thesaurus_2020, index = load_inputs(reference)
    class_names, class_members, substance_names = build_classes(index)
    member_keys = {c: set(m) for c, m in class_members.items()}
    conditions = build_conditions(member_keys)
    warnings: list[str] = []

    source_names: dict[str, str] = {}

    def note_name(skey: str, name: str) -> None:
        source_names.setdefault(skey, name.strip().lower())

    # ---- 2023 rows, grouped by unordered pair
    entries_2023: dict[tuple[str, str], Entry] = {}
    collapsed: dict[tuple[str, str], set[str]] = {}
    for row in csv_rows:
        left, right = fix_row_sides(row["substance"], row["interactant"])
        ka, kb = key(left), key(right)
        note_name(ka, left)
        note_name(kb, right)
        pair = pair_of(ka, kb)
        entry = entries_2023.setdefault(pair, Entry(*pair, source_version=V2023))
        level = CSV_LEVELS[row["niveau"]]
        entry.levels.add(level)
        entry.risk_text.append(row["description"])
        entry.level_text[level].append(row["conduite"])
        entry.raw_names.add((row["substance"], row["interactant"]))
        marker = MARKER.match(row["conduite"])
        if marker:
            collapsed[pair] = {lv.strip() for lv in marker.group(1).split("-")}
        elif row["conduite"].lstrip().lower().startswith("contre-indication") and level != "CI":
            collapsed[pair] = {"CI", level}
    for pair, entry in entries_2023.items():
        if len(entry.levels) > 1 and pair not in MULTI:
            warnings.append(
                f"2023 pair {pair} has several levels {sorted(entry.levels)} without a MULTI entry"
            )

    # ---- 2020 entries, grouped by unordered pair
    entries_2020: dict[tuple[str, str], Entry] = {}
    for item in thesaurus_2020:
        ka, kb = key(item["main_drug"]), key(item["plus_drug"])
        note_name(ka, item["main_drug"])
        note_name(kb, item["plus_drug"])
        pair = pair_of(ka, kb)
        entry = entries_2020.setdefault(pair, Entry(*pair, source_version=V2020))
        entry.risk_text.append(item["interaction_mechanism"] or item["description"])
        for lvl in item["severity_levels"]:
            level = JSON_LEVELS[lvl["level"]]
            entry.levels.add(level)
            entry.risk_text.append(lvl["info"])
            entry.level_text[level].append(lvl["info"])
        entry.raw_names.add((item["main_drug"], item["plus_drug"]))

    # ---- sides
    class_keys = {c for c, m in class_members.items() if m}

    def side(skey: str) -> Side:
        if skey in class_keys:
            return Side(skey, class_names[skey], "class")
        return Side(skey, substance_names.get(skey) or source_names[skey], "substance")

    used_classes: set[str] = set()
    rows_out: list[dict[str, str]] = []
    reconciled: list[dict[str, Any]] = []
    removed_2020: list[dict[str, str]] = []

    def emit(entry: Entry, level_conditions: dict[str, list[str]]) -> None:
        a, b = side(entry.a), side(entry.b)
        for s in (a, b):
            if s.kind == "class":
                used_classes.add(s.key)
        risks = ";".join(classify_risks(" ".join(entry.risk_text)))
        base_id = f"ansm:{a.key}+{b.key}".replace(" ", "-")
        for level in sorted(level_conditions, key=LEVEL_RANK.__getitem__):
            for n, condition in enumerate(level_conditions[level], start=1):
                if condition and condition not in conditions:
                    raise KeyError(f"unknown condition {condition!r} for {entry.a} + {entry.b}")
                text = " ".join(
                    entry.level_text.get(level) or [t for texts in entry.level_text.values() for t in texts]
                )
                rows_out.append(
                    {
                        "id": f"{base_id}:{level}" + (f":{n}" if n > 1 else ""),
                        "a_key": a.key,
                        "a_name": a.name,
                        "a_kind": a.kind,
                        "b_key": b.key,
                        "b_name": b.name,
                        "b_kind": b.kind,
                        "level": level,
                        "condition": condition,
                        "risk": risks,
                        "actions": ";".join(classify_actions(text, level)),
                        "source_version": entry.source_version,
                    }
                )

    for pair, entry in sorted(entries_2023.items()):
        if pair in MULTI:
            spec = MULTI[pair]
            missing = (entry.levels | collapsed.get(pair, set())) - set(spec)
            if missing:
                warnings.append(f"2023 pair {pair}: levels {sorted(missing)} absent from MULTI")
            emit(entry, spec)
        else:
            if pair in collapsed:
                warnings.append(
                    f"2023 pair {pair} looks collapsed ({sorted(collapsed[pair])}) but has no MULTI entry"
                )
            emit(entry, {lv: [""] for lv in entry.levels})

    # ---- reconcile the 2020 entries whose pair the 2023 CSV does not have
    sides_2023 = {k for pair in entries_2023 for k in pair}
    containing: dict[str, set[str]] = defaultdict(set)
    for ckey, mem in member_keys.items():
        for m in mem:
            containing[m].add(ckey)

    def covering(skey: str) -> set[str]:
        """The side itself and every class that contains it (a class: that contains all its members)."""
        mem = member_keys.get(skey)
        if mem:
            return {skey} | {c for c, m in member_keys.items() if m and mem <= m}
        return {skey} | containing.get(skey, set())

    for pair, entry in sorted(entries_2020.items()):
        if pair in entries_2023:
            continue
        if len(entry.levels) > 1:
            if pair not in MULTI:
                warnings.append(
                    f"2020 multi-level pair {pair} has no MULTI entry: levels kept without condition"
                )
                spec = {lv: [""] for lv in entry.levels}
            else:
                spec = MULTI[pair]
                if set(spec) != entry.levels:
                    warnings.append(
                        f"2020 pair {pair}: MULTI levels {sorted(spec)} != {sorted(entry.levels)}"
                    )
            emit(entry, spec)
            reconciled.append({"pair": pair, "levels": spec, "why": "multi-level entry missing from 2023"})
            continue
        # single level: a parser drop, or removed/superseded in 2023?
        level = next(iter(entry.levels))
        gone = [k for k in pair if k not in sides_2023]
        superseding = sorted(
            p
            for p in entries_2023
            if p != pair
            and (
                (p[0] in covering(pair[0]) and p[1] in covering(pair[1]))
                or (p[1] in covering(pair[0]) and p[0] in covering(pair[1]))
            )
        )
        if gone:
            removed_2020.append(
                {
                    "pair": " + ".join(pair),
                    "level": level,
                    "why": f"{', '.join(gone)} no longer in the 2023 thesaurus",
                }
            )
        elif superseding:
            removed_2020.append(
                {
                    "pair": " + ".join(pair),
                    "level": level,
                    "why": "covered in 2023 by " + "; ".join(" + ".join(p) for p in superseding),
                }
            )
        else:
            emit(entry, {level: [""]})
            reconciled.append(
                {
                    "pair": pair,
                    "levels": {level: [""]},
                    "why": "single-level entry absent from 2023 with no sign of removal",
                }
            )

    for pair in MULTI:
        if pair not in entries_2023 and pair not in entries_2020:
            warnings.append(f"MULTI entry {pair} matches no thesaurus pair")

    # ---- classes file: classes used as a side
    classes_out = {c: (class_names[c], class_members[c]) for c in sorted(used_classes)}
    unmapped = sorted(
        {source_names[k] for k in UNMAPPED_GROUPS if k in source_names}
        | {source_names[a] for a in SIDE_ALIASES if a in source_names and SIDE_ALIASES[a] not in class_keys}
    )
    rows_out.sort(key=lambda r: r["id"])
    ids = [r["id"] for r in rows_out]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate row ids")
    used_conditions = {r["condition"] for r in rows_out if r["condition"]}
    conditions = {c: conditions[c] for c in sorted(used_conditions)}
    return Derived(classes_out, rows_out, conditions, reconciled, removed_2020, unmapped, warnings)


# --------------------------------------------------------------------------- writing

INTERACTION_COLUMNS = [
    "id",
    "a_key",
    "a_name",
    "a_kind",
    "b_key",
    "b_name",
    "b_kind",
    "level",
    "condition",
    "risk",
    "actions",
    "source_version",
]


def write_csv(path: Path, columns: list[str], rows: Iterable[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


class _NoAliasDumper(yaml.SafeDumper):
    """Write shared sub-specs in full instead of as YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_yaml(path: Path, data: dict[str, Any], header: str) -> None:
    body = yaml.dump(
        data,
        Dumper=_NoAliasDumper,
        allow_unicode=True,
        sort_keys=False,
        width=120,
        default_flow_style=False,
    )
    path.write_text(header + body, encoding="utf-8", newline="\n")


def write_outputs(derived: Derived, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    class_rows = [
        {"class_key": ckey, "class_name": name, "member_key": mkey, "member_name": mname}
        for ckey, (name, members) in derived.classes.items()
        for mkey, mname in sorted(members.items())
    ]
    write_csv(out / "ansm_classes.csv", ["class_key", "class_name", "member_key", "member_name"], class_rows)
    write_csv(out / "ansm_interactions.csv", INTERACTION_COLUMNS, derived.rows)
    generated = "# Generated by datasets/build/derive_ansm_interactions.py - do not edit by hand.\n"
    write_yaml(
        out / "conditions.yaml",
        {cid: {"label_fr": label, "evaluate": spec} for cid, (label, spec) in derived.conditions.items()},
        generated + "# Conditions of multi-level ANSM entries. A dose spec without range means\n"
        "# 'the substance is on the list'. Labels are our own wording.\n",
    )
    write_yaml(
        out / "risk_codes.yaml",
        {code: {"label_fr": fr, "label_en": en} for code, (fr, en) in RISK_CODES.items()},
        generated,
    )
    write_yaml(
        out / "action_codes.yaml",
        {code: {"label_fr": fr, "label_en": en} for code, (fr, en) in ACTION_CODES.items()},
        generated,
    )


def summary(derived: Derived) -> str:
    rows = derived.rows
    per_level = Counter(r["level"] for r in rows)
    per_source = Counter(r["source_version"] for r in rows)
    risks = Counter(code for r in rows for code in r["risk"].split(";"))
    other = sum(1 for r in rows if r["risk"] == "other")
    members = sum(len(m) for _, m in derived.classes.values())
    lines = [
        f"rows: {len(rows)} ({', '.join(f'{lv} {per_level[lv]}' for lv in LEVELS)})",
        f"rows by source: {dict(sorted(per_source.items()))}",
        f"rows with a condition: {sum(1 for r in rows if r['condition'])}; "
        f"conditions: {len(derived.conditions)}",
        f"reconciled from 2020: {len(derived.reconciled)} pairs, {per_source[V2020]} rows",
        f"2020-only single-level pairs judged removed: {len(derived.removed_2020)}",
        f"classes: {len(derived.classes)}, class-member rows: {members}",
        f"unmapped class names ({len(derived.unmapped)}): {'; '.join(derived.unmapped)}",
        f"rows with risk 'other': {other} ({other / len(rows):.1%})",
        "risk codes: " + ", ".join(f"{c} {n}" for c, n in risks.most_common()),
    ]
    lines += [
        f"reconciled: {' + '.join(r['pair'])} -> "
        + ", ".join(f"{lv}[{'|'.join(c or '-' for c in conds)}]" for lv, conds in r["levels"].items())
        + f" ({r['why']})"
        for r in derived.reconciled
    ]
    lines += [f"removed: {r['pair']} ({r['level']}): {r['why']}" for r in derived.removed_2020]
    lines += [f"WARNING: {w}" for w in derived.warnings]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--reference",
        type=Path,
        default=REPO.parent / "shared" / "reference",
        help="folder holding ansm/ (default: ../shared/reference)",
    )
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: rules/interactions)")
    args = parser.parse_args(argv)
    derived = derive(args.reference)
    write_outputs(derived, args.out)
    print(summary(derived))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
