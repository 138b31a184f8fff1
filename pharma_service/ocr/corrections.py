"""Fix the OCR confusions that change a posology, and only where the context is unambiguous.

Drug names need no fixing here: the normaliser matches them against the referential with
fuzzy matching. Posologies are numbers and a few words, where one misread character ("l cp"
for "1 cp", "1-O-1" for "1-0-1") changes the dose; each rule below needs a dose context on
both sides so that ordinary words are never touched.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from pharma_service.text import fold

_UNIT_WORDS = (
    r"(?:cp|cps|comprim[eé]s?|g[eé]lules?|gel|sachets?|gouttes?|ampoules?|doses?|bouff[eé]es?"
    r"|c\.?\s?[aà]\s?[cs]|cuill[eè]res?|mg|ml|ui|inj|injections?|patchs?|suppositoires?|fois|prises?|unit[eé]s?"
    r"|applications?|pulv[eé]risations?|mesures?|capsules?)"
)

_RULES: list[tuple[re.Pattern[str], str]] = [
    # stray marks before a line (a lost "1." read as ".", a speck read as "‘"): keep the indent
    (re.compile(r"^(\s*)[.,'‘’`´_|:;~\"“”«»*•°]+\s*(?=[A-ZÀ-Ý0-9])"), r"\1"),
    # a number read with a colon or comma: "2: ACIDE", "9:PRAVASTATINE" -> "2) ..."
    (re.compile(r"^(\s*\d{1,2})\s*[:;,]\s*(?=[A-ZÀ-Ý]{3})"), r"\1) "),
    # a number whose "." was lost, before a name in capitals that is not a unit: "4 TEMESTA"
    (re.compile(rf"^(\s*\d{{1,2}})\s+(?!(?i:{_UNIT_WORDS})\b)(?=[A-ZÀ-Ý]{{4,}})"), r"\1) "),
    # a doubled marker: "6) ) HYDROXYCHLOROQUINE"
    (re.compile(r"^(\s*\d{1,2}\))[\s)]+(?=\S)"), r"\1 "),
    # "l cp", "I gélule", "| sachet", "l'sachet", "Î cp", "il comprimé" -> "1 ..."
    (re.compile(rf"(?<![\w/])(?:[lI|!ÎÏíìï]'?|il)\s*(?={_UNIT_WORDS}\b)", re.IGNORECASE), "1 "),
    # a period read between a number and a word: "QSP 3.mois", "1.cp"
    (re.compile(r"(?<=\d)\.(?=[^\W\d_])"), " "),
    # "cp/)" or "cp/]" for "cp/j"
    (re.compile(rf"\b({_UNIT_WORDS})/[)\]]", re.IGNORECASE), r"\1/j"),
    # a 1 read as T, I, l, ] or | in a dose schedule: "0-0-T", "I-0-1"
    (re.compile(r"(?<=\d-\d-)[TIl\]|!](?![\w-])|(?<![\w-])[TIl\]|!](?=-\d-\d)"), "1"),
    # "1/2" read as "l/2", "1/4" as "I/4"
    (re.compile(r"(?<![\w/])[lI|](?=/[234]\b)"), "1"),
    # letter O / o inside a dash schedule: "1-O-1", "O-0-1"
    (
        re.compile(
            r"(?<=[0-9½]-)[Oo](?=-[0-9½Oo])|(?<![\w-])[Oo](?=-[0-9½][-\s]?)|(?<=[0-9½]-)[Oo](?![\w-])"
        ),
        "0",
    ),
    # "1 -0- 1" spacing variants are read by the posology parser; "1—0—1" dashes are not
    (re.compile(r"(?<=\d)\s*(?:[—–][—–-]?|-[—–]|--)\s*(?=\d)"), "-"),
    # "20 rng" / "20 mq" for "mg"
    (re.compile(r"(?<=\d)\s?(?:rng|mq|rnq|my|ni)\b"), " mg"),
    # "15 mi" / "15 rnl" for "ml"
    (re.compile(r"(?<=\d)\s?(?:mi|rnl)\b"), " ml"),
]


# Header words the text parser keys patient facts on; a misread one ("Date de narssance",
# "Pois : 60 kg") loses the fact. Fixed only on a line holding a number, whole words only.
_HEADER_WORDS = {
    "naissance": "naissance",
    "poids": "Poids",
    "clairance": "Clairance",
    "creatinine": "créatinine",
}
_WORD = re.compile(r"[^\W\d_]{4,}")
_VALUE_AFTER = re.compile(r"\s*[:.]?\s*\d")


def _fix_header_words(text: str) -> str:
    if not any(ch.isdigit() for ch in text):
        return text

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        folded = fold(word)
        if folded in _HEADER_WORDS:
            return word
        found = process.extractOne(folded, _HEADER_WORDS.keys(), scorer=fuzz.ratio, score_cutoff=80)
        if found is None or abs(len(found[0]) - len(folded)) > 1:
            return word
        if len(found[0]) < 8 and not _VALUE_AFTER.match(text, m.end()):
            return word  # a short word ("POIS") is a surname unless a value follows it
        return _HEADER_WORDS[found[0]]

    return _WORD.sub(fix, text)


def correct_line(text: str) -> str:
    for _ in range(2):  # "1-O-O": the second O has a digit before it only after the first fix
        for pattern, replacement in _RULES:
            text = pattern.sub(replacement, text)
    return _fix_header_words(text)
