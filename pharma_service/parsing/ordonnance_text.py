"""Plain-text French ordonnance parser.

An ordonnance is a header (prescriber, date, patient), drug lines (numbered, bulleted or
plain) with optional continuation lines holding the posology, possibly split into the two
zones of an ALD "bizone" form, and a footer. :func:`parse_ordonnance_text` returns what is
written, never what is guessed: the patient facts found, the prescriber, the date, the drug
lines and the lines it did not use.

Line classification, in order:

* an ALD zone title ("... affection de longue durée ..." / "... sans rapport ...") sets
  ``ald`` for the drug lines that follow;
* a numbered ("1)", "2.", "3 -") or bulleted ("-", "•", "*") line is a drug line;
* after a drug line, a line indented deeper or starting with a posology word ("1 sachet",
  "Prendre", "matin", "pendant", "QSP", "si besoin", "à renouveler") continues it;
* a line holding patient, prescriber or date facts is a header line;
* otherwise a line is a drug line when it looks like "<name> <number> mg|g|µg|UI|ml|%", or
  (once the drug list has started, or when a posology follows it) when it starts with a word
  in capitals;
* anything else is reported in ``ignored``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from pharma_service.parsing.posology import (
    fold_keep_length,
    is_posology_word,
    parse_posology,
    split_prescription_line,
)

__all__ = ["DrugNameTest", "ParsedOrdonnance", "RawDrugLine", "parse_ordonnance_text", "read_date"]

# A real ordonnance is a few kilobytes; more is not an ordonnance and only costs time.
_MAX_CHARS = 100_000
_MAX_LINES = 2_000


class RawDrugLine(BaseModel):
    number: int | None = None
    text: str = Field(description="Drug line and its continuation lines joined by ' ; '.")
    posology_text: str | None = Field(
        default=None, description="Continuation lines or the part after the drug description."
    )
    ald: bool | None = Field(
        default=None, description="True in the ALD zone of a bizone form, False out of it."
    )
    continued: bool = Field(default=False, description="The posology continues on the next lines.")


class ParsedOrdonnance(BaseModel):
    patient: dict[str, Any] = Field(default_factory=dict)
    prescriber: dict[str, str] = Field(default_factory=dict)
    date: dt.date | None = None
    lines: list[RawDrugLine] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- dates

_MONTHS = {
    "janvier": 1,
    "janv": 1,
    "fevrier": 2,
    "fevr": 2,
    "fev": 2,
    "mars": 3,
    "avril": 4,
    "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "juil": 7,
    "aout": 8,
    "septembre": 9,
    "sept": 9,
    "octobre": 10,
    "oct": 10,
    "novembre": 11,
    "nov": 11,
    "decembre": 12,
    "dec": 12,
}
_DATE = (
    r"(?:(?P<d>\d{1,2})\s*[/.-]\s*(?P<m>\d{1,2})\s*[/.-]\s*(?P<y>\d{4}|\d{2})(?!\d)"
    r"|(?P<td>\d{1,2})(?:er)?\s+(?P<tm>" + "|".join(_MONTHS) + r")\.?\s+(?P<ty>\d{4}))"
)
_BIRTH = re.compile(
    rf"(?:\bnee?\s+le|\bnee?\s*:|date\s+de\s+naissance\s*:?|\bddn\s*:?|\bne\(e\)\s+le)\s*{_DATE}"
)
_ORDO_DATE = re.compile(
    rf"(?:(?<![a-z])(?:le|date(?:\s+de\s+l'\s*ordonnance)?\s*:?|fait\s+le)\s*|^\s*){_DATE}"
)


def _date(m: re.Match[str], birth: bool) -> dt.date | None:
    try:
        if m.group("d") is not None:
            day, month, year = int(m.group("d")), int(m.group("m")), int(m.group("y"))
            if year < 100:
                # two-digit years: a birth is in the past, an ordonnance in this century
                year += 2000
                if birth and year > dt.date.today().year:
                    year -= 100
        else:
            day, month, year = int(m.group("td")), _MONTHS[m.group("tm")], int(m.group("ty"))
        value = dt.date(year, month, day)
    except (ValueError, KeyError):
        return None
    if not 1880 <= value.year <= dt.date.today().year + 1:
        return None
    return value


_WHOLE_DATE = re.compile(rf"\s*{_DATE}[.,:;]?\s*$")


def read_date(text: str, *, birth: bool = False) -> dt.date | None:
    """``text`` as one date the way an ordonnance is read ("24/08/1935", "1er mai 2025"), or
    None when it is not one, or an impossible one (a year 2625)."""
    m = _WHOLE_DATE.match(fold_keep_length(text))
    return _date(m, birth=birth) if m else None


# --------------------------------------------------------------------------- patient facts

_NUMBER = r"(\d{1,4}(?:[.,]\d{1,2})?)"
_LAB_DATE = r"(?:\s*\(?(?:du|le|au)?\s*\d{1,2}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\)?)?"  # "créatinine du 10/03"
_CLEARANCE = re.compile(
    r"(?<![a-z])(?:clairance(?:\s+(?:de\s+la\s+)?creat(?:inine)?\.?)?(?:\s+\(?cockcroft(?:[- ]gault)?\)?)?"
    r"|cl\.?\s*(?:de\s+la\s+)?creat(?:inine)?\.?|clcr|cl\s+cr|ccr|cockcroft(?:[- ]gault)?)"
    # (a letter glued to the number is a misread digit: "8o ml/min" is not 8)
    rf"\s*(?:\(cg\))?{_LAB_DATE}\s*[:=]?\s*{_NUMBER}(?![a-ln-z\d])\s*(?:ml\s*/\s*mn|ml\s*/\s*min)?"
)
_EGFR = re.compile(
    r"(?<![a-z])(?:dfge?|egfr|debit\s+de\s+filtration\s+glomerulaire(?:\s+estime)?|mdrd|ckd[- ]?epi)"
    r"(?:\s*\(?(?:ckd[- ]?epi|mdrd)\)?)?"
    rf"{_LAB_DATE}\s*[:=]?\s*{_NUMBER}\s*(?:ml\s*/\s*mi?n(?:\s*/\s*1[.,]73\s*m(?:2|²)?)?)?"
)
_CREATININE = re.compile(
    r"(?<![a-z])(?:creatinin(?:e|emie)|creat\.?|creatinine\s+(?:serique|plasmatique|sanguine))"
    r"(?:\s+(?:serique|plasmatique|sanguine))?"
    rf"{_LAB_DATE}\s*[:=]?\s*{_NUMBER}\s*(?P<unit>[µu]mol\s*/\s*l|mg\s*/\s*dl|mg\s*/\s*l)(?![a-z])"
)
_WEIGHT = re.compile(rf"(?:(?<![a-z])poids\s*[:=]?\s*)?(?<![\d])(?<!\d[.,]){_NUMBER}\s*kg(?![a-z])")
# "Poids : 59": the label says what the number is; kg is the only unit weights are written in
_LABELLED_WEIGHT = re.compile(
    r"(?<![a-z])poids\s*[:=]?\s*(\d{2,3}(?:[.,]\d)?)(?![\d.,]*\d)(?!\s*(?:g|mg|lb|livres?|cm|m|ans?)(?![a-z]))"
)
_HEIGHT = re.compile(
    r"(?<![a-z])taille\s*[:=]?\s*(?:(?P<m>\d)[.,m](?P<cm>\d{2})\s*m?|(?P<c>\d{2,3})\s*cm)(?![a-z0-9])"
    r"|(?<![\d.,])(?P<c2>\d{3})\s*cm(?![a-z])"
)
_AGE = re.compile(
    r"(?<![a-z])age\s*[:=]?\s*(\d{1,3})(?:\s*ans)?(?![\d])"
    # "Jean-Pierre,72 ans" is an age, "1,72 ans" is not
    r"|(?<![\d/])(?<!\d[.,])(\d{1,3})\s*ans(?![a-z])"
    # "85 a)" is an age, not the end of a schedule read as "1:0-0 A"
    r"|(?<![\d/:-])(?<!\d[.,])(\d{1,3})\s*a(?=\s*(?:[),;]|$))"
)
_SEX_F = re.compile(
    r"(?:^|[\s(,:])(?:mme|madame|mlle|mademoiselle|femme)(?![a-z])|sexe\s*:?\s*(?:f|feminin)(?![a-z])"
)
# "M.DUMONT Albert": after "M." a name may follow without a space
_SEX_M = re.compile(
    r"(?:^|[\s(,:])(?:m\.|(?:mr\.?|monsieur|homme)(?![a-z]))|sexe\s*:?\s*(?:m|masculin)(?![a-z])"
)


def _num(text: str) -> float:
    return float(text.replace(",", "."))


def _in_range(value: float, low: float, high: float) -> bool:
    return low < value <= high


def _blank(text: str, m: re.Match[str]) -> str:
    """Hide a span already read so that later patterns do not read it again."""
    return text[: m.start()] + " " * (m.end() - m.start()) + text[m.end() :]


def _lone_birth_date(folded: str) -> dt.date | None:
    """ "06/11/1947" alone on a header line, its label lost to the scan: a date at least
    AGE_OF_A_LONE_DATE years old is no ordonnance's (nor a lab's), it is the birth date."""
    m = _LONE_DATE.match(folded)
    if m is None:
        return None
    found = _date(m, birth=True)
    if found is None or dt.date.today().year - found.year < AGE_OF_A_LONE_DATE:
        return None
    return found


_LONE_DATE = re.compile(rf"^\s*{_DATE}\s*[.,;:]?\s*$")
AGE_OF_A_LONE_DATE = 15


def _patient_facts(folded: str, facts: dict[str, Any]) -> bool:
    """Add the patient facts of one header line; True when the line held any."""
    found = False
    text = folded
    m = _BIRTH.search(text)
    if m:
        birth = _date(m, birth=True)
        if birth is not None:
            facts.setdefault("birth_date", birth)
            found = True
        text = _blank(text, m)
    elif (lone := _lone_birth_date(text)) is not None:
        facts.setdefault("birth_date", lone)
        return True
    for rx, key, low, high in (
        (_CLEARANCE, "crcl_ml_min", -0.1, 300),
        (_EGFR, "egfr_ml_min_1_73m2", -0.1, 300),
    ):
        m = rx.search(text)
        if m:
            value = _num(m.group(1))
            if _in_range(value, low, high):
                facts.setdefault(key, value)
                found = True
            text = _blank(text, m)
    m = _CREATININE.search(text)
    if m:
        value = _num(m.group(1))
        unit = m.group("unit").replace(" ", "")
        if unit == "mg/l":
            value *= 8.84
        elif unit == "mg/dl":
            value *= 88.4
        if _in_range(value, 5, 3000):
            facts.setdefault("creatinine_umol_l", round(value, 1))
            found = True
        text = _blank(text, m)
    m = _WEIGHT.search(text) or _LABELLED_WEIGHT.search(text)
    if m:
        value = _num(m.group(1))
        if _in_range(value, 0.3, 350):
            facts.setdefault("weight_kg", value)
            found = True
        text = _blank(text, m)
    m = _HEIGHT.search(text)
    if m:
        if m.group("m"):
            height = int(m.group("m")) * 100 + int(m.group("cm"))
        else:
            height = int(m.group("c") or m.group("c2"))
        if _in_range(height, 30, 250):
            facts.setdefault("height_cm", float(height))
            found = True
        text = _blank(text, m)
    m = _AGE.search(text)
    if m:
        age = int(next(g for g in m.groups() if g))
        if 0 <= age <= 125:
            facts.setdefault("age", age)
            found = True
    if "sex" not in facts:
        if _SEX_F.search(text):
            facts["sex"] = "F"
            found = True
        elif _SEX_M.search(text):
            facts["sex"] = "M"
            found = True
    return found


# --------------------------------------------------------------------------- prescriber

_DOCTOR = re.compile(
    r"(?:^|(?<=[\s(,]))(?:Dr\.?|DR\.?|Docteur|DOCTEUR|Pr\.?|Professeur)\s+"
    r"(?P<name>[A-ZÀ-Ý][\w'’-]*(?:\s+[A-ZÀ-Ýa-zà-ÿ][\w'’-]*){0,3})"
)
_RPPS = re.compile(r"rpps\s*(?:n[°o]\s*)?:?\s*(\d{11})(?!\d)")
_ADELI = re.compile(r"adeli\s*(?:n[°o]\s*)?:?\s*(\d{9})(?!\d)")
_SPECIALTY = re.compile(
    r"(?<![a-z])(?:medecin\s+generaliste|medecine\s+generale|medecin\s+traitant"
    r"|(?:gastro-?\s?enter|cardi|neur|nephr|rhumat|endocrin|diabet|pneum|dermat|onc|ur|ophtalm"
    r"|hemat|gynec|stomat|psych|geront|allerg|infecti)o-?logue"
    r"|geriatre|psychiatre|pediatre|interne(?:\s+en\s+[a-z]+)?|chirurgien(?:\s+[a-z-]+)?"
    r"|medecin\s+(?:interniste|urgentiste|vasculaire|du\s+sport))(?![a-z])"
)


def _prescriber_facts(line: str, folded: str, facts: dict[str, str]) -> bool:
    found = False
    m = _DOCTOR.search(line)
    if m and "name" not in facts:
        # a name stops at a separator or at the specialty written after it
        name = re.split(r"\s+[-–—,|]\s*|\s{2,}", m.group("name"))[0].strip()
        spec = _SPECIALTY.search(fold_keep_length(name))
        if spec:
            name = name[: spec.start()].strip()
        if name:
            facts["name"] = name
            found = True
    for rx, key in ((_RPPS, "rpps"), (_ADELI, "adeli")):
        m = rx.search(folded)
        if m and key not in facts:
            facts[key] = m.group(1)
            found = True
    m = _SPECIALTY.search(folded)
    if m and "specialty" not in facts:
        facts["specialty"] = line[m.start() : m.end()]
        found = True
    return found


def _after_prescriber(line: str, folded: str) -> str:
    """The folded line after the last of the prescriber's words on it (name, specialty, RPPS)."""
    ends = [0]
    m = _DOCTOR.search(line)
    if m:
        ends.append(m.end())
    for rx in (_SPECIALTY, _RPPS, _ADELI):
        m = rx.search(folded)
        if m:
            ends.append(m.end())
    return folded[max(ends) :]


# --------------------------------------------------------------------------- lines

# A drug name starts with a letter: "1 - 0 - 1" or "- 1 cp le soir" are not drug lines.
_NUMBERED = re.compile(r"^\s*(?:n[°o]\s*)?(\d{1,2})\s*[).°/-]\s*(?=[^\W\d_])")
_BULLET = re.compile(r"^\s*[-•*·–—>▪►■□](?![-•*·–—=_])\s*(?=[^\W\d_])")
# "2 DOLIPRANE 500 mg": a drug's number whose dot was lost (a scan) or never typed
_BARE_NUMBER = re.compile(r"^\s*(\d{1,2})\s+(?=[^\W\d_])")
_STRENGTH_LINE = re.compile(
    r"^[a-z][a-z0-9'-]*(?:[\s,]+[a-z][a-z0-9'.-]*){0,6}[\s,]*(?:\d{1,3}(?:\s\d{3})+|\d+(?:[.,]\d+)?)\s*"
    r"(?:mg|g|µg|mcg|microgrammes?|ui|u\.i\.|ml|%)(?![a-z])"
)
# "Zoloft 50", "Kardegic 75 5 mg", "Lansoprazole 15 #g", "Seresta 10mMmg": a name and its
# strength, the unit lost or misread (a scan, a hurried hand); little after the number.
_NAME_AND_NUMBER = re.compile(
    r"^([a-z][a-z'-]{3,})(?:\s+[a-z][a-z'-]{3,})?\s+\d+(?:[.,]\d+)?[a-z]{0,4}(?:\s+[^\s]{1,3}){0,2}\s*$"
)
_POSOLOGY_START = re.compile(
    r"^(?:\d|[½¼¾]|(?:une?|deux|trois|quatre|cinq|six|dix|demi|prendre|prenez|matin|midi|soir"
    r"|pendant|durant|qsp|q\.s\.p|si|sb|puis|ensuite|toutes?|tous|chaque|posologie|poso|ns"
    r"|appliquer|instiller|inhaler|injecter|faire|mettre|avaler|sucer|boire|max|maxi|maximum"
    r"|renouvelable|renouveler|jusqu'?\s*a|sans|ne|avant|apres|dans|sur|par|x|traitement|duree"
    r"|au|aux|a|le|la|les|en|non|le\s+(?:matin|midi|soir)|j\d+"
    # a posology whose count was lost: "sachet le soir", "comprimé matin et soir"
    r"|comprimes?|cpr?s?|gelules?|gel|sachets?|ampoules?|gouttes?)(?![a-z]|-[a-z])|x\d)"
)
_LAB_KEYWORD = re.compile(
    r"(?<![a-z])(?:clairance|cl\.?\s*creat|clcr|ccr|dfge?|egfr|mdrd|ckd|creat|cockcroft|poids"
    r"|taille)"
)
_ALD_ZONE = re.compile(r"affection\s+de\s+longue\s+duree|(?<![a-z])ald(?![a-z])")
_ALD_OUT = re.compile(r"sans\s+rapport|(?<![a-z])(?:hors|non)[\s-]+ald(?![a-z])")
_NOT_DRUG_WORDS = frozenset(
    {
        "ordonnance",
        "ordonnances",
        "dr",
        "docteur",
        "pr",
        "professeur",
        "rpps",
        "adeli",
        "finess",
        "am",
        "tel",
        "fax",
        "email",
        "mail",
        "cabinet",
        "centre",
        "hopital",
        "service",
        "chu",
        "ch",
        "clinique",
        "patient",
        "patiente",
        "nom",
        "prenom",
        "ald",
        "qsp",
        "ns",
        "signature",
        "cachet",
        "date",
        "mme",
        "mlle",
        "mr",
        "m",
        "monsieur",
        "madame",
        "age",
        "poids",
        "taille",
        "prescription",
        "prescriptions",
        "bizone",
        "medecin",
        "renouvellement",
        "rue",
        "avenue",
        "boulevard",
        "bd",
        "place",
        "chemin",
        "route",
        "allee",
        "impasse",
    }
)


def _first_word_in_capitals(line: str, folded: str) -> bool:
    m = re.match(r"\s*([^\W\d_][\w'’-]*)", line)
    if m is None:
        return False
    word = m.group(1)
    letters = [c for c in word if c.isalpha()]
    if len(letters) < 3 or not all(c.isupper() for c in letters):
        return False
    return fold_keep_length(word).strip("'’-") not in _NOT_DRUG_WORDS


def _indent(line: str) -> int:
    return len(line[: len(line) - len(line.lstrip(" \t"))].expandtabs(4))


def _is_ald_title(line: str, folded: str) -> bool:
    """A bizone zone title, not a drug line that mentions the ALD."""
    if _ALD_ZONE.search(folded) is None or _NUMBERED.match(line) or _BULLET.match(line):
        return False
    return _STRENGTH_LINE.match(folded) is None and not re.search(r"\d", folded)


def _continues(line: str, indent: int, strict: bool, is_drug_name: DrugNameTest | None = None) -> bool:
    """Whether a line reads as the posology of the line above (indent: that line's indent).

    In the header (strict) the posology parser must also find a schedule in it, so that a
    patient name followed by "84 ans" is not read as a drug and its posology.
    """
    if _NUMBERED.match(line) or _BULLET.match(line) or _bare_numbered_drug(line, is_drug_name):
        return False
    folded = fold_keep_length(line.strip()).lstrip("-•*·–— ")
    if _indent(line) <= indent and _POSOLOGY_START.match(folded) is None:
        return False
    if _patient_facts(folded, {}):
        return False
    if _POSOLOGY_START.match(folded) is None and (
        _not_posology(line.strip(), folded)
        or _STRENGTH_LINE.match(folded) is not None
        or _name_and_number(folded)
        or _begins_with_drug_name(folded, is_drug_name)
    ):
        return False  # indented, yet a footer, the prescriber's name, or the next drug
    if not strict:
        return True
    p = parse_posology(line)
    return p.intakes_per_day is not None or p.as_needed or p.unit is not None


# Words of the footer of an ordonnance, which centred or right-aligned, looks indented.
_FOOTER = re.compile(
    r"(?<![a-z])(?:ordonnance|renseignements?|secretariat|signature|cachet|conventionne|carte\s+vitale"
    r"|page\s*\d|pharmacien|medecin|docteur|dr|valable|tel|fax|courriel|e-?mail"
    r"|consultations?|rendez-vous|sur\s+rdv)(?![a-z])"
)


def _speck(stripped: str, folded: str) -> bool:
    """Two letters or digits at most, and not the start of a posology ("½ cp"); or a number of
    one or two digits alone ("2", "8."), a mark read as a digit: alone, a number is no dose
    ("2 ; une gélule par jour" read two gélules)."""
    if _LONE_NUMBER.match(stripped):
        return True
    return sum(ch.isalnum() for ch in stripped) <= 2 and _POSOLOGY_START.match(folded) is None


_LONE_NUMBER = re.compile(r"^[^\w½¼¾]*\d{1,2}[^\w½¼¾]*$")


DrugNameTest = Callable[[str], bool]
_FIRST_WORD = re.compile(r"[a-z][a-z'-]{4,}")


def _begins_with_drug_name(folded: str, is_drug_name: DrugNameTest | None) -> bool:
    """The line's first word, five letters or more, is a drug name of the referential."""
    if is_drug_name is None:
        return False
    m = _FIRST_WORD.match(folded.lstrip("-•*·–— "))
    return m is not None and not is_posology_word(m.group(0)) and is_drug_name(m.group(0))


def _bare_numbered_drug(line: str, is_drug_name: DrugNameTest | None) -> re.Match[str] | None:
    """ "2 DOLIPRANE 500 mg": a number, then a drug name of the referential with its strength.

    Read as the drug's number, not a count: a count before a brand name and its strength
    is not how a posology is written, and the posology that follows stays what it says.
    """
    m = _BARE_NUMBER.match(line)
    if m is None:
        return None
    rest = fold_keep_length(line[m.end() :].strip())
    if _STRENGTH_LINE.match(rest) is None or not _begins_with_drug_name(rest, is_drug_name):
        return None
    return m


def _scan_debris(folded: str, is_drug_name: DrugNameTest | None) -> bool:
    """ "VAT", "PAT", "MNT HEUS": a word or two of four letters at most, no number, none a drug
    name of the referential; what the OCR reads from a margin rule or a stamp, not a drug.
    Without the referential to ask, every such line stays a drug line."""
    words = folded.split()
    return (
        is_drug_name is not None
        and 0 < len(words) <= 2
        and all(w.isalpha() and len(w) <= 4 for w in words)
        and not any(is_drug_name(w) for w in words)
    )


def _name_and_number(folded: str) -> bool:
    """ "Kardegic 75 5 mg": a name (not a posology word such as "comprimé") and a number."""
    m = _NAME_AND_NUMBER.match(folded)
    return m is not None and not is_posology_word(m.group(1))


def _not_posology(line: str, folded: str) -> bool:
    words = folded.split()
    first = words[0].strip(".,:;") if words else ""
    return (
        first in _NOT_DRUG_WORDS or _FOOTER.search(folded) is not None or _prescriber_facts(line, folded, {})
    )


# "NAME 40 mg : 1 cp le soir" or "NAME 40 mg - 1 cp": a posology announced on the drug line.
_INLINE_POSOLOGY = re.compile(r":|\s[-–—]\s")


def _posology_read_as_marker(
    line: str, marker: re.Match[str], current: _Drug, drugs: list[_Drug], is_drug_name: DrugNameTest | None
) -> bool:
    """ "1 .P le matin", "1) PRESS le matin", "-un comprimé par semaine" under a drug line that
    has no posology yet: a count or a speck read as a list number or a bullet.

    Taken as the posology only when the line is indented deeper than the drug's, what follows
    the marker reads as a schedule, a number is not the next one of the list (a drug
    numbered in sequence stays a drug, however it is indented), and what follows does not
    read as a drug: no strength, no drug name of the referential, no word of four letters or
    more before a count and its unit ("3) Kardegik 1 sachet le matin" stays a drug line)."""
    if _indent(line) <= current.indent:
        return False
    if marker.re is not _BULLET:
        numbers = [d.number for d in drugs if d.number is not None]
        if numbers and int(marker.group(1)) == numbers[-1] + 1:
            return False
    body = line[marker.end() :]
    folded = fold_keep_length(body.strip())
    if _reads_as_drug(folded, is_drug_name):
        return False
    found = parse_posology(body)
    if _long_first_word(folded) and found.units_per_intake is not None:
        return False
    reads_as_posology = found.intakes_per_day is not None or (
        marker.re is _BULLET and _POSOLOGY_START.match(folded) is not None
    )
    return reads_as_posology and not current.has_posology()


def _schedule_out_of_line(line: str, current: _Drug, is_drug_name: DrugNameTest | None) -> bool:
    """ "to comprimé 1-0-0 QSP 3 mois", "O0 I 1 cp 0-0-1": a whole schedule (a count and how often)
    under a drug line that has none, which a speck in the margin pulled to the left of the
    drug's indent. A line with a strength, or that begins with a word of four letters or more
    that is not a posology word ("OMIX.P.04 mg g 1-0-0"), stays a drug line."""
    folded = fold_keep_length(line.strip()).lstrip("-•*·–—|‘’'`\" ")
    if (
        _long_first_word(folded)
        or _reads_as_drug(folded, is_drug_name)
        or _not_posology(line.strip(), folded)
        or _patient_facts(folded, {})
    ):
        return False
    found = parse_posology(line)
    return (
        found.intakes_per_day is not None
        and found.units_per_intake is not None
        and not current.has_posology()
    )


def _reads_as_drug(folded: str, is_drug_name: DrugNameTest | None) -> bool:
    """A strength anywhere, a name and a number, or a drug name of the referential first."""
    return (
        _ANY_STRENGTH.search(folded) is not None
        or _name_and_number(folded)
        or _begins_with_drug_name(folded, is_drug_name)
    )


def _long_first_word(folded: str) -> bool:
    """The line begins with a word of four letters or more that is not a posology word."""
    first = re.match(r"[a-z]+", folded)
    return first is not None and len(first.group(0)) > 3 and _POSOLOGY_START.match(folded) is None


_ANY_STRENGTH = re.compile(r"\d\s*(?:mg|g|µg|mcg|ui|ml)(?![a-z])")


class _Drug:
    __slots__ = ("ald", "continuation", "indent", "number", "text")

    def __init__(self, number: int | None, text: str, indent: int, ald: bool | None) -> None:
        self.number = number
        self.text = text
        self.indent = indent
        self.ald = ald
        self.continuation: list[str] = []

    def has_posology(self) -> bool:
        """A continuation line, or a schedule after the name on the drug line itself."""
        if self.continuation:
            return True
        _, inline = split_prescription_line(self.text)
        return inline is not None and parse_posology(inline).intakes_per_day is not None

    def build(self) -> RawDrugLine:
        parts = [self.text, *self.continuation]
        _, inline = split_prescription_line(self.text)
        if self.continuation and inline and not _INLINE_POSOLOGY.search(self.text):
            # The posology goes on over the next lines. What follows the name is part of it
            # only when it is a schedule ("1 cp le soir"), not a strength or form
            # ("MACROGOL 4000 10 g", "OMIX L.P. 0,4 mg") that would read as a dose to take.
            found = parse_posology(inline)
            if found.intakes_per_day is None and found.units_per_day is None and not found.as_needed:
                inline = None
        posology = [p for p in (inline, *self.continuation) if p]
        return RawDrugLine(
            number=self.number,
            text=" ; ".join(parts),
            posology_text=" ; ".join(posology) if posology else None,
            continued=bool(self.continuation),
            ald=self.ald,
        )


def _plausible_birth(birth: dt.date, at: dt.date) -> bool:
    years = at.year - birth.year - ((at.month, at.day) < (birth.month, birth.day))
    return 0 <= years <= 125


def _parse(text: str, is_drug_name: DrugNameTest | None = None) -> ParsedOrdonnance:
    raw_lines = text[:_MAX_CHARS].replace("\r\n", "\n").replace("\r", "\n").split("\n")
    raw_lines = raw_lines[:_MAX_LINES]
    patient: dict[str, Any] = {}
    prescriber: dict[str, str] = {}
    ordo_date: dt.date | None = None
    drugs: list[_Drug] = []
    ignored: list[str] = []
    ald: bool | None = None
    current: _Drug | None = None
    started = False  # the drug list has begun

    nonempty = [(i, ln) for i, ln in enumerate(raw_lines) if ln.strip()]
    for pos, (_, line) in enumerate(nonempty):
        stripped = line.strip()
        folded = fold_keep_length(stripped)
        indent = _indent(line)

        if _is_ald_title(line, folded):
            ald = _ALD_OUT.search(folded) is None
            current = None
            continue

        marker = _NUMBERED.match(line) or _BULLET.match(line) or _bare_numbered_drug(line, is_drug_name)
        if marker is not None and marker.re is _BULLET:
            body = line[marker.end() :].strip()
            if _not_posology(body, fold_keep_length(body)):
                marker = None  # "- Tél. 05 56 ...": a speck read as a bullet before a header line
        if (
            marker is not None
            and current is not None
            and _posology_read_as_marker(line, marker, current, drugs, is_drug_name)
        ):
            current.continuation.append(stripped)
            continue
        if marker is not None:
            number = None if marker.re is _BULLET else int(marker.group(1))
            current = _Drug(number, line[marker.end() :].strip(), indent, ald)
            drugs.append(current)
            started = True
            continue

        if current is not None and _speck(stripped, folded):
            # "C3", "à", "se" read from specks in the margin between a drug and its
            # posology: not a line that ends the drug
            ignored.append(stripped)
            continue

        if current is not None and (
            _continues(line, current.indent, strict=False, is_drug_name=is_drug_name)
            or _schedule_out_of_line(line, current, is_drug_name)
        ):
            current.continuation.append(stripped)
            continue

        used = False
        # a birth or lab date is not the ordonnance date
        if (
            ordo_date is None
            and not _BIRTH.search(folded)
            and not _LAB_KEYWORD.search(folded)
            and _lone_birth_date(folded) is None
        ):
            m = _ORDO_DATE.search(folded)
            if m:
                ordo_date = _date(m, birth=False)
                used = ordo_date is not None
        people = _prescriber_facts(stripped, folded, prescriber)
        # A scan can join the prescriber's column and the patient's into one line ("Médecin
        # généraliste M | née le 11/07/1957"): the patient's facts are read after the
        # prescriber's own words, never before them ("Madame le Docteur ...").
        own = _after_prescriber(stripped, folded) if people else folded
        # "eGFR 60 ml/min" looks like "<name> <number> ml": a drug line needs no lab keyword
        may_hold_facts = _STRENGTH_LINE.match(own) is None or _LAB_KEYWORD.search(own) is not None
        facts = _patient_facts(own, patient) if may_hold_facts and own.strip() else False
        if used or people or facts:
            current = None
            continue

        next_is_posology = pos + 1 < len(nonempty) and _continues(
            nonempty[pos + 1][1], indent, strict=not started, is_drug_name=is_drug_name
        )
        drug_like = not _scan_debris(folded, is_drug_name) and (
            _STRENGTH_LINE.match(folded) is not None
            or (
                _first_word_in_capitals(stripped, folded) and (started or next_is_posology or ":" in stripped)
            )
            or (
                # "Zoloft 50" with its posology below: the unit lost (a scan, a hurried hand)
                _name_and_number(folded)
                and (started or next_is_posology)
                and not _not_posology(stripped, folded)
            )
            or (started and _begins_with_drug_name(folded, is_drug_name))
        )
        if drug_like:
            current = _Drug(None, stripped, indent, ald)
            drugs.append(current)
            started = True
            continue
        ignored.append(stripped)
        current = None

    if ordo_date is not None:
        patient["reference_date"] = ordo_date
    birth = patient.get("birth_date")
    if isinstance(birth, dt.date) and not _plausible_birth(birth, ordo_date or dt.date.today()):
        del patient["birth_date"]  # misread: Patient would reject it
    return ParsedOrdonnance(
        patient=patient,
        prescriber=prescriber,
        date=ordo_date,
        lines=[d.build() for d in drugs],
        ignored=ignored,
    )


def parse_ordonnance_text(text: str, *, is_drug_name: DrugNameTest | None = None) -> ParsedOrdonnance:
    """Read a plain-text French ordonnance. Never raises; no drug line gives ``lines == []``.

    ``is_drug_name`` (a folded word -> whether the referential names a drug so) lets a line
    of the list that begins with a drug name be a drug line even when what follows is
    unreadable ("Amoxicilline g", "Pantoprazole .40. mg"): an OCR reading needs it.
    """
    if not isinstance(text, str) or not text.strip():
        return ParsedOrdonnance()
    try:
        return _parse(text, is_drug_name)
    except Exception:  # a malformed upload must give a user error upstream, not a crash
        return ParsedOrdonnance(ignored=[ln.strip() for ln in text.splitlines()[:50] if ln.strip()])
