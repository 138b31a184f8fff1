from __future__ import annotations

import pytest

from pharma_service.models import LineStatus, MedicationInput
from pharma_service.service import Engine


def _line(engine: Engine, text: str):  # type: ignore[no-untyped-def]
    return engine.normaliser.normalise_text(text)


@pytest.mark.parametrize(
    ("text", "keys", "strengths"),
    [
        ("SIMVASTATINE 40 mg comprimé pelliculé", ["simvastatine"], [40]),
        ("ZECLAR 500 mg", ["clarithromycine"], [500]),
        (
            "PARACETAMOL 500 mg / TRAMADOL 37,5 mg (IXPRIM)",
            ["paracetamol", "tramadol"],
            [500, 37.5],
        ),
        ("chlorhydrate de metformine 850", ["metformine"], [None]),
        ("Paracétamol 1 g", ["paracetamol"], [1]),
        ("KARDEGIC 75 mg sachet", ["acide acetylsalicylique"], [75]),
        ("amlodipine 5mg cp", ["amlodipine"], [5]),
        ("DIFFU K 600 mg gél", ["chlorure de potassium"], [600]),
        ("LEVOTHYROX 75 µg", ["levothyroxine"], [75]),
        ("furosémide 40 mg 1-0-0", ["furosemide"], [40]),
        ("ACIDE ACETYLSALICYLIQUE 75 mg", ["acide acetylsalicylique"], [75]),
        ("bisoprolol 2,5 mg", ["bisoprolol"], [2.5]),
        # thousands written in groups of three are one number, not "000 UI"
        ("CHOLECALCIFEROL 80 000 UI", ["cholecalciferol"], [80000]),
        ("cholécalciférol 100000 UI", ["cholecalciferol"], [100000]),
        ("DOLIPRANE 1 000 mg", ["paracetamol"], [1000]),
    ],
)
def test_known_lines_resolve_to_their_substances(engine: Engine, text: str, keys, strengths) -> None:  # type: ignore[no-untyped-def]
    line = _line(engine, text)
    assert line.status == LineStatus.RESOLVED, line
    assert sorted(s.key for s in line.substances) == sorted(keys)
    by_key = {s.key: s for s in line.substances}
    for key, value in zip(keys, strengths, strict=True):
        strength = by_key[key].strength
        if value is None:
            continue
        assert strength is not None and strength.value == pytest.approx(value), (key, strength)


def test_thousands_strength_picks_that_product_and_scales_the_posology(engine: Engine) -> None:
    zymad = _line(engine, "ZYMAD 80 000 UI")
    assert zymad.product is not None and "80 000 UI" in zymad.product.name
    monthly = _line(engine, "CHOLECALCIFEROL 80 000 UI 1 ampoule par mois")
    assert monthly.posology is not None and monthly.posology.daily_dose is not None
    assert monthly.posology.daily_dose.value == pytest.approx(80000 / 30, rel=1e-3)


def test_substances_carry_atc_codes(engine: Engine) -> None:
    line = _line(engine, "SIMVASTATINE 40 mg comprimé")
    assert line.substances[0].atc == "C10AA01"
    assert _line(engine, "ZECLAR 500 mg").substances[0].atc == "J01FA09"


def test_brand_line_identifies_the_product_with_matching_strength(engine: Engine) -> None:
    line = _line(engine, "ZECLAR 500 mg comprimé pelliculé")
    assert line.product is not None
    assert "500" in line.product.name and "ZECLAR" in line.product.name


@pytest.mark.parametrize(
    ("typo", "key"),
    [
        ("SIMVASTATlNE 40 mg", "simvastatine"),
        ("AMLODIPlNE 5 mg", "amlodipine"),
        ("metfromine 850 mg", "metformine"),
        ("FUROSEMlDE 40 mg", "furosemide"),
        ("clarithromycin 500 mg", "clarithromycine"),
    ],
)
def test_ocr_like_typos_are_recovered_with_lower_confidence(engine: Engine, typo: str, key: str) -> None:
    line = _line(engine, typo)
    assert [s.key for s in line.substances] == [key]
    assert line.status != LineStatus.UNRESOLVED
    assert line.confidence < 0.99


@pytest.mark.parametrize("text", ["XYZABC 10 mg", "bonjour docteur", "1 cp le soir", "zzzzzzzzzz"])
def test_unknown_drugs_are_unresolved_not_dropped(engine: Engine, text: str) -> None:
    line = _line(engine, text)
    assert line.status == LineStatus.UNRESOLVED
    assert line.substances == []
    assert line.line == text


def test_atc_code_stands_in_when_text_is_not_understood(engine: Engine) -> None:
    line = engine.normaliser.normalise_input(0, MedicationInput(atc="J01FA09", text="antibio 500 mg 2/j"))
    assert line.status == LineStatus.RESOLVED
    assert [s.key for s in line.substances] == ["clarithromycine"]


def test_cis_code_gives_product_and_composition(engine: Engine) -> None:
    line = engine.normaliser.normalise_input(0, MedicationInput(cis="67997205"))
    assert line.product is not None and line.product.cis == "67997205"
    assert [s.key for s in line.substances] == ["clarithromycine"]


def test_unknown_cis_is_unresolved(engine: Engine) -> None:
    line = engine.normaliser.normalise_input(0, MedicationInput(cis="99999999"))
    assert line.status == LineStatus.UNRESOLVED


@pytest.mark.parametrize("text", ["Ramipril 5 mg l matin", "RAMIPRIL 5 mg ; 1 cp l soir"])
def test_a_stray_letter_is_not_the_one_letter_brand_of_a_coded_product(engine: Engine, text: str) -> None:
    # "L 28" (homeopathic drops) is a letter and a code; an OCR "l" for "1" is not that product
    line = _line(engine, text)
    assert [s.key for s in line.substances] == ["ramipril"]


def test_a_coded_product_is_still_found_by_its_letter_and_code(engine: Engine) -> None:
    line = _line(engine, "A 313 50 000 UI capsule")
    assert line.status == LineStatus.RESOLVED
    assert [s.key for s in line.substances] == ["concentrat de vitamine a synthetique forme huileuse"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Empagli flozine 10 mg", "empagliflozine"),
        ("Metfor mine 1000 mg", "metformine"),
        ("Aml odipine 5 mg", "amlodipine"),  # a first piece too short to be a word alone
        ("Ca rdensiel 2,5 mg", "bisoprolol"),
    ],
)
def test_a_name_split_in_two_by_the_ocr_is_found_with_less_confidence(
    engine: Engine, text: str, key: str
) -> None:
    line = _line(engine, text)
    assert [s.key for s in line.substances] == [key]
    assert line.confidence < _line(engine, text.replace(" ", "", 1)).confidence


@pytest.mark.parametrize(
    ("text", "key"),
    [("FAHOR 20 mg", "atorvastatine"), ("AMEOR 5 mg", "amlodipine"), ("Mopcal 20 mg", "omeprazole")],
)
def test_a_short_name_one_letter_off_is_taken_when_its_strength_confirms_it(
    engine: Engine, text: str, key: str
) -> None:
    line = _line(engine, text)
    assert [s.key for s in line.substances] == [key]
    # analysed, but to be confirmed by a human
    assert line.status == LineStatus.AMBIGUOUS
    assert line.confidence < _line(engine, text.replace(text.split()[0], "Tahor")).confidence


@pytest.mark.parametrize("text", ["FAHOR", "FAHOR 33 mg", "XANAK 3 mg"])
def test_a_short_name_one_letter_off_without_a_confirming_strength_stays_unresolved(
    engine: Engine, text: str
) -> None:
    assert _line(engine, text).status == LineStatus.UNRESOLVED


@pytest.mark.parametrize(
    ("text", "keys"),
    [("Doliprane cod 1000 mg", ["paracetamol"]), ("Lasilix special 40 mg", ["furosemide"])],
)
def test_a_name_and_the_word_after_it_are_not_joined(engine: Engine, text: str, keys: list[str]) -> None:
    assert [s.key for s in _line(engine, text).substances] == keys


def test_a_strength_between_two_colons_is_the_substances(engine: Engine) -> None:
    line = _line(engine, "Escitalopram: 10 mg: 1 cpr 1 fois par jour")
    assert [(s.key, s.strength and s.strength.value) for s in line.substances] == [("escitalopram", 10.0)]


def test_a_two_letter_substance_name_is_not_matched_as_a_word(engine: Engine) -> None:
    # "or" (gold) is a French word and an OCR reading of "jour": only its product names it
    line = _line(engine, "Loperamide 2 mg 1 gél si diarrhée, maximum 6 par 1 or")
    assert [s.key for s in line.substances] == ["loperamide"]
    assert [s.key for s in _line(engine, "GRANIONS D'OR 0,20 mg/2 ml").substances] == ["or"]
