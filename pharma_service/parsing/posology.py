"""French posology parser.

``parse_posology("1 cp matin et soir pendant 7 jours", [Strength(40, "mg")])`` returns a
:class:`~pharma_service.models.Posology` with 1 comprimé per intake, 2 intakes a day,
7 days and a daily dose of 80 mg.

How it works: the text is folded to lower case without accents, *keeping its length*
so that every span found maps back to the original text. A drug description in front of
the posology ("SIMVASTATINE 40 mg comprimé :") is set aside; its strength is remembered.
A single scanner regex made of ordered alternatives (each a known construct: a quantity,
a frequency, a time of day, a duration, an as-needed clause, an instruction to ignore...)
then walks the text left to right; whatever no alternative claims is reported in
``unparsed`` unless it is a filler word. The facts collected are combined at the end.

Reading rules (the "never guess" choices):

* Ranges resolve to the bound that matters for dose checks: "1 à 2 cp" is 2 units,
  "2 à 3 fois par jour" is 3 intakes, "toutes les 4 à 6 h" is 6 intakes, "pendant 5 à
  7 jours" is 7 days.
* "N <unit> par jour" (or "/j") is a daily *total*: with N > 1 and no other frequency
  the units per intake and the number of intakes are unknown (None) but ``units_per_day``
  holds N and the daily dose is still computed. With a frequency ("2 cp par jour matin et
  soir") the units per intake are the average.
* Meals: "à/avant/après chaque repas", "aux 3 repas" are three intakes (matin, midi, soir),
  unless other meal times are written ("1 cp matin et soir avant chaque repas" is two);
  "aux repas", "pendant les repas", "au milieu des repas" say when, not how often.
* "1 cp 1-0-1": a quantity written just before a grid that says the same names the unit;
  one that disagrees ("2 cp 1-0-1") is left in ``unparsed``.
* Unequal quantities per intake ("1-0-2", "1 cp le matin, 2 le soir") leave
  ``units_per_intake`` None; the daily dose uses the total.
* A day pattern without a frequency ("1 cp le lundi", "tous les 2 jours", "un jour sur
  deux") means one intake on each active day; "N fois par semaine" counts intakes.
* As-needed: the regular schedule, if any is written, gives ``intakes_per_day``; a
  ceiling ("max 3/j", "sans dépasser 6 cp par jour", "jusqu'à 3 fois par jour") only
  fills ``max_units_per_day`` (converted into the intake unit; an intake ceiling is
  multiplied by the units per intake, and left in ``unparsed`` when those are unknown). A
  ceiling without a unit word ("2 cp si douleur, max 3 par jour") counts units, like any
  bare count: 3, the number written. "Après chaque selle" is as needed.
  An as-needed line without a regular schedule has no daily dose.
* "En dose unique" is one intake and a duration of one day; so is "en prise unique" when
  nothing else is scheduled, but next to a daily schedule it means one intake a day.
* A drug description strength is used as the dose per intake when the posology gives no
  quantity at all ("Amoxicilline 1 g matin et soir" = 1 g per intake, as pharmacists read
  DCI lines), and as the unit strength when no ``strengths`` are passed.
* A bare count ("1-0-1", "1 par jour") counts dispensing units of the product.
* Units that are an act ("injection", "application", "patch", ...) count intakes:
  "2 injections par semaine" is two intakes of one injection.
* Multi-phase posologies ("... pendant 7 jours puis 1 cp le soir") keep the first phase;
  the rest goes to ``unparsed`` ("puis arrêt" is understood).
* Administration instructions without a Posology field ("à jeun", "pendant les repas",
  "par voie orale", "dans chaque narine", "non substituable") are recognised and dropped;
  a minimal interval between intakes is reported in ``unparsed``.
* "QSP 3 mois" is read as the duration; renewals ("à renouveler 2 fois") are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from math import floor, log10

from pharma_service.models import Posology, Strength

__all__ = ["fold_keep_length", "is_posology_word", "parse_posology", "split_prescription_line"]

# Longer inputs are not posologies; parsing them whole would only cost time.
_MAX_CHARS = 1000

# --------------------------------------------------------------------------- folding


def _build_fold_table() -> dict[int, str]:
    """One character in, one character out, so spans map back onto the original text."""
    table: dict[int, str] = {}
    for cp in range(0x41, 0x250):
        ch = chr(cp)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).lower()
        if len(base) == 1 and base.isascii() and base != ch:
            table[cp] = base
    table.update(
        {
            0x0152: "œ",
            0x00B5: "µ",
            0x03BC: "µ",
            0x2019: "'",
            0x2018: "'",
            0x00B4: "'",
            0x02BC: "'",
            0x0060: "'",
            0x00A0: " ",
            0x202F: " ",
            0x2009: " ",
            0x2007: " ",
            0x0009: " ",
            0x2010: "-",
            0x2011: "-",
            0x2012: "-",
            0x2013: "-",
            0x2014: "-",
            0x2212: "-",
            0x00D7: "x",
            0x2044: "/",
            0x2265: "≥",
        }
    )
    return table


_FOLD_TABLE = _build_fold_table()


def fold_keep_length(text: str) -> str:
    """Lower case without accents, one character for one: indices stay valid on the original."""
    return text.translate(_FOLD_TABLE)


# --------------------------------------------------------------------------- numbers

_B = r"(?<![a-z0-9µ½¼¾⅓⅔])"  # start of a word or number
_E = r"(?![a-z0-9µ])"  # end of a word or number

_NUMW = r"(?:une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente)(?![a-z])"
_FRAC = "[½¼¾⅓⅔]"
_NUM = r"(?:\d{1,3}(?: \d{3})+(?![\d.,/])|\d{1,6}(?:[.,]\d{1,4})?)"
_Q = (
    r"(?:\d{1,3}\s+\d{1,2}\s*/\s*\d{1,2}(?!\d)"
    r"|\d{1,3}\s*/\s*\d{1,3}(?!\d)"
    r"|(?:(?:une?|1)\s+)?demie?(?![a-z])"
    r"|(?:une?|trois|3)\s+quarts?(?![a-z])"
    rf"|{_NUM}\s*{_FRAC}"
    rf"|{_NUM}(?:\s+et\s+(?:demie?|quart)(?![a-z]))?"
    rf"|{_NUMW}(?:\s+et\s+(?:demie?|quart)(?![a-z]))?"
    rf"|{_FRAC})"
)


def _qr(name: str, hours: bool = False) -> str:
    """A quantity or a range ("1 à 2", "1-2", "1 ou 2") captured as name and name_hi.

    Outside hour counts, "1 à 8h" is a quantity and a clock time, not a range.
    """
    guard = "" if hours else r"(?!\s*h)"
    return rf"(?P<{name}>{_Q})(?:\s*(?:a|-|ou)\s*(?P<{name}_hi>{_Q}){guard})?"


_QTOK = re.compile(r"\d+(?: \d{3})+(?!\d)|\d+(?:[.,]\d+)?(?:\s*/\s*\d+)?|[½¼¾⅓⅔]|[a-z]+")
_FRAC_VALUES = {"½": 0.5, "¼": 0.25, "¾": 0.75, "⅓": 1 / 3, "⅔": 2 / 3}
_WORD_VALUES = {
    "un": 1,
    "une": 1,
    "deux": 2,
    "trois": 3,
    "quatre": 4,
    "cinq": 5,
    "six": 6,
    "sept": 7,
    "huit": 8,
    "neuf": 9,
    "dix": 10,
    "onze": 11,
    "douze": 12,
    "quinze": 15,
    "vingt": 20,
    "trente": 30,
}


@lru_cache(maxsize=2048)
def _qval(text: str | None) -> float | None:
    if not text:
        return None
    total = 0.0
    seen = False
    prev = ""
    for tok in _QTOK.findall(text):
        if tok[0].isdigit():
            if "/" in tok:
                num, den = tok.split("/")
                if float(den) == 0:
                    return None
                total += float(num) / float(den)
            else:
                total += float(tok.replace(" ", "").replace(",", "."))
        elif tok in _FRAC_VALUES:
            total += _FRAC_VALUES[tok]
        elif tok in ("demi", "demie"):
            total = total + 0.5 if prev == "et" else 0.5 * (total or 1.0)
        elif tok in ("quart", "quarts"):
            total = total + 0.25 if prev == "et" else 0.25 * (total or 1.0)
        elif tok in _WORD_VALUES:
            total += _WORD_VALUES[tok]
        else:
            prev = tok
            continue
        seen = True
        prev = tok
    return total if seen else None


def _range(m: re.Match[str], name: str) -> tuple[float, float] | None:
    lo = _qval(m.group(name))
    if lo is None:
        return None
    hi = _qval(m.group(name + "_hi"))
    if hi is None:
        return lo, lo
    if hi < lo:
        # "5 - 1 cp": no range is written downwards; the first number is what is left of a
        # strength ("KARDEGIC 7 5 mg - 1 sachet"), the count is the one before the unit
        return hi, hi
    return lo, hi


# --------------------------------------------------------------------------- units

# (canonical unit, pattern on folded text); order matters only for shared prefixes.
_UNIT_DEFS: tuple[tuple[str, str], ...] = (
    ("dose-poids", r"doses?[- ]poids"),
    (
        "cuillère à café",
        r"(?:cuilleres?|cuill?\.?|c\.?)\s*a\s*(?:cafe|c\.?)(?![a-z])|cac|petites?\s+cuilleres?",
    ),
    (
        "cuillère à soupe",
        r"(?:cuilleres?|cuill?\.?|c\.?)\s*a\s*(?:soupe|s\.?)(?![a-z])|cas|grandes?\s+cuilleres?",
    ),
    (
        "cuillère-mesure",
        r"cuilleres?[- ](?:mesures?|doseuses?)|cuill?\.?\s*mesures?|mesurettes?|mesures?",
    ),
    ("cuillère", r"cuilleres?|cuill?\.?"),
    ("comprimé", r"comprimes?|cprs?\.?|cps?\.?|comp\.?"),
    ("gélule", r"gelules?|gel\.?"),
    ("sachet", r"sachets?(?:[- ]doses?(?!\s+unique))?|sach\.?"),
    ("goutte", r"gouttes?|gtt?e?s?\.?"),
    ("ml", r"ml|millilitres?|cc"),
    ("mg", r"mg|milligrammes?"),
    ("µg", r"µg|mcg|ug|microgrammes?|γ"),
    ("g", r"g|gr|grammes?"),
    ("UI", r"u\.?\s?i\.?|unites?(?:\s+internationales)?|u"),
    ("mmol", r"mmol"),
    ("bouffée", r"bouffees?|bouff?\.?|puffs?"),
    ("pulvérisation", r"pulverisations?|pulv\.?|sprays?|vaporisations?"),
    ("inhalation", r"inhalations?"),
    ("application", r"applications?|applic\.?|appl?\.?"),
    ("patch", r"patch(?:s|es)?|timbres?|dispositifs?\s+transdermiques?"),
    ("ampoule", r"ampoules?|amp\.?"),
    ("suppositoire", r"suppositoires?|suppos?\.?"),
    ("injection", r"injections?|inj\.?"),
    ("stylo", r"stylos?"),
    ("capsule", r"capsules?|caps\.?"),
    ("pastille", r"pastilles?"),
    ("pipette", r"pipettes?"),
    ("flacon", r"flacons?"),
    ("unidose", r"unidoses?|dosettes?|recipients?\s+unidoses?"),
    ("dose", r"doses?"),
    ("ovule", r"ovules?"),
    ("seringue", r"seringues?"),
    ("lyophilisat", r"lyophilisats?"),
    ("gomme", r"gommes?"),
    ("instillation", r"instillations?"),
    ("lavement", r"lavements?"),
    ("perfusion", r"perfusions?"),
)
_UNIT = "(?:" + "|".join(p for _, p in _UNIT_DEFS) + r")(?![a-z0-9µ])"
_UNIT_CANON = tuple((canon, re.compile(p)) for canon, p in _UNIT_DEFS)
# Unit words that may stand alone ("comprimé : 1 le matin"); short ones are too ambiguous.
_UNIT_WORD = (
    r"(?:comprimes?|cpr?s?|gelules?|sachets?|gouttes?|bouffees?|pulverisations?|applications?"
    r"|patch(?:s|es)?|ampoules?|suppositoires?|injections?|capsules?|pastilles?|unidoses?"
    r"|ovules?|inhalations?)(?![a-z0-9µ])"
)
# Dosage-form adjectives that may follow a unit ("1 cp effervescent de 500 mg").
_ADJ = (
    r"(?:\s+(?:effervescents?|orodispersibles?|dispersibles?|secables?|pellicules?|enrobes?"
    r"|gastro-?resistants?|buvables?|injectables?|a\s+croquer|a\s+sucer|a\s+avaler|lp|lm"
    r"|pre-?remplie?s?|souples?|molles?|sublinguale?s?|vaginale?s?|nasale?s?)(?![a-z]))*"
)
_ROUTE = (
    r"(?:(?:en\s+)?(?:sous[- ]cutanee?s?|intra-?musculaires?|intra-?veineuses?|sc|s\.c\.|im"
    r"|i\.m\.|iv|i\.v\.)|par\s+voie\s+orale|per\s+os)(?![a-z])"
)
_MASS_UNITS = frozenset({"mg", "g", "µg", "UI", "mmol"})
_TO_MG = {"mg": 1.0, "g": 1000.0, "µg": 0.001}
# Forms whose count times a per-unit strength is a dose.
_COUNTABLE = frozenset(
    {
        "comprimé",
        "gélule",
        "sachet",
        "suppositoire",
        "ampoule",
        "capsule",
        "pastille",
        "lyophilisat",
        "ovule",
        "unidose",
        "seringue",
        "dose",
        "bouffée",
        "pulvérisation",
        "inhalation",
        "gomme",
        "pipette",
        "dose-poids",
    }
)
# Units that are an intake by themselves: "2 applications par jour" is two intakes.
_ACT_UNITS = frozenset({"injection", "application", "perfusion", "lavement", "instillation", "patch"})
_PER_DOSE = frozenset({"dose", "bouffée", "pulvérisation", "inhalation"})
_SPOON_ML = {"cuillère à café": 5.0, "cuillère à soupe": 15.0}


@lru_cache(maxsize=1024)
def _unit(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip()
    for canon, rx in _UNIT_CANON:
        if rx.fullmatch(text):
            return canon
    return None


# --------------------------------------------------------------------------- periods

_PERIOD = (
    r"(?:(?P<pday>j(?:ours?|rs?)?|journees?|24\s*h(?:eures?|rs?)?)|(?P<pweek>sem(?:aines?)?|sems)"
    r"|(?P<pmonth>mois)|(?P<pyear>ans?|annees?)|(?<!\d)(?P<phours>\d{1,3})\s*h(?:eures?|rs?)?)"
    r"(?![a-z0-9])"
)
_CPERIOD_UNIT = (
    r"(?:(?P<cday>j(?:ours?|rs?)?|journees?|24\s*h(?:eures?|rs?)?)|(?P<cweek>sem(?:aines?)?|sems)"
    r"|(?P<cmonth>mois)|(?P<cyear>ans?|annees?))(?![a-z0-9])"
)
_DUR = (
    r"(?:(?P<dd>j(?:ours?|rs?)?)|(?P<dw>sem(?:aines?)?|sems)|(?P<dm>mois)|(?P<dy>ans?|annees?)"
    r"|(?P<dh>h(?:eures?|rs?)?))(?![a-z0-9])"
)
_DUR_DAYS = r"(?:j(?:ours?|rs?)?|sem(?:aines?)?|sems|mois|ans?|annees?)(?![a-z0-9])"
_WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WD = "(?:" + "|".join(_WEEKDAYS) + ")"
_WD_RX = re.compile(_WD)


def _period_days(m: re.Match[str]) -> tuple[float, float | None] | None:
    """(days, hours) of a _PERIOD match; hours is set for "/8h"-style periods."""
    if m.group("pday"):
        return 1.0, None
    if m.group("pweek"):
        return 7.0, None
    if m.group("pmonth"):
        return 30.0, None
    if m.group("pyear"):
        return 365.0, None
    hours = float(m.group("phours"))
    if hours <= 0:
        return None
    return hours / 24, hours


def _cperiod_days(m: re.Match[str]) -> float:
    if m.group("cweek"):
        return 7.0
    if m.group("cmonth"):
        return 30.0
    if m.group("cyear"):
        return 365.0
    return 1.0


def _dur_days(m: re.Match[str]) -> float:
    if m.group("dw"):
        return 7.0
    if m.group("dm"):
        return 30.0
    if m.group("dy"):
        return 365.0
    if m.group("dh"):
        return 1 / 24
    return 1.0


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class _Qty:
    pos: int
    value: float
    unit: str | None
    text: str
    bare: bool = False
    end: int = -1
    ranged: bool = False  # "1 à 2 cp": value is the upper bound


@dataclass(slots=True)
class _Max:
    pos: int
    value: float
    kind: str  # "units" or "intakes"
    unit: str | None
    text: str


@dataclass(slots=True)
class _Single:
    pos: int
    dose: bool  # "dose unique" (a single dose) rather than "prise unique" (a single intake)
    text: str


@dataclass(slots=True)
class _State:
    s: str
    orig: str
    quantities: list[_Qty] = field(default_factory=list)
    per_period: list[tuple[float, str | None, float]] = field(default_factory=list)
    slots: list[tuple[int, str, str | None]] = field(default_factory=list)
    grid: list[float] | None = None
    grid_pos: int = -1
    per_day: float | None = None  # intakes per active day ("3 fois par jour", "toutes les 8 h")
    count: tuple[float, float] | None = None  # n intakes per P days ("2 fois par semaine")
    days: tuple[float, float] | None = None  # k active days per P days ("un jour sur deux")
    weekdays: set[int] = field(default_factory=set)
    weekdays_excluded: set[int] = field(default_factory=set)
    daily: bool = False
    as_needed: bool = False
    reason: str | None = None
    maxes: list[_Max] = field(default_factory=list)
    duration: float | None = None
    unit_words: list[str] = field(default_factory=list)
    unit_word_starts: list[int] = field(default_factory=list)
    local_strength: tuple[float, str] | None = None
    single: _Single | None = None  # "en dose unique", "en prise unique"
    meal_pos: list[int] = field(default_factory=list)  # where "à chaque repas" put three slots
    unparsed: list[tuple[int, str]] = field(default_factory=list)

    def original(self, start: int, end: int) -> str:
        return self.orig[start:end].strip()


_Handler = Callable[[_State, re.Match[str]], None]

# --------------------------------------------------------------------------- handlers


def _h_ignore(st: _State, m: re.Match[str]) -> None:
    """Understood, but nothing in Posology holds it."""


def _h_unparsed(st: _State, m: re.Match[str]) -> None:
    """Understood enough to keep other rules off it, but worth a human look."""
    st.unparsed.append((m.start(), st.original(m.start(), m.end())))


def _h_as_needed(st: _State, m: re.Match[str]) -> None:
    st.as_needed = True


_REASON_TRAILING = frozenset({"et", "ou", "de", "d", "du", "des", "le", "la", "les", "l", "a", "au"})


def _h_reason(st: _State, m: re.Match[str]) -> None:
    st.as_needed = True
    words = st.original(m.start("r"), m.end("r")).lower().split()
    while words and fold_keep_length(words[-1]).strip("'") in _REASON_TRAILING:
        words.pop()
    if words and st.reason is None:
        st.reason = " ".join(words)


def _h_max(st: _State, m: re.Match[str]) -> None:
    rng = _range(m, "q")
    period = _period_days(m)
    text = st.original(m.start(), m.end())
    if rng is None or period is None or period[0] > 1:
        st.unparsed.append((m.start(), text))
        return
    value = rng[1] / period[0]
    if m.group("cnt"):
        st.maxes.append(_Max(m.start(), value, "intakes", None, text))
    else:
        # Without a unit word the ceiling counts units of the product, like any bare count
        # ("1 cp si douleur, max 3 par jour"); after an intake of several units it is
        # ambiguous and left unparsed (see _ceiling). An intake ceiling says "fois"/"prises".
        st.maxes.append(_Max(m.start(), value, "units", _unit(m.group("u")), text))


def _h_each_stool(st: _State, m: re.Match[str]) -> None:
    """ "1 gélule après chaque selle (liquide)": as needed, as many intakes as stools."""
    st.as_needed = True
    if st.reason is None:
        st.reason = st.original(m.start(), m.end()).lower()


def _h_single(st: _State, m: re.Match[str]) -> None:
    if st.single is None:
        st.single = _Single(m.start(), m.group("dose") is not None, st.original(m.start(), m.end()))
    else:
        _h_unparsed(st, m)


def _set_hourly(st: _State, hours: float) -> None:
    if hours <= 0:
        return
    if hours <= 24:
        st.per_day = 24 / hours
    else:
        st.count = (1.0, hours / 24)


def _h_hourly(st: _State, m: re.Match[str]) -> None:
    rng = _range(m, "q")
    _set_hourly(st, rng[0] if rng else 1.0)


def _h_every(st: _State, m: re.Match[str]) -> None:
    rng = _range(m, "q")
    n = rng[0] if rng else 1.0
    if m.group("dh"):
        _set_hourly(st, n)
        return
    st.days = (1.0, n * _dur_days(m))


def _h_days_over(st: _State, m: re.Match[str]) -> None:
    k = _range(m, "q")
    p = _qval(m.group("p"))
    if k is None or not p:
        st.unparsed.append((m.start(), st.original(m.start(), m.end())))
        return
    scale = 7.0 if m.group("weeks") else 1.0
    st.days = (k[1] * scale, p * scale)


def _h_weekday_range(st: _State, m: re.Match[str]) -> None:
    a = _WEEKDAYS.index(m.group("d1"))
    b = _WEEKDAYS.index(m.group("d2"))
    st.weekdays.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])


def _h_weekday_except(st: _State, m: re.Match[str]) -> None:
    if m.group("d").startswith("we"):
        st.weekdays_excluded.update({5, 6})
    st.weekdays_excluded.update(_WEEKDAYS.index(d) for d in _WD_RX.findall(m.group(0)))


def _h_weekend(st: _State, m: re.Match[str]) -> None:
    st.weekdays.update({5, 6})


def _h_weekday(st: _State, m: re.Match[str]) -> None:
    st.weekdays.add(_WEEKDAYS.index(m.group("d")))


def _h_count(st: _State, m: re.Match[str]) -> None:
    rng = _range(m, "n")
    if rng is None:
        return
    period = _cperiod_days(m) * (_qval(m.group("pq")) or 1.0)
    if period == 1:
        st.per_day = rng[1]
    else:
        st.count = (rng[1], period)


def _h_in_intakes(st: _State, m: re.Match[str]) -> None:
    rng = _range(m, "n")
    if rng is not None:
        st.per_day = rng[1]


def _h_daily(st: _State, m: re.Match[str]) -> None:
    st.daily = True


def _h_marker(days: float) -> _Handler:
    def handler(st: _State, m: re.Match[str]) -> None:
        if st.count is None:
            st.count = (1.0, days)

    return handler


def _h_duration(st: _State, m: re.Match[str]) -> None:
    rng = _range(m, "q")
    if rng is not None and st.duration is None:
        st.duration = rng[1] * _dur_days(m)


def _h_bare_duration(st: _State, m: re.Match[str]) -> None:
    rng = _range(m, "q")
    unit = m.group("bu")
    if rng is None or st.duration is not None:
        st.unparsed.append((m.start(), st.original(m.start(), m.end())))
        return
    days = 1.0
    if unit.startswith("sem"):
        days = 7.0
    elif unit.startswith("mois"):
        days = 30.0
    elif unit.startswith("an"):
        days = 365.0
    st.duration = rng[1] * days


def _h_grid(st: _State, m: re.Match[str]) -> None:
    values = [_qval(m.group(g)) for g in ("g1", "g2", "g3", "g4") if m.group(g) is not None]
    if any(v is None for v in values) or not any(values) or st.grid is not None:
        st.unparsed.append((m.start(), st.original(m.start(), m.end())))
        return
    st.grid = [v or 0.0 for v in values]
    st.grid_pos = m.start()


def _h_slot(label: str | None) -> _Handler:
    def handler(st: _State, m: re.Match[str]) -> None:
        st.slots.append((m.start(), label or m.group(0).strip(), label))

    return handler


_TIME_WORDS = {
    "matin": "matin",
    "matins": "matin",
    "matinee": "matin",
    "midi": "midi",
    "midis": "midi",
    "soir": "soir",
    "soirs": "soir",
    "soiree": "soir",
    "nuit": "coucher",
    "nuits": "coucher",
}


def _h_time(st: _State, m: re.Match[str]) -> None:
    label = _TIME_WORDS[m.group("t")]
    st.slots.append((m.start(), label, label))


_MEALS = ("matin", "midi", "soir")


def _h_meals(st: _State, m: re.Match[str]) -> None:
    st.meal_pos.append(m.start())
    for label in _MEALS:
        st.slots.append((m.start(), label, label))


def _meal_slots_as_instruction(st: _State) -> None:
    """ "1 cp matin et soir avant chaque repas": the times written say which meals (2 intakes).

    "Chaque repas" adds the three meals only when no other meal time is written, or when
    they are all written anyway; a bedtime is not a meal ("à chaque repas et au coucher" is 4).
    """
    if not st.meal_pos or len(st.quantities) > 1:
        return  # "1 cp le matin, 2 à chaque repas": quantities per slot, left as written
    written = {label for pos, _, label in st.slots if pos not in st.meal_pos and label in _MEALS}
    if written and len(written) < len(_MEALS):
        st.slots = [slot for slot in st.slots if slot[0] not in st.meal_pos]


def _clock_label(hour: int) -> str | None:
    if 4 <= hour <= 10:
        return "matin"
    if 11 <= hour <= 14:
        return "midi"
    if 17 <= hour <= 20:
        return "soir"
    if 21 <= hour <= 23:
        return "coucher"
    return None


def _h_clock(st: _State, m: re.Match[str]) -> None:
    hour = int(m.group("h"))
    if hour > 24:
        st.unparsed.append((m.start(), st.original(m.start(), m.end())))
        return
    minutes = m.group("mn") or "00"
    st.slots.append((m.start(), f"{hour % 24}h{minutes}", _clock_label(hour % 24)))


def _quantity(st: _State, m: re.Match[str], unit: str | None, bare: bool = False) -> None:
    rng = _range(m, "q")
    if rng is None:
        return
    value = rng[1]
    if "half" in m.re.groupindex and m.group("half"):
        value += 0.5
    text = st.original(m.start(), m.end())
    if bare and value == 0:
        # a lone "0" (a speck, a lost schedule "1-0-0") is no dose of nothing
        st.unparsed.append((m.start(), text))
        return
    st.quantities.append(_Qty(m.start(), value, unit, text, bare, m.end(), ranged=rng[0] != rng[1]))


def _h_qty_per_period(st: _State, m: re.Match[str]) -> None:
    unit = _unit(m.group("u"))
    rng = _range(m, "q")
    period = _period_days(m)
    if rng is None or period is None:
        st.unparsed.append((m.start(), st.original(m.start(), m.end())))
        return
    days, hours = period
    days *= _qval(m.group("pq")) or 1.0
    if hours is not None:  # "1 cp/8h": a quantity per intake, every 8 hours
        _quantity(st, m, unit)
        _set_hourly(st, hours)
        return
    _per_period(st, m, unit, rng, days)


def _per_period(
    st: _State, m: re.Match[str], unit: str | None, rng: tuple[float, float] | None, days: float
) -> None:
    if rng is None:
        st.unparsed.append((m.start(), st.original(m.start(), m.end())))
        return
    if unit in _ACT_UNITS:  # "2 injections par semaine": each unit is an intake
        st.quantities.append(_Qty(m.start(), 1.0, unit, st.original(m.start(), m.end())))
        if days == 1:
            st.per_day = rng[1]
        else:
            st.count = (rng[1], days)
        return
    st.per_period.append((rng[1], unit, days))


def _h_qty_unit(st: _State, m: re.Match[str]) -> None:
    _quantity(st, m, _unit(m.group("u")))
    strength = _qval(m.group("sq"))
    if strength is not None and st.local_strength is None:
        st.local_strength = (strength, _unit(m.group("su")) or "")


def _h_local_strength(st: _State, m: re.Match[str]) -> None:
    value = _qval(m.group("sq"))
    if value is not None and st.local_strength is None:
        st.local_strength = (value, _unit(m.group("su")) or "")


def _h_unit_word(st: _State, m: re.Match[str]) -> None:
    unit = _unit(m.group(0))
    if unit:
        st.unit_words.append(unit)
        st.unit_word_starts.append(m.start())


def _count_unread(st: _State) -> bool:
    """A word left unread just before a unit word: the count was there ("V2 comprimé")."""
    return any(
        not st.orig[pos + len(text) : start].strip(" /.,:;'")  # "V/ comprimé": a half
        for pos, text in st.unparsed
        for start in st.unit_word_starts
        if start >= pos + len(text)
    )


# --------------------------------------------------------------------------- scanner

_STOP = (
    r"(?:max|maxi|maximum|sans|ne|jusqu|pendant|durant|qsp|toutes|tous|chaque|matins?|midi"
    r"|soirs?|soiree|coucher|nuit|renouveler|renouvelable|puis|pas|dans|par|pour|avec"
    r"|repas|petit|dejeuner|diner|lever|reveil|le\s+(?:matin|midi|soir)"
    r"|la\s+nuit|au\s+(?:coucher|maximum|plus|lever|reveil)|a\s+(?:midi|renouveler|raison|jeun)"
    r"|si|en|et\s+(?:max|maxi|maximum|au|sans|ne|jusqu|pas|si)|[0-9])(?![a-z])"
)
_REASON_WORD = r"[a-z][a-z'-]*"
_THRESHOLD = (
    r"(?:\s*(?:>=|<=|>|<|≥|superieure?\s+a|inferieure?\s+a|sup\.?\s+a|au[- ]dessus\s+de)"
    r"\s*\d{1,4}(?:[.,]\d{1,2})?\s*(?:°\s*c?|g/l|mmol/l|mmhg|%)?)?"
)
_INSTRUCTIONS = (
    r"(?:par\s+)?voie\s+(?:orale|buccale|rectale|vaginale|cutanee|nasale|sublinguale|inhalee"
    r"|intramusculaire|intraveineuse|sous-?cutanee|oculaire|auriculaire|transdermique|locale"
    r"|externe|parenterale)"
    r"|per\s+os|p\.o\.?|v\.o\.?"
    r"|(?:en\s+)?(?:sous[- ]cutanee?s?|intra-?musculaires?|intra-?veineuses?(?:\s+lentes?|\s+directes?)?"
    r"|s\.c\.|i\.m\.|i\.v\.|sc|im|iv|ivl|ivd|intra-?rectale?)"
    r"|sous\s+la\s+langue|(?:en\s+)?sublingual(?:e)?"
    r"|(?:par|en)\s+inhalation"
    r"|dans\s+(?:chaque|les\s+(?:deux|2)|l'|la|le)\s*(?:narines?|yeux|oeil|œil|oreilles?|nez|bouche)"
    r"(?:\s+(?:droite?|gauche))?"
    r"|(?:en\s+)?application\s+locale|localement|en\s+couche\s+mince(?:\s+et\s+en\s+massant)?"
    r"|sur\s+(?:la\s+|les\s+)?(?:zones?|peau|lesions?)(?:\s+(?:a\s+traiter|atteintes?|douloureuses?"
    r"|saines?|seches?|propres?))*"
    r"|a\s+jeun"
    r"|(?:au|aux|avec\s+les?|pendant\s+les?|au\s+cours\s+d(?:u|es)|avant\s+les?|apres\s+les?"
    r"|en\s+dehors\s+des?|au\s+(?:milieu|debut)\s+d(?:u|es)|a\s+la\s+fin\s+d(?:u|es)|au\s+moment\s+des?"
    r"|lors\s+des?|loin\s+des?|a\s+distance\s+des?)\s+repas"
    r"|(?:avec|dans)\s+(?:un|1|une?\s+demi)\s+(?:grand\s+|demi[- ]|plein\s+)?verre\s+d'?\s*eau"
    r"|avec\s+(?:de\s+l'|un\s+peu\s+d')\s*eau"
    r"|(?:ne\s+pas|sans)\s+(?:croquer|macher|ecraser|couper|ouvrir|broyer|sucer)"
    r"(?:\s*,?\s*(?:ni|ou|et|,)\s*(?:croquer|macher|ecraser|couper|ouvrir|broyer|sucer))*"
    r"|(?:a|sans)\s+(?:croquer|sucer|avaler|dissoudre|diluer|macher|laisser\s+fondre)"
    r"(?:\s+(?:dans|sous)\s+(?:un\s+(?:demi[- ])?verre\s+d'\s*eau|la\s+langue|l'\s*eau))?"
    r"|(?:a\s+)?avaler\s+(?:entiers?|en\s+entier|sans\s+croquer|tels?\s+quels?)"
    r"|a\s+heure\s+fixe|(?:toujours\s+)?a\s+la\s+meme\s+heure"
    r"|le\s+meme\s+jour(?:\s+de\s+la\s+semaine|\s+chaque\s+semaine)?"
    r"|agiter\s+avant\s+(?:emploi|usage)|bien\s+agiter"
    r"|(?:se\s+)?rincer\s+la\s+bouche(?:\s+apres(?:\s+usage|\s+utilisation|\s+chaque\s+prise)?)?"
    r"|(?:en\s+)?changeant\s+de\s+site|changer\s+de\s+site(?:\s+d'\s*injection)?"
    r"|alterner\s+les\s+sites(?:\s+d'\s*injection)?"
    r"|non\s+substituable|ns|mte"
    r"|(?:en\s+)?position\s+(?:assise|debout)"
    r"|(?:au\s+long\s+cours|a\s+vie|en\s+continu|traitement\s+(?:de\s+fond|chronique|au\s+long\s+cours)"
    r"|ttt\s+de\s+fond|jusqu'?\s*a\s+nouvel\s+ordre|definitivement|sans\s+interruption|a\s+poursuivre)"
)

# Ordered: at one position the first alternative that matches wins.
# All constructs that start with a quantity share one regex: the quantity and its unit are
# read once, then the tails are tried in order (reading them again per construct was most
# of the parse time).
_MAX_WORD = r"(?:max(?:imum|i)?\.?|au\s+maximum|au\s+max|au\s+plus)"
_QPHRASE = (
    rf"{_B}{_qr('q')}\s*-?\s*(?:(?P<cnt>fois{_E}|prises?{_E}|x(?![a-z]))|(?P<u>{_UNIT}))?"
    rf"(?(u)(?:\s+et\s+(?P<half>demie?){_E})?{_ADJ}"
    rf"(?:\s+(?:de|a|dose\s+a|dosee?s?\s+a)\s+(?P<sq>{_NUM})\s*(?P<su>mg|g|µg|mcg|ui|mmol){_E})?"
    rf"(?:\s+{_ROUTE})?)"
    # "1 cp/j", "3 fois par jour", "1 fois tous les 15 jours", "1 cp/8h", "3 cp max par jour"
    rf"(?:\s*(?:(?P<maxa>{_MAX_WORD})\s*(?:par|/)"
    rf"|(?P<per>par|/|(?(cnt)(?:dans\s+la|sur|chaque|tous\s+les|toutes\s+les)|(?!))))\s*"
    rf"(?:(?P<pq>{_Q})(?!\d)\s*)?{_PERIOD}(?P<maxb>\s*{_MAX_WORD}(?![a-z0-9]))?"
    # "un jour sur deux", "5 jours sur 7", "1 j/2", "une semaine sur deux"
    rf"|\s*(?P<dov>j(?:ours?|rs?)?|(?P<weeks>semaines?))\s*(?:sur|/)\s*(?P<p>{_Q})"
    rf"(?:\s*(?:j(?:ours?)?|semaines?))?{_E}"
    # a minimal interval cannot be held by Posology: keep it visible
    rf"|\s*(?P<gap>h(?:eures?)?\s+d'\s*intervalle(?:\s+(?:minimum|au\s+moins))?)"
    rf"|\s*(?P<before>min(?:utes?)?|mn|h(?:eures?)?)\s+(?:avant|apres){_E}"
    rf"|\s*(?P<bu>{_DUR_DAYS})(?!\s*(?:/|sur))"
    rf"|\s*(?P<clock>h)\s*(?P<mn>\d{{2}})?{_E}"
    rf"|(?(u)|(?(cnt)|(?![a-z0-9/]))))"
)


def _h_qphrase(st: _State, m: re.Match[str]) -> None:
    if m.group("maxa") is not None or m.group("maxb") is not None:
        _h_max(st, m)
    elif m.group("per") is not None:
        if m.group("cnt") is not None:
            _count(st, m)
        else:
            _h_qty_per_period(st, m)
    elif m.group("dov") is not None:
        _h_days_over(st, m)
    elif m.group("gap") is not None:
        _h_unparsed(st, m)
    elif m.group("before") is not None:
        pass  # "30 min avant le repas": an instruction
    elif m.group("bu") is not None:
        if m.group("u") is not None and m.group("bu") in ("jour", "j"):
            _per_period(st, m, _unit(m.group("u")), _range(m, "q"), 1.0)  # "1 cp jour": "par" left out
        else:
            _h_bare_duration(st, m)
    elif m.group("clock") is not None:
        hour = _qval(m.group("q"))
        if hour is None or hour != int(hour) or hour > 24 or m.group("q_hi"):
            _h_unparsed(st, m)
        else:
            minutes = m.group("mn") or "00"
            st.slots.append((m.start(), f"{int(hour) % 24}h{minutes}", _clock_label(int(hour) % 24)))
    elif m.group("cnt") is not None:
        _h_unparsed(st, m)  # "3 fois" without a period
    elif m.group("u") is not None:
        _h_qty_unit(st, m)
    else:
        _quantity(st, m, None, bare=True)


def _count(st: _State, m: re.Match[str]) -> None:
    """ "3 fois par jour", "2 prises/j", "1 fois tous les 15 jours", "2 fois par semaine"."""
    rng = _range(m, "q")
    period = _period_days(m)
    if rng is None or period is None:
        _h_unparsed(st, m)
        return
    days, hours = period
    days *= _qval(m.group("pq")) or 1.0
    if hours is not None:
        days = hours / 24
    if days <= 1:
        st.per_day = rng[1] / days
    else:
        st.count = (rng[1], days)


_ALTERNATIVES: tuple[tuple[str, _Handler], ...] = (
    # 1-0-1, 1/2-0-1, 1-1-1-1 (4th slot is bedtime)
    (
        r"(?<![\w/.,-])(?P<g1>\d{1,2}(?:[.,]\d{1,2})?(?:/\d)?|[½¼¾])\s*[-+]\s*"
        r"(?P<g2>\d{1,2}(?:[.,]\d{1,2})?(?:/\d)?|[½¼¾])\s*[-+]\s*"
        r"(?P<g3>\d{1,2}(?:[.,]\d{1,2})?(?:/\d)?|[½¼¾])"
        r"(?:\s*[-+]\s*(?P<g4>\d{1,2}(?:[.,]\d{1,2})?(?:/\d)?|[½¼¾]))?(?![\w/]|[.,]\d|\s*[-+]\s*\d)",
        _h_grid,
    ),
    # everything that starts with a quantity: "1 cp", "3 fois par jour", "1 jour sur 2", ...
    (_QPHRASE, _h_qphrase),
    (
        rf"{_B}(?:a\s+)?(?:renouveler|renouvelable|renouvellement|ar){_E}(?:\s*:?\s*(?:{_Q}\s*(?:fois|x){_E}"
        rf"|x\s*{_Q}{_E}|pendant\s+{_Q}\s*{_DUR_DAYS}|{_Q}\s*{_DUR_DAYS}|si\s+(?:besoin|necessaire){_E}))?"
        rf"|{_B}(?:non\s+renouvelable|nr){_E}",
        _h_ignore,
    ),
    (
        rf"{_B}(?:(?:si|en\s+cas\s+de|au|selon(?:\s+les)?|suivant)\s+(?:besoins?|necessaire|necessite)"
        rf"|a\s+la\s+demande|sb|s/b|prn){_E}",
        _h_as_needed,
    ),
    # "1 gélule après chaque selle liquide": as needed, no fixed number of intakes a day
    (
        rf"{_B}(?:(?:juste\s+)?apres|a|lors\s+de)\s+chaque\s+(?:emission\s+de\s+)?selles?"
        rf"(?:\s+(?:liquides?|molles?|diarrheiques?|non\s+moulees?))?{_E}",
        _h_each_stool,
    ),
    (
        rf"{_B}(?:si|en\s+cas\s+d(?:e\s+|')|lors\s+d(?:es|u|e|')\s*|au\s+moment\s+d(?:es|u|e)\s+)\s*"
        rf"(?P<r>(?!{_STOP}){_REASON_WORD}(?:\s+(?!{_STOP}){_REASON_WORD}){{0,5}}{_THRESHOLD})",
        _h_reason,
    ),
    # max 3/j, maximum 3 par jour, sans dépasser 6 cp par jour, jusqu'à 3 fois par jour
    (
        rf"{_B}(?:ne\s+pas\s+depasser|sans\s+depasser|pas\s+plus\s+de|dans\s+la\s+limite\s+de"
        rf"|au\s+maximum|au\s+max\.?|au\s+plus|jusqu'?\s*a|maxi(?:mum)?|max)\.?\s*:?\s*{_qr('q')}\s*"
        rf"(?:(?P<cnt>prises?{_E}|fois{_E}|x)|(?P<u>{_UNIT}))?{_ADJ}\s*(?:max(?:imum|i)?\.?\s*)?"
        rf"(?:par|/|sur|en|toutes\s+les)\s*{_PERIOD}",
        _h_max,
    ),
    # A minimal interval is a constraint Posology cannot hold: keep it visible.
    (
        rf"{_B}(?:en\s+)?(?:respect(?:ant|er)|espac(?:er|ant|ees?|es?))(?:\s+les\s+prises)?\s+"
        rf"(?:d'\s*au\s+moins|d'\s*un\s+intervalle\s+(?:minimum\s+)?de|un\s+intervalle\s+(?:minimum\s+)?de"
        rf"|au\s+moins|de|d')?\s*(?:minimum\s+)?{_Q}\s*h(?:eures?)?(?:\s+(?:minimum|au\s+moins"
        rf"|entre\s+(?:2|deux|chaque)\s+prises?))?"
        rf"|{_B}a\s+{_Q}\s*h(?:eures?)?\s+d'\s*intervalle(?:\s+(?:minimum|au\s+moins))?"
        rf"|{_B}(?:au\s+moins|minimum)\s+{_Q}\s*h(?:eures?)?\s+entre\s+(?:2|deux|chaque)\s+prises?",
        _h_unparsed,
    ),
    (
        rf"{_B}(?:rester|se\s+tenir)\s+(?:debout|assise?|en\s+position\s+(?:assise|debout|verticale))"
        rf"(?:\s+(?:pendant\s+)?(?:au\s+moins\s+)?{_Q}\s*(?:min(?:utes?)?|mn|h(?:eures?)?))?{_E}",
        _h_ignore,
    ),
    # toutes les 8 heures, toutes les 4 à 6 h
    (rf"{_B}(?:toutes\s+les|tous\s+les|chaque)\s+(?:{_qr('q', True)}\s*)?(?:h|heures?|hrs?){_E}", _h_hourly),
    # tous les 15 jours, tous les 3 mois, chaque semaine, tous les jours
    (rf"{_B}(?:tou(?:s|tes)\s+les|chaque)\s+(?:{_qr('q')}\s*)?{_DUR}", _h_every),
    (rf"{_B}(?:du|de)\s+(?P<d1>{_WD})\s+(?:au|a)\s+(?P<d2>{_WD}){_E}", _h_weekday_range),
    (
        rf"{_B}(?:sauf|excepte|hors)\s+(?:le\s+|les\s+)?(?P<d>{_WD}|week-?ends?|we){_E}"
        rf"(?:\s*(?:,|et|ni|ou)\s*(?:le\s+)?{_WD}{_E})*",
        _h_weekday_except,
    ),
    (rf"{_B}(?:le|les|chaque|tous\s+les)\s+week-?ends?{_E}", _h_weekend),
    (rf"{_B}(?:(?:le|les|chaque|tous\s+les|un)\s+)?(?P<d>{_WD})s?{_E}", _h_weekday),
    # 3 fois par jour, 2x/j, 2 prises par jour, 1 fois tous les 15 jours, 2 fois par semaine
    (
        rf"{_B}x\s*{_qr('n')}\s*(?:/|par)\s*(?:(?P<pq>{_Q})\s*)?{_CPERIOD_UNIT}",
        _h_count,
    ),
    # "en dose unique", "en prise unique": see _apply_single
    (rf"{_B}(?:en\s+)?(?:(?:une?|1)\s+)?(?:(?P<dose>dose)|prise)\s+unique{_E}", _h_single),
    (
        rf"{_B}(?:(?:a\s+)?repartir\s+en|repartie?s?\s+en|en)\s+{_qr('n')}\s*prises?"
        rf"(?:\s+(?:par\s+jour|quotidiennes?|dans\s+la\s+journee))?{_E}",
        _h_in_intakes,
    ),
    # "1 cp fois par jour": the count of "fois" lost (a scan, a hurried hand); the intakes a
    # day are unknown, not one
    (rf"{_B}fois\s+(?:par|/)\s*(?:j|jour|24\s*h(?:eures?)?){_E}", _h_unparsed),
    (
        rf"{_B}(?:par|/)\s*(?:j|jour|24\s*h(?:eures?)?){_E}"
        rf"|{_B}(?:quotidien(?:ne)?s?(?:ment)?|journalier(?:e|s)?|au\s+quotidien){_E}",
        _h_daily,
    ),
    (rf"{_B}(?:hebdomadaire(?:ment|s)?|(?:par|/)\s*sem(?:aine)?){_E}", _h_marker(7.0)),
    (rf"{_B}(?:mensuel(?:le)?s?(?:lement)?|(?:par|/)\s*mois){_E}", _h_marker(30.0)),
    (rf"{_B}trimestriel(?:le)?s?(?:lement)?{_E}", _h_marker(90.0)),
    (rf"{_B}semestriel(?:le)?s?(?:lement)?{_E}", _h_marker(180.0)),
    (rf"{_B}(?:annuel(?:le)?s?(?:lement)?|(?:par|/)\s*an){_E}", _h_marker(365.0)),
    # pendant 7 jours, QSP 3 mois, durée : 5 jours
    (
        rf"{_B}(?:pendant|durant|pdt|sur|pour|x)\s*:?\s*(?:(?:une?\s+)?(?:periode|duree)\s+de\s+)?"
        rf"{_qr('q')}\s*{_DUR}(?!\s*/)",
        _h_duration,
    ),
    (
        rf"{_B}(?:qsp|q\.s\.p\.?|quantite\s+suffisante\s+pour)\s*:?\s*{_qr('q')}\s*{_DUR}",
        _h_duration,
    ),
    (
        rf"{_B}(?:duree(?:\s+d[eu]\s+(?:traitement|ttt))?|traitement|ttt|cure)\s*:?\s*"
        rf"(?:d'\s*une\s+duree\s+de\s+|de\s+)?:?\s*{_qr('q')}\s*{_DUR}",
        _h_duration,
    ),
    (rf"{_B}(?:soit|c'est-a-dire|cad)\s+{_qr('q')}\s*(?:{_UNIT})?\s*(?:par|/)\s*{_PERIOD}", _h_ignore),
    # times of day
    (
        rf"{_B}(?:(?:le|au)\s+)?soir\s+(?:au|avant\s+le|avant\s+de\s+se|au\s+moment\s+du"
        rf"|a\s+l'\s*heure\s+du)\s+couch(?:er|ant){_E}"
        rf"|{_B}(?:au|avant\s+le|avant\s+de\s+(?:se\s+)?|au\s+moment\s+du|a\s+l'\s*heure\s+du)\s*"
        rf"couch(?:er|ant){_E}|{_B}avant\s+de\s+dormir{_E}",
        _h_slot("coucher"),
    ),
    (
        rf"{_B}(?:au\s+lever|au\s+reveil|(?:(?:au|avant\s+le|apres\s+le|pendant\s+le|au\s+cours\s+du"
        rf"|lors\s+du|avec\s+le)\s+)?petit[- ]dejeuner){_E}",
        _h_slot("matin"),
    ),
    (
        rf"{_B}(?:(?:au|avant\s+le|apres\s+le|pendant\s+le|au\s+cours\s+du|lors\s+du|avec\s+le)\s+)?"
        rf"dejeuner{_E}",
        _h_slot("midi"),
    ),
    (
        rf"{_B}(?:(?:au|avant\s+le|apres\s+le|pendant\s+le|au\s+cours\s+du|lors\s+du|avec\s+le)\s+)?"
        rf"(?:diner|souper){_E}",
        _h_slot("soir"),
    ),
    (
        rf"{_B}(?:au|lors\s+du|pendant\s+le|avant\s+le|apres\s+le|au\s+cours\s+du)\s+repas\s+du\s+"
        rf"(?P<t>matin|midi|soir){_E}",
        _h_time,
    ),
    # "à chaque repas", "avant chaque repas", "aux 3 repas": one intake at each of the three
    # meals. Without "chaque" or a count ("aux repas", "pendant les repas", "au milieu des
    # repas") it is only an instruction (_INSTRUCTIONS): the number of intakes is not given.
    (
        rf"{_B}(?:(?:a|(?:juste\s+)?(?:avant|apres)|pendant|avec|lors\s+de|au\s+cours\s+de"
        rf"|au\s+moment\s+de|au\s+(?:debut|milieu)\s+de|a\s+la\s+fin\s+de)\s+)?chaque\s+repas"
        rf"(?:\s+principal)?{_E}"
        rf"|{_B}(?:aux|(?:juste\s+)?(?:avant|apres)\s+les|pendant\s+les|avec\s+les|lors\s+des"
        rf"|au\s+cours\s+des|au\s+moment\s+des|au\s+(?:debut|milieu)\s+des|a\s+la\s+fin\s+des)"
        rf"\s+(?:3|trois)(?:\s+principaux)?\s+repas(?:\s+principaux)?{_E}",
        _h_meals,
    ),
    (rf"{_B}(?:(?:l'|la|dans\s+l'|en)\s*)?apres[- ]midi{_E}", _h_slot(None)),
    (
        rf"{_B}(?:(?:le|la|au|a|en|du|chaque|tous\s+les|toutes\s+les|dans\s+la)\s+)?"
        rf"(?P<t>matins?|matinee|midis?|soirs?|soiree|nuits?){_E}",
        _h_time,
    ),
    (rf"{_B}(?:a|vers|de)\s+(?P<h>\d{{1,2}})\s*h(?:eures?)?\s*(?P<mn>\d{{2}})?{_E}", _h_clock),
    # administration instructions: understood, no field to hold them
    (rf"{_B}(?:{_INSTRUCTIONS}){_E}", _h_ignore),
    (rf"{_B}(?:de|a|dose\s+a|dosee?s?\s+a)\s+(?P<sq>{_NUM})\s*(?P<su>mg|g|µg|mcg|ui){_E}", _h_local_strength),
    (rf"{_B}{_UNIT_WORD}", _h_unit_word),
)

_ALT_RX = tuple(re.compile(p) for p, _ in _ALTERNATIVES)
_QPHRASE_INDEX = next(i for i, (p, _) in enumerate(_ALTERNATIVES) if p is _QPHRASE)
_ALT_HANDLERS = tuple(h for _, h in _ALTERNATIVES)
# One pass finds which alternative matches where; its own regex then gives the groups.
# Every alternative starts at a word boundary: checking it once up front keeps the scan fast.


def _starts_with_quantity(pattern: str) -> bool:
    return pattern.startswith((_B + "(?P<", _B + _Q, r"(?<![\w/.,-])"))


def _build_scanner() -> re.Pattern[str]:
    """One regex that finds which alternative matches where; its own regex then gives groups.

    Speed: the word boundary every alternative starts with is checked once, alternatives
    starting with a quantity are only tried where a number starts and the others only
    elsewhere. The order of the alternatives inside each branch is kept.
    """
    quantity = [i for i, (p, _) in enumerate(_ALTERNATIVES) if _starts_with_quantity(p)]
    words = [i for i in range(len(_ALTERNATIVES)) if i not in quantity]

    def branch(indices: list[int]) -> str:
        # The marker group goes last: a branch that starts with a literal is rejected by
        # the regex engine on its first character, which a leading group would prevent.
        # Group names are dropped, except in the one alternative that tests groups with
        # conditionals; the named marker tells which alternative matched.
        parts = []
        for i in indices:
            pattern = _ALTERNATIVES[i][0]
            if "(?(" not in pattern:
                pattern = re.sub(r"\(\?P<\w+>", "(?:", pattern)
            pattern = pattern.removeprefix(_B)
            parts.append(f"(?:{pattern})(?P<_alt{i}>)")
        return "|".join(parts)

    number_start = (
        rf"(?=\d|{_FRAC}|(?:une?|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze"
        r"|quinze|vingt|trente|demie?)(?![a-z]))"
    )
    pattern = rf"{_B}(?:{number_start}(?:{branch(quantity)})|(?!\d|{_FRAC})(?:{branch(words)}))"
    return re.compile(pattern)


_SCANNER = _build_scanner()

# --------------------------------------------------------------------------- leftovers


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FILLERS = _words(
    """
    le la les l un une des de du d et ou a au aux en par pour avec dans sur sous soit y
    ce cet cette ces chaque tous toutes tout
    prendre prenez prend prends prise prises avaler appliquer administrer donner faire mettre
    instiller inhaler injecter poser utiliser boire sucer croquer diluer dissoudre laisser fondre
    vaporiser pulveriser changer coller effectuer masser renouveler
    posologie poso environ traitement ttt puis ensuite voie orale os repas
    effervescent effervescents orodispersible orodispersibles secable secables pellicule pellicules
    lp lm buvable buvables
    """
)
_PIECE_SPLIT = re.compile(r"[,;:.()\[\]{}!?\"\n]+|\s[-/]\s|\s\+\s")
_WORD = re.compile(r"[^\s,;:.()\[\]{}!?\"/+*]+")


def _leftover(st: _State, start: int, end: int) -> None:
    if start >= end:
        return
    chunk = st.s[start:end]
    if not chunk.strip(" \t\n,;:.-/()\x00"):
        return
    piece_start = 0
    bounds = [(mm.start(), mm.end()) for mm in _PIECE_SPLIT.finditer(chunk)]
    bounds.append((len(chunk), len(chunk)))
    for sep_start, sep_end in bounds:
        first = last = -1
        for w in _WORD.finditer(chunk, piece_start, sep_start):
            token = w.group().strip("'-")
            core = token.rsplit("'", 1)[-1]
            if not token or not any(c.isalnum() for c in token) or core in _FILLERS:
                continue
            if first < 0:
                first = w.start()
            last = w.end()
        if first >= 0:
            st.unparsed.append((start + first, st.orig[start + first : start + last]))
        piece_start = sep_end


def _scan(st: _State, start: int, end: int) -> None:
    pos = start
    for m in _SCANNER.finditer(st.s, start, end):
        index = int((m.lastgroup or "_alt0")[4:])
        # The quantity phrase keeps its group names in the scanner: no need to match it again.
        sub = m if index == _QPHRASE_INDEX else _ALT_RX[index].match(st.s, m.start(), end)
        if sub is None:  # cannot happen: same pattern without group names
            continue
        _leftover(st, pos, m.start())
        _ALT_HANDLERS[index](st, sub)
        pos = sub.end()
    _leftover(st, pos, end)


# --------------------------------------------------------------------------- drug prefix

_LEAD = re.compile(r"\s*(?:\d{1,2}\s*[).]\s+|[-•*·>]+\s*)?")
_PREFIX_TOKEN = re.compile(r"[^\s,;:()]+")
_STRENGTH = re.compile(
    rf"[\s,]*(?P<v>{_NUM})\s*(?P<u>mg|g|µg|mcg|ug|microgrammes?|milligrammes?|grammes?|ui|u\.i\.|mmol"
    rf"|ml|%)(?:\s*anti[\s-]?xa)?(?P<den>\s*/\s*(?:{_NUM}\s*)?(?:ml|g|mg|dose|h|24\s*h|l|kg|actionnement"
    rf"|pulverisation|goutte))?(?![a-z0-9])"
)
_STRENGTH_JOIN = re.compile(r"\s*(?:/|\+|-|,)\s*")
_PREFIX_FORMS = _words(
    """
    comprime comprimes cp cpr cps gelule gelules gel sachet sachets sachet-dose pellicule pellicules
    secable secables enrobe enrobes effervescent effervescents orodispersible orodispersibles
    dispersible dispersibles lp lm a liberation prolongee modifiee gastro-resistant
    gastroresistant gastro-resistante solution suspension buvable injectable inj collyre pommade
    creme poudre pour en flacon ampoule ampoules suppositoire suppositoires dispositif
    transdermique patch capsule capsules molle molles sirop granules granule lyophilisat oral
    orale stylo prerempli preremplie seringue spray nasal inhalation aerosol gouttes goutte sol
    buv susp pdre cpr boite
    """
)
_VOCAB = (
    _FILLERS
    | frozenset(_WORD_VALUES)
    | frozenset(_WEEKDAYS)
    | _words(
        """
        si max maxi maximum pendant durant pdt qsp duree tous toutes chaque fois jour jours j
        semaine semaines mois an ans matin matins midi soir soirs soiree coucher nuit sans jusqu
        jusqu'a sb ns ar nr prn cure x demi demie quart quotidien quotidienne hebdomadaire
        mensuel mensuelle repas petit dejeuner diner lever reveil selon lors apres avant ne pas
        en cas matinee heures h toutes
        """
    )
)
_UNIT_FULL = re.compile(_UNIT)


def _is_vocab(word: str) -> bool:
    return word in _VOCAB or _UNIT_FULL.fullmatch(word) is not None


def is_posology_word(word: str) -> bool:
    """A word of posologies (folded, lower case): a unit or form, a time of day, a filler."""
    return _is_vocab(word) or word in _PREFIX_FORMS


@dataclass(slots=True)
class _Prefix:
    end: int
    strengths: list[tuple[float, str, bool]]  # value, unit, per-something ("mg/ml")


def _read_strengths(s: str, pos: int, end: int) -> tuple[list[tuple[float, str, bool]], int]:
    found: list[tuple[float, str, bool]] = []
    while True:
        m = _STRENGTH.match(s, pos, end)
        if m is None:
            return found, pos
        value = _qval(m.group("v"))
        unit = _unit(m.group("u")) or m.group("u")
        if value is not None:
            found.append((value, unit, bool(m.group("den"))))
        pos = m.end()
        join = _STRENGTH_JOIN.match(s, pos, end)
        if join is None or _STRENGTH.match(s, join.end(), end) is None:
            return found, pos
        pos = join.end()


_SCHEDULE_WORD = re.compile(r"(?<![a-z])(?:matin|midi|soir|coucher|jours?|fois|semaines?)(?![a-z])")


def _drug_prefix(s: str, orig: str, end: int) -> _Prefix:
    lead = _LEAD.match(s, 0, end)
    start = lead.end() if lead else 0
    colon = s.find(":", start, end)
    if colon > start and _SCHEDULE_WORD.search(s, start, colon) is None:
        # (a colon after a time of day is a speck, not the end of the drug's description:
        # "1000 mg 1 comprimé le matin, midi : soir")
        first = _PREFIX_TOKEN.search(s, start, colon)
        word = first.group().strip(".'-") if first else ""
        if word.isalpha() and len(word) > 1 and not _is_vocab(word):
            strengths, _ = _read_strengths_anywhere(s, start, colon)
            # "Escitalopram: 10 mg: 1 cpr": the strength after the name's colon, up to a
            # second colon, is still the description (it was read as a dose of 10 mg)
            after, stop = _read_strengths(s, colon + 1, end)
            second = re.match(r"\s*:", s[stop:end]) if after else None
            if second is not None:
                return _Prefix(stop + second.end(), strengths + after)
            return _Prefix(colon + 1, strengths)
    names = 0
    pos = start
    caps = False
    for tok in _PREFIX_TOKEN.finditer(s, start, end):
        word = tok.group().strip(".'-")
        if not word:
            break
        is_name = word.replace("-", "").replace("'", "").isalpha() or (
            re.fullmatch(r"[a-wyz][a-z]*\d+", word) is not None and names > 0
        )
        if not is_name or _is_vocab(word):
            break
        if names == 0:
            letters = [c for c in orig[tok.start() : tok.end()] if c.isalpha()]
            caps = len(letters) >= 3 and all(c.isupper() for c in letters)
        names += 1
        pos = tok.end()
    if names == 0:
        return _Prefix(start, [])
    strengths, pos = _read_strengths(s, pos, end)
    forms = 0
    for tok in _PREFIX_TOKEN.finditer(s, pos, end):
        if s[pos : tok.start()].strip(" ,-") or tok.group().strip(".") not in _PREFIX_FORMS:
            break
        forms += 1
        pos = tok.end()
    if not (strengths or forms or caps):
        return _Prefix(start, [])
    while pos < end and s[pos] in " ,;-":
        pos += 1
    return _Prefix(pos, strengths)


def _read_strengths_anywhere(s: str, start: int, end: int) -> tuple[list[tuple[float, str, bool]], int]:
    found: list[tuple[float, str, bool]] = []
    pos = start
    while pos < end:
        m = _STRENGTH.search(s, pos, end)
        if m is None:
            break
        part, pos = _read_strengths(s, m.start(), end)
        found.extend(part)
        if not part:
            pos = m.end()
    return found, pos


# --------------------------------------------------------------------------- assembling

_PHASE = re.compile(r"(?<![a-z])(?:et\s+)?(?:puis|ensuite)(?![a-z])")
_STOP_PHASE = re.compile(
    r"(?:et\s+)?(?:puis|ensuite)\s+(?:arret(?:er)?|stop(?:per)?)(?:\s+(?:le\s+)?traitement)?[\s.,;!]*"
)
_TIME_ORDER = ("matin", "midi", "soir", "coucher")
_GRID_LABELS = ("matin", "midi", "soir", "coucher")


def _round(x: float) -> float:
    """Four decimals for values >= 1, four significant digits below (no 39.99999)."""
    if x == 0:
        return 0.0
    digits = max(4, 3 - floor(log10(abs(x))))
    return round(x, digits)


@lru_cache(maxsize=1024)
def _norm_strength(value: float, unit: str) -> tuple[float, str, str | None, float] | None:
    """(value, numerator unit, denominator unit, denominator amount) with g turned into mg."""
    folded = fold_keep_length(unit).strip()
    num, _, den = folded.partition("/")
    num_unit = _unit(num.strip())
    if num_unit is None or num_unit not in _MASS_UNITS:
        return None
    if num_unit == "g":
        value, num_unit = value * 1000, "mg"
    if not den:
        return value, num_unit, None, 1.0
    m = re.fullmatch(rf"\s*({_NUM})?\s*(.+?)\s*", den)
    if m is None:
        return None
    amount = _qval(m.group(1)) or 1.0
    den_unit = _unit(m.group(2)) or m.group(2)
    return value, num_unit, den_unit, amount


def _mass_dose(amount: float, unit: str) -> tuple[float, str] | None:
    if unit == "g":
        return amount * 1000, "mg"
    if unit in _MASS_UNITS:
        return amount, unit
    return None


def _pick_strength(
    strengths: Sequence[Strength], local: tuple[float, str] | None, prefix: list[tuple[float, str, bool]]
) -> tuple[float, str] | None:
    if len(strengths) == 1:
        return strengths[0].value, strengths[0].unit
    if strengths:
        return None
    if local is not None:
        return local
    if len(prefix) == 1 and not prefix[0][2]:
        return prefix[0][0], prefix[0][1]
    return None


def _daily_dose(
    units_per_day: float, unit: str | None, strength: tuple[float, str] | None
) -> Strength | None:
    if unit is not None and unit in _MASS_UNITS:
        direct = _mass_dose(units_per_day, unit)
        return Strength(value=_round(direct[0]), unit=direct[1]) if direct else None
    if strength is None:
        return None
    norm = _norm_strength(*strength)
    if norm is None:
        return None
    value, num_unit, den_unit, den_amount = norm
    if den_unit is None:
        if unit is None or unit in _COUNTABLE:
            return Strength(value=_round(units_per_day * value), unit=num_unit)
        return None
    per_unit = value / den_amount
    if unit is not None and (den_unit == unit or (den_unit == "dose" and unit in _PER_DOSE)):
        return Strength(value=_round(units_per_day * per_unit), unit=num_unit)
    if den_unit == "ml" and unit in _SPOON_ML:
        return Strength(value=_round(units_per_day * _SPOON_ML[unit] * per_unit), unit=num_unit)
    return None


def _assign_to_slots(
    keys: list[tuple[int, str]], quantities: list[_Qty]
) -> tuple[list[float | None], set[int]]:
    """Quantities per slot: "1 cp matin et soir" shares, "1 le matin, 2 le soir" pairs."""
    items: list[tuple[int, int, int]] = [(pos, 0, i) for i, (pos, _) in enumerate(keys)]
    items += [(q.pos, 1, i) for i, q in enumerate(quantities)]
    items.sort()
    values: list[float | None] = [None] * len(keys)
    used: set[int] = set()
    quantity_first = bool(items) and items[0][1] == 1
    current: int | None = None
    pending: list[int] = []
    for _, kind, i in items:
        if kind == 1:
            if quantity_first:
                current = i
            else:
                for slot in pending:
                    values[slot] = quantities[i].value
                if pending:
                    used.add(i)
                pending = []
                current = i
        else:
            if quantity_first:
                if current is not None:
                    values[i] = quantities[current].value
                    used.add(current)
            else:
                pending.append(i)
    if not quantity_first and pending and current is not None:
        # "matin : 1 cp, soir" -- the last slots share the last quantity
        for slot in pending:
            values[slot] = quantities[current].value
        used.add(current)
    return values, used


def _grid_quantities(st: _State, quantities: list[_Qty], upi: float) -> set[int]:
    """A quantity written just before a grid that says the same ("1 cp 1-0-1") names its unit.

    Only when every intake of the grid is that quantity: "2 cp 1-0-1" (2 per intake, or the
    grid's 1?) stays in ``unparsed``.
    """
    used: set[int] = set()
    for i, q in enumerate(quantities):
        between = st.s[q.end : st.grid_pos] if 0 <= q.end <= st.grid_pos else None
        if q.unit is not None and q.value == upi and between is not None and not between.strip(" :,"):
            used.add(i)
    return used


def _ceiling(
    mx: _Max,
    unit: str | None,
    upi: float | None,
    strength: tuple[float, str] | None,
    *,
    ranged_intake: bool = False,
) -> float | None:
    """A daily ceiling in the unit of the intake, or None when it cannot be converted."""
    if mx.kind == "intakes":
        return mx.value * upi if upi is not None else None
    if mx.unit is None and upi is not None and upi != 1 and not ranged_intake:
        # "2 cp si douleur, max 3 par jour": 3 tablets, or 3 intakes of 2? The text does not
        # say, and the dose checks would miss an overdose on the lower reading: a human reads it.
        # After a range ("1 à 2 cp si douleur, max 6/j") the usage is units.
        return None
    if mx.unit is None or mx.unit == unit or (unit is None and mx.unit not in _MASS_UNITS):
        return mx.value
    if mx.unit in _TO_MG and unit in _TO_MG:
        return mx.value * _TO_MG[mx.unit] / _TO_MG[unit]
    if mx.unit in _MASS_UNITS and (unit is None or unit in _COUNTABLE) and strength:
        # "sans dépasser 3 g par jour" of 1 g tablets is 3 tablets
        norm = _norm_strength(*strength)
        mass = _mass_dose(mx.value, mx.unit)
        if norm and norm[2] is None and mass and mass[1] == norm[1] and norm[0] > 0:
            return mass[0] / norm[0]
    return None


def _period_and_intakes(
    st: _State, per_active_day: float | None, intakes_unknown: bool
) -> tuple[float, float | None]:
    """(period in days, intakes in that period)."""
    if st.count is not None:
        n, period = st.count
        return period, n
    if st.days is not None:
        k, period = st.days
        return period, None if intakes_unknown else (per_active_day or 1.0) * k
    if per_active_day:
        return 1.0, per_active_day
    if st.per_period:
        value, _, period = st.per_period[0]
        return period, 1.0 if value <= 1 else None
    return 1.0, None


def _choose_unit(st: _State, quantities: list[_Qty]) -> str | None:
    for q in quantities:
        if q.unit:
            return q.unit
    for _, unit, _ in st.per_period:
        if unit:
            return unit
    if st.unit_words:
        return st.unit_words[0]
    for mx in st.maxes:
        # a mass ceiling names the unit only when nothing else is counted
        if mx.unit and ((mx.unit not in _MASS_UNITS and mx.unit != "ml") or not quantities):
            return mx.unit
    return None


def _apply_single(st: _State) -> None:
    """ "en dose unique" / "en prise unique": one intake.

    "Dose unique" is a single-dose treatment: one intake, a duration of one day. "Prise
    unique" is one as well when nothing else is scheduled ("1 sachet en prise unique"), but
    next to a daily schedule it is the number of intakes a day ("2 cp par jour en prise
    unique", "1 cp le matin en prise unique": chronic, no duration). A schedule of several
    intakes, or another duration, contradicts it: the words go to ``unparsed``.
    """
    single = st.single
    if single is None:
        return
    slots = {key for _, key, _ in st.slots}
    grid_intakes = sum(1 for v in st.grid if v > 0) if st.grid is not None else 0
    several = (
        st.count is not None
        or st.days is not None
        or bool(st.weekdays or st.weekdays_excluded)
        or (st.per_day is not None and st.per_day != 1)
        or len(slots) > 1
        or grid_intakes > 1
        or any(days != 1 for _, _, days in st.per_period)
    )
    scheduled = bool(st.per_day or st.per_period or st.daily or slots or grid_intakes)
    other_duration = st.duration is not None and st.duration != 1
    if several or (other_duration and (single.dose or not scheduled)):
        st.unparsed.append((single.pos, single.text))
        return
    st.per_day = 1.0
    if single.dose or not scheduled:
        st.duration = 1.0


# a number then, after a mark or a short token at most ("Hg -", "m1"), the next number
_NEXT_NUMBER_CLOSE = re.compile(rf"\s*[^\s\d]{{0,3}}\s*[-–:]?\s*(?=\d|{_NUMW})")


def _build(st: _State, strengths: Sequence[Strength], prefix: list[tuple[float, str, bool]]) -> Posology:
    _meal_slots_as_instruction(st)
    _apply_single(st)
    # week days
    if st.weekdays or st.weekdays_excluded:
        days = (st.weekdays or set(range(7))) - st.weekdays_excluded
        if days and (st.days is None or st.days[1] == 1):
            st.days = (float(len(days)), 7.0)

    if st.daily and not (st.per_period or st.count or st.days or st.per_day or st.slots or st.grid):
        real = [q for q in st.quantities if not q.bare or len(st.quantities) == 1]
        if real:
            q = real[0]
            st.quantities.remove(q)
            st.per_period.append((q.value, q.unit, 1.0))

    # slots per active day
    labels: list[str | None] = []
    keys: list[tuple[int, str]] = []
    seen: set[str] = set()
    for pos, key, label in st.slots:
        if key not in seen:
            seen.add(key)
            keys.append((pos, key))
            labels.append(label)
    slot_units: list[float | None] | None = None
    per_active_day: float | None
    daily_total = next((pp for pp in st.per_period if pp[2] == 1.0), None)
    if st.grid is not None:
        active = [(i, v) for i, v in enumerate(st.grid) if v > 0]
        per_active_day = float(len(active))
        labels = [_GRID_LABELS[i] for i, _ in active]
        slot_units = [v for _, v in active]
    elif st.per_day is not None:
        per_active_day = st.per_day
    elif keys:
        per_active_day = float(len(keys))
    elif daily_total is not None:
        # "2 cp par jour" is a total: one intake only when the total is one unit or less
        per_active_day = 1.0 if daily_total[0] <= 1 else None
    else:
        per_active_day = None
    intakes_unknown = per_active_day is None and daily_total is not None

    has_schedule = bool(per_active_day or st.count or st.days or st.per_period or st.daily or keys)
    quantities = sorted(st.quantities, key=lambda q: q.pos)
    if not has_schedule and not st.as_needed:
        # a lone number means nothing without a schedule
        for q in [q for q in quantities if q.bare]:
            st.unparsed.append((q.pos, q.text))
            quantities.remove(q)

    # the drug's own strength read as the dose when nothing else says how much
    simple_prefix = [p for p in prefix if not p[2] and p[1] in _MASS_UNITS]
    if (
        not quantities
        and not st.per_period
        and st.grid is None
        and len(prefix) == 1
        and len(simple_prefix) == 1
        and (has_schedule or st.as_needed)
        and not _count_unread(st)
    ):
        quantities = [_Qty(-1, simple_prefix[0][0], simple_prefix[0][1], "")]

    if (
        quantities
        and not st.as_needed
        and all(q.bare and _NEXT_NUMBER_CLOSE.match(st.s, q.end) for q in quantities)
        and any(unit for _, unit, _ in st.per_period)
    ):
        # "50 Hg - 1 cpr par jour, le matin": the count and its unit read as a daily amount;
        # a number without a unit just before it is no count (a strength whose unit was
        # misread, a speck read as a digit)
        for q in quantities:
            st.unparsed.append((q.pos, q.text))
        quantities = []

    unequal = False
    upi: float | None = None
    used: set[int] = set()
    if slot_units is None and keys and quantities and (per_active_day is None or per_active_day == len(keys)):
        assigned, used = _assign_to_slots(keys, quantities)
        if all(v is not None for v in assigned):
            slot_units = assigned
    if slot_units is not None:
        distinct = {v for v in slot_units if v is not None}
        if len(distinct) == 1:
            upi = distinct.pop()
        else:
            unequal = True
        if st.grid is None and not used:
            used = {0}
        elif st.grid is not None and upi is not None:
            used = _grid_quantities(st, quantities, upi)
    elif quantities:
        # "50 Hg - 1 cpr par jour": a number without a unit (a strength whose unit was
        # misread) is not the count when a number with its unit word follows
        # ("1 9 gélule", "7 1 comprimé": two numbers side by side, the first one stays read)
        first = next((i for i, q in enumerate(quantities) if not q.bare), 0)
        if first > 0 and not st.s[quantities[first - 1].end : quantities[first].pos].strip():
            first = 0
        upi = quantities[first].value
        used = {first}
    for i, q in enumerate(quantities):
        if i not in used and q.pos >= 0:
            st.unparsed.append((q.pos, q.text))

    period, intakes = _period_and_intakes(st, per_active_day, intakes_unknown)

    # units over the period
    units_per_period: float | None = None
    if slot_units is not None:
        total = sum(v or 0.0 for v in slot_units)
        if st.count is not None:
            units_per_period = st.count[0] * upi if upi is not None else None
        elif st.days is not None:
            units_per_period = total * st.days[0]
        else:
            units_per_period = total
    elif upi is not None and intakes is not None:
        units_per_period = upi * intakes
    elif st.per_period:
        value, _, pp_days = st.per_period[0]
        if st.days is not None and pp_days == 1:  # a daily total counts on active days only
            units_per_period = value * st.days[0]
        else:
            units_per_period = value / pp_days * period
    if upi is None and not unequal and st.per_period and intakes and units_per_period:
        upi = units_per_period / intakes
    units_per_day = units_per_period / period if units_per_period is not None else None

    unit = _choose_unit(st, quantities)
    strength = _pick_strength(strengths, st.local_strength, prefix)

    # ceilings, in the unit of the intake
    max_units: float | None = None
    ranged_intake = bool(quantities) and quantities[0].ranged
    for mx in st.maxes:
        ceiling = _ceiling(mx, unit, upi, strength, ranged_intake=ranged_intake)
        if ceiling is None:
            st.unparsed.append((mx.pos, mx.text))
        elif max_units is None or ceiling < max_units:
            max_units = ceiling

    daily: Strength | None = None
    if units_per_day is not None and st.as_needed and intakes is None:
        units_per_day = None  # "2 cp par jour si besoin": a ceiling more than a daily amount
    if units_per_day is not None:
        daily = _daily_dose(units_per_day, unit, strength)

    times = sorted({lb for lb in labels if lb in _TIME_ORDER}, key=_TIME_ORDER.index)
    st.unparsed.sort(key=lambda item: item[0])
    unparsed: list[str] = []
    for _, text in st.unparsed:
        if text and text not in unparsed:
            unparsed.append(text)
    return Posology(
        text=st.orig,
        units_per_intake=_round(upi) if upi is not None else None,
        unit=unit,
        intakes_per_day=intakes / period if intakes is not None else None,
        period_days=period,
        intakes_per_period=intakes,
        times_of_day=times,
        as_needed=st.as_needed,
        as_needed_reason=st.reason,
        # like intakes_per_day, an average kept precise (1/7): the engine multiplies it
        units_per_day=float(f"{units_per_day:.12g}") if units_per_day is not None else None,
        max_units_per_day=_round(max_units) if max_units is not None else None,
        duration_days=_round(st.duration) if st.duration is not None else None,
        daily_dose=daily,
        unparsed=unparsed,
    )


def _parse(text: str, strengths: Sequence[Strength]) -> Posology:
    orig = text[:_MAX_CHARS]
    s = fold_keep_length(orig)
    st = _State(s=s, orig=orig)
    prefix = _drug_prefix(s, orig, len(s))
    end = len(s)
    phase = _PHASE.search(s, prefix.end)
    if phase is not None and phase.start() > prefix.end:
        if not _STOP_PHASE.fullmatch(s, phase.start()):
            st.unparsed.append((phase.start(), orig[phase.start() :].strip()))
        end = phase.start()
    _scan(st, prefix.end, end)
    if len(text) > _MAX_CHARS:
        st.unparsed.append((_MAX_CHARS, text[_MAX_CHARS : _MAX_CHARS + 80].strip() + "…"))
    result = _build(st, strengths, prefix.strengths)
    return result.model_copy(update={"text": text}) if len(text) > _MAX_CHARS else result


def parse_posology(text: str, strengths: Sequence[Strength] = ()) -> Posology:
    """Parse a French posology (or a whole prescription line) into a :class:`Posology`.

    ``strengths`` are the per-unit strengths of the product's active substance(s); the
    daily dose is computed from them only when there is exactly one. Never raises: an
    unreadable text gives a Posology whose fields are None and whose ``unparsed`` lists
    what was not understood. See the module docstring for the reading rules.
    """
    if not isinstance(text, str) or not text.strip():
        return Posology(text=text if isinstance(text, str) else "")
    try:
        return _parse(text, strengths)
    except Exception:  # a posology must never break the analysis of a whole ordonnance
        return Posology(text=text, unparsed=[text.strip()[:200]])


def split_prescription_line(text: str) -> tuple[str, str | None]:
    """Split a whole prescription line into (drug description, posology or None).

    "Furosémide 40mg 1-0-0 QSP 3 mois" gives ("Furosémide 40mg", "1-0-0 QSP 3 mois"). When no
    drug description is recognised, the posology starts at the first construct the posology
    parser knows after the first word ("Doliprane 1 cp si douleur").
    """
    orig = text[:_MAX_CHARS]
    s = fold_keep_length(orig)
    lead = _LEAD.match(s)
    lead_end = lead.end() if lead else 0
    start: int | None = _drug_prefix(s, orig, len(s)).end
    if start is not None and start <= lead_end:
        first = _PREFIX_TOKEN.search(s, lead_end)
        found = _SCANNER.search(s, first.end()) if first else None
        start = found.start() if found else None
    if start is None:
        return text.strip(), None
    drug = orig[:start].strip(" ,;:-\t")
    posology = text[start:].strip(" ,;:-\t")
    return drug or text.strip(), posology or None
