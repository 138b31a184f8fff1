"""Plain-text ordonnance parser: the reference example, variants and garbage."""

from __future__ import annotations

import random
from datetime import date

import pytest

from pharma_service.models import Patient
from pharma_service.parsing.ordonnance_text import (
    ParsedOrdonnance,
    RawDrugLine,
    _parse,
    parse_ordonnance_text,
    read_date,
)
from pharma_service.parsing.posology import parse_posology

EXAMPLE = """\
Dr Jean MARTIN - Médecin généraliste - RPPS 10001234567
Le 12/03/2026
Mme DUPONT Marie, née le 04/05/1941 (84 ans)
Poids : 61 kg   Clairance créatinine : 45 ml/min
Créatininémie : 98 µmol/L
1) SIMVASTATINE 40 mg cp : 1 cp le soir
2) KARDEGIC 75 mg, sachet
   1 sachet par jour à midi
3. DOLIPRANE 1000 mg : 1 cp si douleur, max 3/j
- Furosémide 40mg 1-0-0   QSP 3 mois
"""


def test_reference_example() -> None:
    r = parse_ordonnance_text(EXAMPLE)
    assert r.date == date(2026, 3, 12)
    assert r.prescriber == {
        "name": "Jean MARTIN",
        "specialty": "Médecin généraliste",
        "rpps": "10001234567",
    }
    assert r.patient == {
        "sex": "F",
        "birth_date": date(1941, 5, 4),
        "age": 84,
        "reference_date": date(2026, 3, 12),
        "weight_kg": 61.0,
        "crcl_ml_min": 45.0,
        "creatinine_umol_l": 98.0,
    }
    assert r.lines == [
        RawDrugLine(number=1, text="SIMVASTATINE 40 mg cp : 1 cp le soir", posology_text="1 cp le soir"),
        RawDrugLine(
            number=2,
            text="KARDEGIC 75 mg, sachet ; 1 sachet par jour à midi",
            posology_text="1 sachet par jour à midi",
            continued=True,
        ),
        RawDrugLine(
            number=3,
            text="DOLIPRANE 1000 mg : 1 cp si douleur, max 3/j",
            posology_text="1 cp si douleur, max 3/j",
        ),
        RawDrugLine(
            number=None,
            text="Furosémide 40mg 1-0-0   QSP 3 mois",
            posology_text="1-0-0   QSP 3 mois",
        ),
    ]
    assert r.ignored == []
    # what the caller does next: both must be valid
    Patient(**r.patient)
    doses = [parse_posology(line.text).daily_dose for line in r.lines]
    assert [(d.value, d.unit) if d else None for d in doses] == [
        (40, "mg"),
        (75, "mg"),
        None,  # as needed, no regular schedule
        (40, "mg"),
    ]


def test_plain_lines_without_numbers_monsieur_and_footer() -> None:
    text = """\
Docteur Paul DURAND
Cardiologue
RPPS : 10009876543
12 avenue de la République 75011 Paris
Tél : 01 23 45 67 89

Paris, le 3 mars 2026

Monsieur BERNARD Louis
82 a

BISOPROLOL 5 mg
1 cp le matin
ELIQUIS 2,5 mg : 1 cp matin et soir
Atorvastatine 20 mg 1 cp le soir
   pendant 3 mois

à renouveler 2 fois
Signature
"""
    r = parse_ordonnance_text(text)
    assert r.prescriber == {"name": "Paul DURAND", "specialty": "Cardiologue", "rpps": "10009876543"}
    assert r.date == date(2026, 3, 3)
    assert r.patient == {"sex": "M", "age": 82, "reference_date": date(2026, 3, 3)}
    assert [(ln.number, ln.text, ln.posology_text) for ln in r.lines] == [
        (None, "BISOPROLOL 5 mg ; 1 cp le matin", "1 cp le matin"),
        (None, "ELIQUIS 2,5 mg : 1 cp matin et soir", "1 cp matin et soir"),
        (
            None,
            "Atorvastatine 20 mg 1 cp le soir ; pendant 3 mois ; à renouveler 2 fois",
            "1 cp le soir ; pendant 3 mois ; à renouveler 2 fois",
        ),
    ]
    assert all(ln.ald is None for ln in r.lines)
    assert r.ignored == ["12 avenue de la République 75011 Paris", "Tél : 01 23 45 67 89", "Signature"]


def test_bizone_ald_sections_weight_with_comma_and_creatinine_in_mg_per_l() -> None:
    text = """\
Dr Anne LEROY, gériatre
Le 05/01/2026
M. PETIT Jacques, 79 ans
Poids : 61,5 kg   Taille : 1,72 m
Créatinine : 12 mg/L   DFG (CKD-EPI) : 52 mL/min/1,73m²

Prescriptions relatives au traitement de l'affection de longue durée reconnue (liste ou hors liste)
1. METFORMINE 1000 mg : 1 cp matin et soir
2. LANTUS 100 UI/ml : 20 UI le soir

Prescriptions SANS RAPPORT avec l'affection de longue durée
3. DOLIPRANE 1 g : 1 cp si douleur, sans dépasser 3 par jour
"""
    r = parse_ordonnance_text(text)
    assert r.patient == {
        "sex": "M",
        "age": 79,
        "weight_kg": 61.5,
        "height_cm": 172.0,
        "creatinine_umol_l": 106.1,  # 12 mg/L x 8.84
        "egfr_ml_min_1_73m2": 52.0,
        "reference_date": date(2026, 1, 5),
    }
    assert r.prescriber == {"name": "Anne LEROY", "specialty": "gériatre"}
    assert [(ln.number, ln.ald) for ln in r.lines] == [(1, True), (2, True), (3, False)]
    assert r.ignored == []
    Patient(**r.patient)


def test_birth_date_only_bullets_and_creatinine_in_mg_per_dl() -> None:
    text = """\
ORDONNANCE
Patient : Née le 12/07/1938
Sexe : F
Créatinine : 1,2 mg/dl
ClCr = 32 mL/min

    • Levothyrox 75 µg : 1 cp le matin à jeun
    • Seresta 10 mg : 1/2 cp au coucher si insomnie
"""
    r = parse_ordonnance_text(text)
    assert r.patient == {
        "birth_date": date(1938, 7, 12),
        "sex": "F",
        "creatinine_umol_l": 106.1,  # 1.2 mg/dl x 88.4
        "crcl_ml_min": 32.0,
    }
    assert "age" not in r.patient
    assert r.date is None
    assert [ln.text for ln in r.lines] == [
        "Levothyrox 75 µg : 1 cp le matin à jeun",
        "Seresta 10 mg : 1/2 cp au coucher si insomnie",
    ]
    assert r.ignored == ["ORDONNANCE"]
    Patient(**r.patient)


def test_short_ald_titles_and_a_caps_name_in_the_header() -> None:
    text = """\
DUPONT Marie
84 ans
1) KARDEGIC 75 mg : 1 sachet par jour
--- ALD ---
2) METFORMINE 500 mg (ALD) : 1 cp matin et soir
Hors ALD
3) DOLIPRANE
   1 cp si douleur
SPASFON
Dr MARTIN
"""
    r = parse_ordonnance_text(text)
    assert r.patient == {"age": 84}
    assert r.prescriber == {"name": "MARTIN"}  # a signature block is read too
    assert [(ln.number, ln.text, ln.ald) for ln in r.lines] == [
        (1, "KARDEGIC 75 mg : 1 sachet par jour", None),
        (2, "METFORMINE 500 mg (ALD) : 1 cp matin et soir", True),
        (3, "DOLIPRANE ; 1 cp si douleur", False),
        (None, "SPASFON", False),  # a capitalised word after the header is a drug line
    ]
    assert r.ignored == ["DUPONT Marie"]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Homme, 91 ans, 58 kg", {"sex": "M", "age": 91, "weight_kg": 58.0}),
        ("Femme - âge : 77", {"sex": "F", "age": 77}),
        ("Mlle X, 25 ans", {"sex": "F", "age": 25}),
        ("Sexe : M", {"sex": "M"}),
        ("M.DUMONT Albert", {"sex": "M"}),  # "M." glued to the name (a scan, or typed so)
        ("Poids 72.5kg, taille 168 cm", {"weight_kg": 72.5, "height_cm": 168.0}),
        ("Taille : 1m60", {"height_cm": 160.0}),
        ("Poids : 59", {"weight_kg": 59.0}),  # labelled: the unit is kg
        ("Poids 64,5 (pesée du jour)", {"weight_kg": 64.5}),
        ("Cl créat = 38 mL/min", {"crcl_ml_min": 38.0}),
        ("eGFR 60 ml/min/1.73m2", {"egfr_ml_min_1_73m2": 60.0}),
        ("Créatininémie 110 µmol/l", {"creatinine_umol_l": 110.0}),
        ("Créatinine : 11 mg/L", {"creatinine_umol_l": 97.2}),
        ("Né le 4 mai 1941", {"birth_date": date(1941, 5, 4)}),
        ("Date de naissance : 01/02/38", {"birth_date": date(1938, 2, 1)}),
    ],
)
def test_patient_facts(line: str, expected: dict[str, object]) -> None:
    r = parse_ordonnance_text(line + "\n1) KARDEGIC 75 mg : 1 sachet par jour\n")
    assert r.patient == expected
    assert len(r.lines) == 1


def test_creatinine_without_unit_is_not_guessed() -> None:
    r = parse_ordonnance_text("Créatinine : 98\n1) KARDEGIC 75 mg : 1 sachet par jour\n")
    assert "creatinine_umol_l" not in r.patient
    assert r.ignored == ["Créatinine : 98"]


def test_a_labelled_weight_in_another_unit_is_not_read_as_kg() -> None:
    for line in ("Poids : 590 g", "Poids : 1200", "Poids 62 ans"):
        r = parse_ordonnance_text(line + "\n1) KARDEGIC 75 mg : 1 sachet par jour\n")
        assert "weight_kg" not in r.patient, line


def test_a_schedule_read_with_a_letter_after_it_is_no_age() -> None:
    # "1:0-0 A": the end of a schedule, not "0 a" (an age of zero, which overrode the birth date)
    r = parse_ordonnance_text("née le 13/03/1944\n1) KARDEGIC 75 mg\n  _1:0-0 A\n")
    assert "age" not in r.patient
    assert parse_ordonnance_text("Mme X (85 a)\n1) KARDEGIC 75 mg\n").patient["age"] == 85


def test_patient_facts_on_the_prescribers_line_are_read_after_the_prescribers_words() -> None:
    # a scan joins the two columns of the header into one line
    joined = "Médecin généraliste  M | née le 11/07/1957\nDr Isabelle CLÉMENT . Madame Odette ROUSSEL, 81 ans"
    r = parse_ordonnance_text(joined + "\n1) KARDEGIC 75 mg : 1 sachet par jour\n")
    assert r.patient == {"birth_date": date(1957, 7, 11), "age": 81, "sex": "F"}
    assert r.prescriber["specialty"] == "Médecin généraliste"
    # the prescriber's own civility is not the patient's sex
    r = parse_ordonnance_text("Madame le Docteur Sophie MARTIN\n1) KARDEGIC 75 mg : 1 sachet par jour\n")
    assert "sex" not in r.patient


def test_a_number_alone_under_a_drug_is_a_speck_not_a_count() -> None:
    text = "M. X, 80 ans\n1) TAMSULOSINE 0,4 mg\n  2\n  une gélule par jour, le matin\n  8.\n"
    r = parse_ordonnance_text(text + "2) KARDEGIC 75 mg\n  ½\n")
    assert [line.text for line in r.lines] == [
        "TAMSULOSINE 0,4 mg ; une gélule par jour, le matin",
        "KARDEGIC 75 mg ; ½",  # a fraction alone is still the start of a posology
    ]
    assert r.ignored == ["2", "8."]


def test_a_clearance_with_a_letter_glued_to_its_number_is_not_read() -> None:
    # "8o ml/min" is a misread 80: reading 8 would raise every renal alert
    r = parse_ordonnance_text("Clairance (Cockcroft) : 8o ml/min\n1) KARDEGIC 75 mg\n")
    assert "crcl_ml_min" not in r.patient
    assert parse_ordonnance_text("Clairance : 58ml/min\n1) KARDEGIC 75 mg\n").patient["crcl_ml_min"] == 58


def test_out_of_range_values_are_dropped() -> None:
    r = parse_ordonnance_text("Poids : 980 kg, 140 ans\n1) KARDEGIC 75 mg\n")
    assert "weight_kg" not in r.patient
    assert "age" not in r.patient


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n  ",
        "asdkjh qwe 123 !!!\n%%%%\n",
        "Dr Jean MARTIN\nLe 12/03/2026\nMme DUPONT, 84 ans\n",
        "\x00\x01\x02",
        "1) \n2)\n-\n•",
    ],
)
def test_no_drug_line(text: str) -> None:
    r = parse_ordonnance_text(text)
    assert isinstance(r, ParsedOrdonnance)
    assert r.lines == []


def test_windows_line_endings_and_tabs() -> None:
    r = parse_ordonnance_text(EXAMPLE.replace("\n", "\r\n").replace("   1 sachet", "\t1 sachet"))
    assert len(r.lines) == 4
    assert r.lines[1].posology_text == "1 sachet par jour à midi"


def test_never_raises_on_random_input() -> None:
    rng = random.Random(7)
    pieces = [*EXAMPLE.splitlines(), "ALD", "Hors ALD", "   ", "1)", "- x", "Né le 99/99/9999"]
    alphabet = "abcXYZ0123456789 :;,.()/-\n\t•éµ"
    for i in range(500):
        if i % 2:
            text = "\n".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        else:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 200)))
        _parse(text)  # the internal parser, without the safety net


def test_huge_input_is_cut() -> None:
    text = EXAMPLE + "BISOPROLOL 5 mg : 1 cp le matin\n" * 5000
    r = parse_ordonnance_text(text)
    assert 4 < len(r.lines) < 5000


@pytest.mark.parametrize(
    "header",
    ["Le 12/03/2026\nNée le 01/01/1890", "Le 12/03/2026\nNée le 01/01/2027"],
)
def test_implausible_birth_dates_are_dropped(header: str) -> None:
    r = parse_ordonnance_text(header + "\n1) KARDEGIC 75 mg : 1 sachet par jour\n")
    assert "birth_date" not in r.patient
    assert r.date == date(2026, 3, 12)


def test_a_lab_date_is_not_the_ordonnance_date() -> None:
    text = "Créatinine le 10/03/2026 : 98 µmol/L\nParis, le 12/03/2026\n1) KARDEGIC 75 mg\n"
    r = parse_ordonnance_text(text)
    assert r.date == date(2026, 3, 12)
    assert r.patient["creatinine_umol_l"] == 98.0


def test_an_indented_footer_is_not_the_posology_of_the_last_drug() -> None:
    text = """Mme MARTIN, 84 ans
1. AMOXICILLINE 1 g
    1-1-1 pendant 7 jours
                      Dr Nicolas BARBIER
       Ordonnance de sortie - à remettre au pharmacien d'officine
         Pour tout renseignement, contacter le secrétariat du service
"""
    parsed = parse_ordonnance_text(text)
    assert [line.text for line in parsed.lines] == ["AMOXICILLINE 1 g ; 1-1-1 pendant 7 jours"]


def test_a_drug_written_slightly_to_the_right_is_a_new_line_not_a_posology() -> None:
    text = """Mme MARTIN, 84 ans
LEVOTHYROX 50 microgrammes
  1 cp par jour le matin
 INEXIUM 20 mg
  0-0-1 QSP 3 mois
"""
    parsed = parse_ordonnance_text(text)
    assert [line.text for line in parsed.lines] == [
        "LEVOTHYROX 50 microgrammes ; 1 cp par jour le matin",
        "INEXIUM 20 mg ; 0-0-1 QSP 3 mois",
    ]


def test_a_strength_before_a_posology_on_the_next_line_is_not_a_dose() -> None:
    text = """Mme X, 80 ans
MACROGOL 4000 10 g
   1 sachet par jour
Atorvastatine 20 mg 1 cp le soir
   pendant 3 mois
"""
    lines = parse_ordonnance_text(text).lines
    assert [(line.posology_text, line.continued) for line in lines] == [
        ("1 sachet par jour", True),
        ("1 cp le soir ; pendant 3 mois", True),
    ]


def test_a_daily_total_before_a_continuation_line_is_part_of_the_posology() -> None:
    text = """Mme X, 80 ans
1) MOVICOL 2 sachets par jour
   pendant 7 jours
2) MACROGOL 4000 10 g
   2 sachets par jour
"""
    lines = parse_ordonnance_text(text).lines
    assert [(line.posology_text, line.continued) for line in lines] == [
        ("2 sachets par jour ; pendant 7 jours", True),
        ("2 sachets par jour", True),  # the strength is still not read as a dose
    ]
    p = parse_posology(lines[0].posology_text or "")
    assert (p.units_per_intake, p.intakes_per_day, p.units_per_day, p.duration_days) == (None, None, 2, 7)
    assert p.unparsed == []


def test_phrasings_once_avoided_on_drug_lines() -> None:
    text = """Mme X, 80 ans
1) IMODIUM 2 mg
    1 gélule après chaque selle liquide, max 6 par jour
2) MONURIL 3 g : 1 sachet en dose unique
3) NOVONORM 1 mg 1 cp avant chaque repas
4) PARACETAMOL 500 mg : 2 cp si douleur, max 3 fois par jour
5) AMLODIPINE 5 mg 1 cp 1-0-1
6) AUGMENTIN 1 g 1-0-1, pendant 7 jours
7) SEVELAMER 800 mg
    1 cp au milieu des repas
"""
    lines = parse_ordonnance_text(text).lines
    assert [line.posology_text for line in lines] == [
        "1 gélule après chaque selle liquide, max 6 par jour",
        "1 sachet en dose unique",
        "1 cp avant chaque repas",
        "2 cp si douleur, max 3 fois par jour",
        "1 cp 1-0-1",
        "1-0-1, pendant 7 jours",
        "1 cp au milieu des repas",
    ]
    read = []
    for line in lines:
        for posology in (line.posology_text or "", line.text):  # the posology, and the whole line
            p = parse_posology(posology)
            assert p.unparsed == [], posology
        read.append(
            (p.units_per_intake, p.intakes_per_day, p.as_needed, p.max_units_per_day, p.duration_days)
        )
    assert read == [
        (1, None, True, 6, None),
        (1, 1, False, None, 1),
        (1, 3, False, None, None),
        (2, None, True, 6, None),
        (1, 2, False, None, None),
        (1, 2, False, None, 7),
        (1, None, False, None, None),
    ]


def test_indented_consultation_footer_is_not_a_posology() -> None:
    text = """Mme X, 80 ans
1) AMLODIPINE 5 mg
      1 cp le matin
      Consultations sur rendez-vous du lundi au vendredi
"""
    lines = parse_ordonnance_text(text).lines
    assert [line.posology_text for line in lines] == ["1 cp le matin"]


def test_a_drug_line_whose_unit_was_lost_is_still_a_drug_line() -> None:
    parsed = parse_ordonnance_text(
        "Mme Durand, 84 ans\nZoloft 50\n   1 cp le matin\nKardegic 75 mg\n   1 sachet le soir\nPage 2\n"
    )
    assert [line.text for line in parsed.lines] == [
        "Zoloft 50 ; 1 cp le matin",
        "Kardegic 75 mg ; 1 sachet le soir",
    ]
    assert parsed.lines[0].posology_text == "1 cp le matin"


def test_a_name_and_a_number_in_the_header_are_not_a_drug() -> None:
    parsed = parse_ordonnance_text(
        "Dr Martin\nMetz 57000\nMme Durand, 84 ans\nKardegic 75 mg : 1 sachet le soir\n"
    )
    assert [line.text for line in parsed.lines] == ["Kardegic 75 mg : 1 sachet le soir"]


def test_an_indented_name_with_a_misread_unit_starts_the_next_drug() -> None:
    # OCR of a hurried hand: each drug's strength unit misread, its posology indented below
    parsed = parse_ordonnance_text(
        "Mme Garnier, 82 ans\n"
        "Ramipril 5\n"
        "   1 comprimé le matin\n"
        "  Lansoprazole 15 #g\n"
        "     1-0-0\n"
        "  Kardegic 75 5 mg\n"
        "     1-0-0 pendant 3 mois\n"
    )
    assert [line.text for line in parsed.lines] == [
        "Ramipril 5 ; 1 comprimé le matin",
        "Lansoprazole 15 #g ; 1-0-0",
        "Kardegic 75 5 mg ; 1-0-0 pendant 3 mois",
    ]


def test_an_indented_form_word_and_number_stays_the_posology() -> None:
    parsed = parse_ordonnance_text(
        "Mme Garnier, 82 ans\nRamipril 5 mg\n   Comprimé 1 le matin\n   Gouttes 20 le soir\n"
    )
    assert [line.text for line in parsed.lines] == [
        "Ramipril 5 mg ; Comprimé 1 le matin ; Gouttes 20 le soir"
    ]


@pytest.mark.parametrize(
    ("header", "age", "weight"),
    [
        ("Monsieur LAMBERT Jean-Pierre,72 ans,81 kg", 72, 81.0),  # OCR dropped the spaces
        ("Monsieur LAMBERT Jean-Pierre, 1,72 ans", None, None),  # "1,72" is not an age
    ],
)
def test_an_age_after_a_comma_without_a_space(header: str, age: int | None, weight: float | None) -> None:
    parsed = parse_ordonnance_text(f"{header}\nDOLIPRANE 1000 mg : 1 cp le soir\n")
    assert parsed.patient.get("age") == age
    assert parsed.patient.get("weight_kg") == weight


def test_specks_between_a_drug_and_its_posology_do_not_end_the_drug() -> None:
    parsed = parse_ordonnance_text(
        "M. BLANC, 67 ans\n"
        "   2) CHOLECALCIFEROL 80 000 UI ampoule\n"
        "C3\n"
        "        1 ampoule tous les mois\n"
        "se\n"
        "   3) APIXABAN 2,5 mg : 1 cp matin et soir\n"
    )
    assert [line.text for line in parsed.lines] == [
        "CHOLECALCIFEROL 80 000 UI ampoule ; 1 ampoule tous les mois",
        "APIXABAN 2,5 mg : 1 cp matin et soir",
    ]
    assert "C3" in parsed.ignored


def test_a_strength_in_thousands_starts_a_drug_even_indented() -> None:
    parsed = parse_ordonnance_text(
        "M. BLANC, 67 ans\n"
        "LEVOTHYROX 50 microgrammes - 1 cp par jour\n"
        "   ZYMAD 80 000 UI - 1 ampoule par mois QSP 3 mois\n"
    )
    assert [line.text for line in parsed.lines] == [
        "LEVOTHYROX 50 microgrammes - 1 cp par jour",
        "ZYMAD 80 000 UI - 1 ampoule par mois QSP 3 mois",
    ]


def test_a_marker_read_as_a_letter_and_a_glued_unit_still_start_the_next_drug() -> None:
    # "4-SERESTA 10 mg" read "A-SERESTA 10mMmg": "a" is no "à" that starts a posology
    parsed = parse_ordonnance_text(
        "M. BLANC, 67 ans\n"
        "1) GLICLAZIDE 60 mg comprimé\n"
        "   2 cpr le matin\n"
        "   A-SERESTA 10mMmg\n"
        "   1 comprimé le matin et le soir\n"
    )
    assert [line.text for line in parsed.lines] == [
        "GLICLAZIDE 60 mg comprimé ; 2 cpr le matin",
        "A-SERESTA 10mMmg ; 1 comprimé le matin et le soir",
    ]


def test_a_posology_whose_count_was_lost_stays_with_its_drug() -> None:
    parsed = parse_ordonnance_text("M. BLANC, 67 ans\nKARDEGIC 75 mg\nsachet le soir\nTAHOR 20 mg\n")
    assert [line.text for line in parsed.lines] == ["KARDEGIC 75 mg ; sachet le soir", "TAHOR 20 mg"]


def _known(word: str) -> bool:
    return word in ("amoxicilline", "colchicine")


def test_a_line_of_the_list_that_begins_with_a_drug_name_is_a_drug_line() -> None:
    text = (
        "Mme DURAND, 82 ans\nDOLIPRANE 1000 mg : 1 cp le soir\nAmoxicilline g\n   1 cp matin, midi et soir\n"
    )
    assert [line.text for line in parse_ordonnance_text(text).lines] == ["DOLIPRANE 1000 mg : 1 cp le soir"]
    assert [line.text for line in parse_ordonnance_text(text, is_drug_name=_known).lines] == [
        "DOLIPRANE 1000 mg : 1 cp le soir",
        "Amoxicilline g ; 1 cp matin, midi et soir",
    ]


def test_a_drug_name_in_the_header_is_not_a_drug_line() -> None:
    # before the list, a surname or a street may be a drug name; after it, an unknown word is none
    text = "Mme Colchicine Jeanne\nColchicine Paris\nDOLIPRANE 1000 mg : 1 cp le soir\nSignature illisible\n"
    parsed = parse_ordonnance_text(text, is_drug_name=_known)
    assert [line.text for line in parsed.lines] == ["DOLIPRANE 1000 mg : 1 cp le soir"]


def test_a_number_without_its_dot_before_a_known_drug_starts_a_new_drug() -> None:
    # "2 Colchicine 1 mg" was swallowed as the posology of the drug above, or ignored
    text = "Amoxicilline 1 g : 1 cp matin et soir\n2 Colchicine 1 mg\n   1 cp le soir\n"
    parsed = parse_ordonnance_text(text, is_drug_name=_known)
    assert [(line.number, line.text) for line in parsed.lines] == [
        (None, "Amoxicilline 1 g : 1 cp matin et soir"),
        (2, "Colchicine 1 mg ; 1 cp le soir"),
    ]
    assert parsed.lines[1].posology_text == "1 cp le soir"
    # a count before a posology word, or a drug the referential does not know, stays posology
    for line in ("2 comprimés 1 mg le soir", "2 Inconnu 1 mg"):
        parsed = parse_ordonnance_text(f"Amoxicilline 1 g\n{line}\n", is_drug_name=_known)
        assert [drug.text for drug in parsed.lines] == [f"Amoxicilline 1 g ; {line}"]


def test_a_short_word_read_from_a_margin_rule_is_not_a_drug_line() -> None:
    text = "M. DUPONT, 80 ans\nAmoxicilline 1 g : 1 cp matin et soir\nVAT\nCOLCHICINE\nMNT HEUS\n"

    def known(word: str) -> bool:
        return word in ("amoxicilline", "colchicine", "fer")

    parsed = parse_ordonnance_text(text + "FER\n  1 cp le matin\n", is_drug_name=known)
    assert [line.text for line in parsed.lines] == [
        "Amoxicilline 1 g : 1 cp matin et soir",
        "COLCHICINE",
        "FER ; 1 cp le matin",  # a short name the referential knows is still a drug
    ]
    assert parsed.ignored == ["VAT", "MNT HEUS"]
    # without the referential to ask, nothing is set aside
    assert "VAT" in [line.text for line in parse_ordonnance_text(text).lines]


def test_a_speck_read_as_a_bullet_before_a_header_line_makes_no_drug() -> None:
    parsed = parse_ordonnance_text(
        "Dr Sophie DURAND\n  - Tél. 05 56 23 18 62\nM. Petit, 74 ans\n- DOLIPRANE 1000 mg : 1 cp le soir\n"
    )
    assert [line.text for line in parsed.lines] == ["DOLIPRANE 1000 mg : 1 cp le soir"]


@pytest.mark.parametrize(
    "posology",
    [
        "1 .P le matin, QSP 3 mois",  # a count and a speck read as a list number
        "1) PRESS le matin QSP 3 mois",  # out of the list's sequence
        "-un comprimé une fois par semaine",  # a speck read as a bullet
    ],
)
def test_a_posology_read_as_a_list_marker_stays_with_its_drug(posology: str) -> None:
    text = f"  4. ROSUVASTATINE 5 mg\n       {posology}\n  5. KARDEGIC 75 mg : 1 sachet le midi\n"
    parsed = parse_ordonnance_text(text)
    assert [line.text for line in parsed.lines] == [
        f"ROSUVASTATINE 5 mg ; {posology}",
        "KARDEGIC 75 mg : 1 sachet le midi",
    ]


def test_a_list_marker_under_a_drug_stays_a_drug_when_it_is_one() -> None:
    # the next number of the list, however indented; a bullet before a drug; a drug line
    # that already has its posology takes no other
    for text in (
        "  1) DOLIPRANE 1000 mg\n     2) KARDEGIC 75 mg 1 sachet le matin\n",
        "- DOLIPRANE 1000 mg\n   - KARDEGIC 75 mg\n",
        "  1) DOLIPRANE 1000 mg : 1 cp le soir\n     1) KARDEGIC 1 sachet le matin\n",
        "- DOLIPRANE 1000 mg\n   - KARDEGIC 75 mg 1 sachet le matin\n",  # a strength
        "  1) DOLIPRANE 1000 mg\n     3) Kardegik 1 sachet le matin\n",  # a name, then a dose
    ):
        assert len(parse_ordonnance_text(text).lines) == 2, text


def test_a_schedule_pulled_left_by_a_margin_speck_is_the_posology_of_the_drug_above() -> None:
    for posology in ("to comprimé 1-0-0 QSP 3 mois", "O0 I 1 cp 0-0-1", "| me 1-0-0, QSP 3 mois"):
        parsed = parse_ordonnance_text(f"  2) RIVAROXABAN 20 mg\n{posology}\n  3) AMLOR 5 mg : 1 cp/j\n")
        assert [line.text for line in parsed.lines] == [
            f"RIVAROXABAN 20 mg ; {posology}",
            "AMLOR 5 mg : 1 cp/j",
        ]


@pytest.mark.parametrize(
    "line",
    [
        "OMIX.P.04 mg g 1-0-0 pendant 3 mois",  # a strength: a drug
        "Dolipane 1 cp 3 fois par jour",  # a misread name, reported as unresolved, not merged
    ],
)
def test_a_drug_line_at_the_same_indent_is_not_taken_for_a_posology(line: str) -> None:
    parsed = parse_ordonnance_text(f"M. DUPONT, 80 ans\nWarfarine 5 mg\n{line}\n", is_drug_name=_known)
    assert parsed.lines[0].text == "Warfarine 5 mg"
    assert line in [drug.text for drug in parsed.lines[1:]] + parsed.ignored  # shown, not merged


def test_an_old_date_alone_on_a_header_line_is_the_birth_date() -> None:
    # its label lost to the scan; before or after the ordonnance's own date
    for header in ("Le 10/02/2026\nMadame DUPONT\n06/11/1947", "06/11/1947\nLe 10/02/2026\nMadame DUPONT"):
        parsed = parse_ordonnance_text(header + "\n1) DOLIPRANE 1000 mg : 1 cp le soir\n")
        assert parsed.patient["birth_date"] == date(1947, 11, 6)
        assert parsed.date == date(2026, 2, 10)
    # a recent date alone is the ordonnance's; a birth date read with its label is kept
    parsed = parse_ordonnance_text("10/02/2026\nM. X, né le 01/01/1940\n12/03/1990\n1) DOLIPRANE 1000 mg\n")
    assert parsed.date == date(2026, 2, 10)
    assert parsed.patient["birth_date"] == date(1940, 1, 1)


@pytest.mark.parametrize(
    ("text", "birth", "expected"),
    [
        ("24/08/1935", True, date(1935, 8, 24)),
        ("01/02/2026.", False, date(2026, 2, 1)),
        ("1er mai 2025", False, date(2025, 5, 1)),
        ("06/11/47", True, date(1947, 11, 6)),
        ("25/09/2625", False, None),  # a year misread
        ("0142/2026", False, None),
        ("24/13/1935", True, None),
        ("le 24/08/1935", False, None),  # not a date alone
    ],
)
def test_a_word_reads_as_a_date_only_when_it_is_one(text: str, birth: bool, expected: date | None) -> None:
    assert read_date(text, birth=birth) == expected
