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
_HYDRATES = [
    "hydrate",
    "monohydrate",
    "dihydrate",
    "trihydrate",
    "tetrahydrate",
    "pentahydrate",
    "hexahydrate",
    "heptahydrate",
    "octahydrate",
    "nonahydrate",
    "decahydrate",
    "dodecahydrate",
    "sesquihydrate",
    "hemihydrate",
    "hemiheptahydrate",
]
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
        "etexilate",
        "mofetil",
        # French adjectives agree in gender: "trihydraté" and "trihydratée" both occur.
        *_HYDRATES,
        *(word + "e" for word in _HYDRATES),
    }
)
_SALT_WORDS = frozenset(_SALT_PREFIXES) | _SALT_SUFFIXES
# Water of crystallisation and physical grade say nothing of the moiety.
_WATER_WORDS = frozenset(
    {"anhydre", "cristallise", "leger", "lourd", "precipite", *_HYDRATES, *(word + "e" for word in _HYDRATES)}
)
# A salt word is only dropped when something other than a bare ion remains:
# "sulfate de magnesium" is magnesium sulfate, not "magnesium".
_BARE_IONS = frozenset(
    {"sodium", "potassium", "calcium", "magnesium", "fer", "zinc", "lithium", "aluminium", "dimethyle"}
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
    >>> substance_key("OXYCODONE (CHLORHYDRATE D')")
    'oxycodone'
    >>> substance_key("ATORVASTATINE CALCIQUE TRIHYDRATÉE")
    'atorvastatine'
    >>> substance_key("SULFATE DE MAGNÉSIUM")
    'sulfate de magnesium'
    """
    words = fold(name).split()
    if not words:
        return ""
    words = [w for w in words if w not in _WATER_WORDS] or words
    # BDPM inverts some names: "OXYCODONE (CHLORHYDRATE D')", "CLAVULANIQUE (ACIDE)".
    if len(words) >= 3 and words[-1] in {"de", "d"}:
        words = [*words[1:-1], words[-1], words[0]]
    elif len(words) >= 2 and words[-1] == "acide":
        words = ["acide", *words[:-1]]
    stripped = words
    salt_run = 0
    while salt_run < len(words) and (
        words[salt_run] in _SALT_WORDS or (salt_run and words[salt_run] == "acide")
    ):
        salt_run += 1
    if (
        salt_run
        and words[0] in _SALT_PREFIXES
        and salt_run + 1 < len(words)
        and words[salt_run] in {"de", "d"}
    ):
        stripped = words[salt_run + 1 :]
    while len(stripped) > 1 and stripped[-1] in _SALT_SUFFIXES:
        rest = stripped[:-1]
        if rest[-1] in {"de", "d"} or (len(rest) == 1 and rest[0] in _SALT_PREFIXES):
            break  # "BENZOATE DE MÉGLUMINE", "CITRATE DIPOTASSIQUE": the ion is the moiety
        if len(rest) == 1 and len(rest[0]) <= 2:
            break  # "L-ARGININE", "DL-LYSINE": a stereo-descriptor is not a moiety
        stripped = rest
    if len(stripped) == 1 and stripped[0] in _BARE_IONS and len(words) > 1:
        return " ".join(words)  # "SULFATE DE MAGNÉSIUM" is not magnesium
    return " ".join(stripped)
