"""Lexicon-guided decoding of the handwriting recogniser, and the ink the detector missed."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pharma_service.ocr.handwriting import PaddleReader, ink_core, lost_bands, text_rows, uncovered_ink
from pharma_service.ocr.lexicon import Lexicon, LexiconDecoder, ctc_log_likelihood
from pharma_service.referential.store import Referential

HANDWRITING_FONT = Path("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf")  # fonts-dkg-handwriting


def _brute_force(probs: np.ndarray, labels: list[int]) -> float:
    """P(labels) summed over every path of the slices that collapses to them."""
    total = 0.0
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or path[i - 1] != c)]
        if collapsed == labels:
            total += math.prod(probs[t, c] for t, c in enumerate(path))
    return math.log(total) if total else float("-inf")


@pytest.mark.parametrize("labels", [[1], [1, 2], [2, 2], [1, 2, 1], []])
def test_ctc_likelihood_equals_the_sum_over_all_alignments(labels: list[int]) -> None:
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(3), size=5)
    assert ctc_log_likelihood(np.log(probs), labels) == pytest.approx(_brute_force(probs, labels))


def test_a_doubled_letter_needs_a_blank_between() -> None:
    probs = np.array([[0.0001, 0.9998, 0.0001], [0.0001, 0.9998, 0.0001]])
    assert ctc_log_likelihood(np.log(probs), [1, 1]) == float("-inf")  # two slices cannot hold "a_a"


CHARSET = ["blank", " ", *"abcdefghijklmnopqrstuvwxyzMPRT0123456789-O"]


def _slices(columns: list[dict[str, float]]) -> np.ndarray:
    """One slice per dict (character -> probability), blank taking the rest, and a blank
    slice between characters, as a CTC recogniser outputs."""
    rows = []
    for column in columns:
        for chars in (column, {}):
            row = np.full(len(CHARSET), 1e-4)
            for ch, p in chars.items():
                row[CHARSET.index(ch)] = p
            row[0] = max(1e-4, 1 - row[1:].sum())
            rows.append(row / row.sum())
    return np.array(rows)


LEXICON = Lexicon.build(["METFORMINE BIOGARAN", "Tercian"])


def test_a_misread_word_becomes_the_lexicon_word_its_slices_support() -> None:
    # greedy reads "molin": the second choices under "o" and "l" spell "matin"
    probs = _slices([{"m": 0.9}, {"o": 0.5, "a": 0.4}, {"l": 0.55, "t": 0.4}, {"i": 0.9}, {"n": 0.9}])
    assert LexiconDecoder(CHARSET, None).decode(probs).text == "molin"
    decoded = LexiconDecoder(CHARSET, LEXICON).decode(probs)
    assert decoded.text == "matin"
    assert decoded.replaced == 1


def test_a_word_the_slices_contradict_stays_as_read() -> None:
    # "molin" is close to "matin" in spelling, but nothing under "o" and "l" looks like "a", "t"
    probs = _slices([{"m": 0.9}, {"o": 0.99}, {"l": 0.99}, {"i": 0.9}, {"n": 0.9}])
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "molin"


def test_a_word_far_from_every_lexicon_word_stays_as_read() -> None:
    probs = _slices([{ch: 0.9} for ch in "girard"])
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "girard"


def test_a_drug_name_is_mended_in_the_case_it_was_written() -> None:
    # "Metforwine": the "m" second under the "w"
    read = [{ch: 0.9} for ch in "Metfor"]
    probs = _slices([*read, {"w": 0.5, "m": 0.45}, {"i": 0.9}, {"n": 0.9}, {"e": 0.9}])
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "Metformine"


def test_a_unit_after_a_number_is_read_as_a_unit_when_the_slices_allow_it() -> None:
    mo = _slices([{"2": 0.9}, {"5": 0.9}, {" ": 0.9}, {"m": 0.9}, {"o": 0.6, "g": 0.3}])
    assert LexiconDecoder(CHARSET, LEXICON).decode(mo).text == "25 mg"
    # in its own group, after a group that ended with a number
    alone = _slices([{"m": 0.9}, {"a": 0.6, "g": 0.3}])
    decoder = LexiconDecoder(CHARSET, LEXICON)
    assert decoder.decode(alone, after_number=True).text == "mg"
    assert decoder.decode(alone).text == "ma"  # not after a number: no unit is expected


def test_numbers_are_never_changed() -> None:
    probs = _slices([{"1": 0.5, "l": 0.45}, {" ": 0.9}, {"c": 0.9}, {"p": 0.9}])
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "1 cp"


def test_a_mark_before_a_unit_word_is_the_count_the_slices_support() -> None:
    # "T cp": a one-stroke "1" read as "T", with "1" the recogniser's second choice
    probs = _slices([{"T": 0.6, "1": 0.3}, {" ": 0.9}, {"c": 0.9}, {"p": 0.9}])
    assert LexiconDecoder(CHARSET, None).decode(probs).text == "T cp"
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "1 cp"
    # in its own group, before a group that starts with a unit word
    alone = _slices([{"T": 0.6, "1": 0.3}])
    decoder = LexiconDecoder(CHARSET, LEXICON)
    assert decoder.decode(alone, before_unit=True).text == "1"
    assert decoder.decode(alone).text == "T"  # no unit follows: no count is expected


def test_a_mark_that_could_be_two_counts_stays_as_read() -> None:
    # as much a "4" as a "1": no count is chosen for the human to trust
    probs = _slices([{"T": 0.5, "1": 0.24, "4": 0.24}, {" ": 0.9}, {"c": 0.9}, {"p": 0.9}])
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "T cp"


def test_a_mark_the_slices_do_not_read_as_a_count_stays_as_read() -> None:
    probs = _slices([{"T": 0.99}, {" ": 0.9}, {"c": 0.9}, {"p": 0.9}])
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "T cp"


def _schedule_slices(middle: dict[str, float]) -> np.ndarray:
    # "1-0-0" in a hurried hand: "l" for "1", "o" for "0", the first dash read as an "o"
    return _slices([{"l": 0.6, "1": 0.35}, {"o": 0.5, "-": 0.45}, middle, {"-": 0.9}, {"o": 0.6, "0": 0.35}])


def test_marks_read_for_a_dash_schedule_are_the_schedule_the_slices_support() -> None:
    probs = _schedule_slices({"o": 0.6, "0": 0.35})
    assert LexiconDecoder(CHARSET, None).decode(probs).text == "loo-o"
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "1-0-0"


def test_marks_that_could_be_two_schedules_stay_as_read() -> None:
    # the middle mark as much a "1" as a "0": "1-0-0" or "1-1-0", no schedule is chosen
    probs = _schedule_slices({"o": 0.5, "0": 0.24, "1": 0.24})
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "loo-o"


@pytest.mark.parametrize("read", ["2026", "100", "Tercian"])
def test_numbers_and_words_are_not_read_as_schedules(read: str) -> None:
    probs = _slices([{ch: 0.9} for ch in read])
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == read


def test_the_lexicon_holds_the_referential_drug_names_and_the_ordonnance_words() -> None:
    lexicon = Lexicon.from_referential(Referential.load())
    for word in ("metformine", "Kardegic", "amiodarone", "comprimé", "matin", "renouveler"):
        assert word in lexicon
    assert "girard" not in lexicon


def test_a_stroke_left_of_a_line_that_no_group_covers_is_boxed() -> None:
    ink = np.zeros((400, 1200), dtype=bool)
    row = [(300, 100, 500, 160), (540, 100, 700, 160)]
    ink[105:155, 300:500] = ink[105:155, 540:700] = True  # the words the detector found
    ink[108:152, 240:246] = True  # a "1" written as one stroke, before them
    ink[128:131, 520:523] = True  # a speck between the groups
    found = uncovered_ink(row, ink)
    assert len(found) == 1
    left, top, right, bottom = found[0]
    assert left < 240 and right > 246 and top <= 108 and bottom >= 152


def test_a_first_word_the_detector_missed_is_boxed_back_to_the_page_margin() -> None:
    ink = np.zeros((400, 1600), dtype=bool)
    row = [(800, 100, 900, 160)]  # "mg" found; "Clopidogrel 75" before it was not
    ink[105:155, 800:900] = True
    ink[105:155, 120:400] = True
    found = uncovered_ink(row, ink)  # three line heights to the left: the word is not reached
    assert all(box[0] > 400 for box in found)
    (box,) = uncovered_ink(row, ink, margin=120)
    assert box[0] <= 120 and box[2] >= 400


def test_a_line_no_group_covers_is_a_lost_band() -> None:
    ink = np.zeros((900, 1600), dtype=bool)
    boxes = [(200, 100, 900, 160), (200, 400, 800, 460)]
    ink[105:155, 200:900] = ink[405:455, 200:800] = True  # the lines the detector found
    ink[255:300, 210:600] = True  # "81 kg", between them, found by none
    ink[600:603, 300:303] = True  # a speck: no line
    ink[700:750, 1500:1600] = True  # a signature far right of the text's margin
    assert lost_bands(boxes, ink, margin=200, typical=60) == [(255, 300)]
    boxes.append((210, 250, 600, 305))
    assert lost_bands(boxes, ink, margin=200, typical=60) == []


def test_ink_inside_another_lines_group_is_not_boxed_again() -> None:
    # a stray group in a row of its own, just under "Seroplex 10 mg": its band crosses the
    # line above, whose ink belongs to that line's group
    ink = np.zeros((400, 1200), dtype=bool)
    above = (100, 60, 500, 150)
    ink[70:148, 100:500] = True
    stray = [(600, 120, 660, 180)]
    ink[125:175, 600:660] = True
    assert uncovered_ink(stray, ink) != []  # without the other line's group, its ink is boxed
    assert uncovered_ink(stray, ink, others=[above]) == []


def test_a_tall_group_is_cut_down_to_its_line_of_script() -> None:
    ink = np.zeros((300, 800), dtype=bool)
    ink[120:180, 50:750] = True  # the written line
    ink[0:40, 100:110] = ink[250:290, 300:310] = True  # loops of the lines above and below
    left, top, right, bottom = ink_core((0, 0, 800, 300), ink)
    assert (left, right) == (0, 800)
    assert 80 <= top < 120 and 180 < bottom <= 220
    # a group that is all script keeps its height
    assert ink_core((50, 120, 750, 180), ink) == (50, 120, 750, 180)


def test_a_tall_groups_line_is_found_without_the_ink_of_the_next_lines_group() -> None:
    # "88 kg" boxed down into "Clairance (Cockcroft)" under it, a longer and denser line
    ink = np.zeros((300, 800), dtype=bool)
    ink[20:80, 0:200:2] = True  # "88 kg", thin strokes
    ink[150:210, 0:800] = True  # the line under it, boxed as a group of its own too
    tall, below = (0, 0, 300, 230), (0, 140, 800, 220)
    assert ink_core(tall, ink)[1] >= 100  # its core taken from the line below
    _, top, _, bottom = ink_core(tall, ink, others=[below])
    assert top <= 20 and 80 <= bottom < 140


def test_a_lone_stroke_read_as_nothing_is_read_with_the_next_group() -> None:
    decoder = LexiconDecoder(CHARSET, None)
    stroke, word, far = (100, 100, 120, 160), (150, 100, 900, 160), (1700, 100, 1800, 160)
    probs = {stroke: _slices([{}]), word: _slices([{"c": 0.9}, {"p": 0.9}]), far: _slices([{}])}
    reader = PaddleReader()
    crops: list[tuple[int, int]] = []

    def probabilities(recognise: object, images: list[np.ndarray]) -> list[np.ndarray]:
        crops.extend(image.shape[:2] for image in images)
        return [_slices([{"1": 0.9}, {" ": 0.9}, {"c": 0.9}, {"p": 0.9}]) for _ in images]

    reader._probabilities = probabilities  # type: ignore[method-assign]
    page = np.zeros((300, 2000, 3), dtype=np.uint8)
    read = reader._read_strokes([[stroke, word], [far]], probs, page, None, decoder)
    assert {box: found.text for box, found in read.items()} == {stroke: "1"}
    assert crops == [(60, 120 + 4 * 60 - 100)]  # the stroke and four heights of the next group
    # a mark read as something, or a group too far away, is left as it is
    probs[stroke] = _slices([{"1": 0.9}])
    assert reader._read_strokes([[stroke, word]], probs, page, None, decoder) == {}
    probs[stroke] = _slices([{}])
    assert reader._read_strokes([[stroke, far]], probs, page, None, decoder) == {}


def test_nothing_is_boxed_when_the_groups_cover_the_ink() -> None:
    ink = np.zeros((400, 1200), dtype=bool)
    ink[105:155, 300:700] = True
    assert uncovered_ink([(300, 100, 700, 160)], ink) == []


def test_a_word_boxed_twice_by_the_detector_stays_on_its_line() -> None:
    # "fois" and "fois par jour" overlapping a little, on one line: one row
    a, b, c = (100, 100, 300, 160), (280, 95, 600, 165), (100, 260, 500, 320)
    assert text_rows([a, b, c]) == [[a, b], [c]]


def test_a_handwritten_strength_and_posology_read_with_the_lexicon() -> None:
    font = ImageFont.truetype(str(HANDWRITING_FONT), 70)
    page = Image.new("L", (2480, 900), 255)
    draw = ImageDraw.Draw(page)
    for row, text in enumerate(["Amiodarone 200 mg", "   1 comprimé le matin"]):
        draw.text((200, 100 + 170 * row), text, font=font, fill=0)
    lines = PaddleReader(lexicon=Lexicon.from_referential(Referential.load())).read(page)
    assert len(lines) == 2
    # Greedy decoding reads "AmiodaroneZ 00 mg": the name is mended, the number is not
    # (the "2" read as "Z" is lost; every line of such a page goes to a human check).
    name, *_, unit = lines[0].text.split()
    assert (name, unit) == ("Amiodarone", "mg")
    assert lines[1].text.split()[0] == "1"
    assert lines[1].text.split()[-2:] == ["le", "matin"]


@pytest.mark.parametrize(
    ("read", "meant"),
    [("cplematin", "cp le matin"), ("Comprimele", "comprimé le"), ("parjour", "par jour")],
)
def test_ordonnance_words_glued_together_are_split(read: str, meant: str) -> None:
    assert LEXICON.split(read) == meant


@pytest.mark.parametrize("word", ["Girard", "Lepartier", "matin"])
def test_a_word_that_is_no_glued_ordonnance_words_is_not_split(word: str) -> None:
    assert LEXICON.split(word) is None


def test_a_glued_pair_missing_a_letter_is_read_spaced_when_the_slices_allow_it() -> None:
    # greedy reads "Pajour" (space and "r" dropped); a faint "r" is there in the slices
    probs = _slices([{"P": 0.9}, {"a": 0.9}, {"r": 0.3}, {"j": 0.9}, {"o": 0.9}, {"u": 0.9}, {"r": 0.9}])
    assert LexiconDecoder(CHARSET, None).decode(probs).text == "Pajour"
    assert LexiconDecoder(CHARSET, LEXICON).decode(probs).text == "Par jour"


def test_a_lexicon_given_as_a_function_is_built_once_on_the_first_page_read() -> None:
    built: list[Lexicon] = []

    def build() -> Lexicon:
        built.append(LEXICON)
        return LEXICON

    reader = PaddleReader(lexicon=build)
    assert built == []  # nothing built for a reader that may never read a page
    page = Image.new("L", (1200, 300), 255)
    ImageDraw.Draw(page).text(
        (100, 100), "Tercian 25 mg", font=ImageFont.truetype(str(HANDWRITING_FONT), 70), fill=0
    )
    reader.read(page)
    reader.read(page)
    assert len(built) == 1
