"""Text keys shared by the referential, the knowledge base and the parsers.

Every name that is compared (a BDPM substance, an ANSM thesaurus side, a word
typed by a prescriber) goes through :func:`fold` first, so that accents, case
and punctuation never decide whether two names match.
"""

from __future__ import annotations

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")

# Salt and hydrate words that BDPM writes around an active moiety
# ("CHLORHYDRATE DE METFORMINE", "ATORVASTATINE CALCIQUE TRIHYDRATÉE").
# Interactions and ATC codes are defined on the moiety, so keys drop them.
_SALT_PREFIXES = (
    "chlorhydrate",
    "dichlorhydrate",
    "monochlorhydrate",
    "bromhydrate",
    "besilate",
    "maleate",
    "hydrogenomaleate",
    "fumarate",
    "hemifumarate",
    "tartrate",
    "hemitartrate",
    "bitartrate",
    "succinate",
    "hemisuccinate",
    "mesilate",
    "dimesilate",
    "tosilate",
    "embonate",
    "acetate",
    "sulfate",
    "hemisulfate",
    "citrate",
    "dihydrogenocitrate",
    "phosphate",
    "valerate",
    "propionate",
    "dipropionate",
    "oxalate",
    "nitrate",
    "lactate",
    "gluconate",
    "lysinate",
    "hyclate",
    "xinafoate",
    "furoate",
    "pivalate",
    "malate",
    "camsilate",
    "napadisilate",
    "hydrogenotartrate",
    "mesylate",
    "besylate",
    "hydrogenosuccinate",
    "digluconate",
    "diacetate",
)
_SALT_SUFFIXES = frozenset(
    {
        "sodique",
        "disodique",
        "monosodique",
        "potassique",
        "dipotassique",
        "calcique",
        "magnesique",
        "zincique",
        "anhydre",
        "hydrate",
        "monohydrate",
        "dihydrate",
        "trihydrate",
        "tetrahydrate",
        "pentahydrate",
        "hexahydrate",
        "sesquihydrate",
        "hemihydrate",
        "arginine",
        "erbumine",
        "tert",
        "butylamine",
        "trometamol",
        "meglumine",
        "lysine",
        "base",
        "medoxomil",
        "olamine",
        "cilexetil",
    }
)
# A salt word is only dropped when something other than a bare ion remains:
# "sulfate de magnesium" is magnesium sulfate, not "magnesium".
_BARE_IONS = frozenset(
    {"sodium", "potassium", "calcium", "magnesium", "fer", "zinc", "lithium", "aluminium"}
)


def fold(text: str) -> str:
    """Lower-case, strip accents, turn every non-alphanumeric run into one space."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_only = ascii_only.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    return _NON_ALNUM.sub(" ", ascii_only.lower()).strip()


def substance_key(name: str) -> str:
    """The key of an active moiety: folded, salts and hydrates removed.

    >>> substance_key("CHLORHYDRATE DE METFORMINE")
    'metformine'
    >>> substance_key("ATORVASTATINE CALCIQUE TRIHYDRATÉE")
    'atorvastatine'
    >>> substance_key("SULFATE DE MAGNÉSIUM")
    'sulfate de magnesium'
    """
    words = fold(name).split()
    if not words:
        return ""
    stripped = list(words)
    if len(stripped) > 2 and stripped[0] in _SALT_PREFIXES and stripped[1] in {"de", "d"}:
        stripped = stripped[2:]
    while len(stripped) > 1 and stripped[-1] in _SALT_SUFFIXES:
        stripped = stripped[:-1]
    if len(stripped) == 1 and stripped[0] in _BARE_IONS and len(words) > 1:
        return " ".join(words)
    # BDPM sometimes inverts acids: "CLAVULANIQUE (ACIDE)" is "acide clavulanique".
    if len(stripped) > 1 and stripped[-1] == "acide":
        stripped = ["acide", *stripped[:-1]]
    return " ".join(stripped)
