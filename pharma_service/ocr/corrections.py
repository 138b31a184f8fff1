"""Fix the OCR confusions that change a posology, and only where the context is unambiguous.

Drug names need no fixing here: the normaliser matches them against the referential with
fuzzy matching. Posologies are numbers and a few words, where one misread character ("l cp"
for "1 cp", "1-O-1" for "1-0-1") changes the dose; each rule below needs a dose context on
both sides so that ordinary words are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rapidfuzz import fuzz, process

from pharma_service.text import fold

_UNIT_WORDS = (
    r"(?:cp|cpr|cps|comprim[eé]s?|g[eé]lules?|g[eé]l|sachets?|gouttes?|ampoules?|doses?|bouff[eé]es?"
    r"|c\.?\s?[aà]\s?[cs]|cuill[eè]res?|mg|ml|ui|inj|injections?|patchs?|suppositoires?|fois|prises?|unit[eé]s?"
    r"|applications?|pulv[eé]risations?|mesures?|capsules?)"
)

_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # "gélule" with its "l" read as an "i" or a "1": "géluie", "gélu1e"
    (re.compile(r"\b([gG])([eé])lu[i1]e(s?)\b"), r"\1\2lule\3"),
    # a "½" or "¼" glyph read with its small raised "1" as a quote: "‘2 cp", "‘4 cp" (the
    # count read alone, 2 or 4, would be four times the dose)
    (re.compile(rf"(?<![\w])[‘`’']\s?2(?=\s*{_UNIT_WORDS}\b)", re.IGNORECASE), "½"),
    (re.compile(rf"(?<![\w])[‘`’']\s?4(?=\s*{_UNIT_WORDS}\b)", re.IGNORECASE), "¼"),
    # stray marks before a line (a lost "1." read as ".", a speck read as "‘"): keep the indent
    (re.compile(r"^(\s*)(?:[.,'‘’`´_|:;~\"“”«»*•°!\[\]{}…=©®]+\s*)+(?=[A-ZÀ-Ý0-9])"), r"\1"),
    # "UI" read "UT" after a strength: "ZYMAD 80 000 UT" (no unit is written UT)
    (re.compile(r"(?<=\d)(\s*)UT\b"), r"\1UI"),
    # a speck read as a bullet before the patient: "- Monsieur Roger BERNARD, 74 ans"
    # (or before a patient fact: "· Poids 102 kg" would read as a bulleted drug line)
    (
        re.compile(
            r"^(\s*)[-–—•*>·.]\s*(?=(?:Monsieur|Madame|Mademoiselle|Mme|Mlle|M\.|Patiente?|Poids|Née?|Date"
            r"|Clairance|Âge|Age|Taille)\s)"
        ),
        r"\1",
    ),
    # ... or a list number: "2 . Monsieur LEFEBVRE Roland, 77 ans" (read as a drug line)
    (
        re.compile(
            r"^(\s*)\d{1,2}\s*[.)]\s*(?=(?:Monsieur|Madame|Mademoiselle|Mme|Mlle)\s|(?:Po[iï]ds|Clairance|Patiente?"
            r"|Née?|Âge|Age|Taille)(?![^\W\d_]))"
        ),
        r"\1",
    ),
    # a number marker read with a brace or an extra dot: "3} INEXIUM", "6). ZYMAD", "2]. X"
    (re.compile(r"^(\s*\d{1,2})\s*(?:[)}\]]\s*[.,:;]?|\)?\s*[.,]\s*[)}\]])\s*(?=[A-ZÀ-Ý])"), r"\1) "),
    # a number read with a colon, a comma or a question mark: "2: ACIDE", "9:PRAVASTATINE",
    # "9? OXYBUTYNINE" -> "2) ..."
    (re.compile(r"^(\s*\d{1,2})\s*[:;,?]\s*(?=[A-ZÀ-Ý]{3})"), r"\1) "),
    # a number whose "." was lost, before a name in capitals that is not a unit: "4 TEMESTA"
    (re.compile(rf"^(\s*\d{{1,2}})\s+(?!(?i:{_UNIT_WORDS})\b)(?=[A-ZÀ-Ý]{{4,}})"), r"\1) "),
    # a marker with a second dash or mark: "3- -FORLAX 10g" (the drug was read as the
    # posology of the line above)
    (re.compile(r"^(\s*\d{1,2}\s*[-.)])\s*[-–—~_.,]+\s*(?=[A-ZÀ-Ý]{3})"), r"\1 "),
    # a "Z" read "7" at the start of a name in capitals: "7YMAD 80 000 UI" (the line, which
    # began with a number, was read as the posology of the drug above)
    (re.compile(r"^(\s*)7(?=[A-Z]{4,}\b)"), r"\1Z"),
    # a marker read twice: "8) 8)CLOPIDOGREL 75 mg"
    (re.compile(r"^(\s*)(\d{1,2})\s*\)\s*\2\s*\)\s*(?=\S)"), r"\1\2) "),
    # a marker with a stop and a colon: "4.:FEBUXOSTAT 80 mg"
    (re.compile(r"^(\s*\d{1,2})\s*[.,]\s*[:;]\s*(?=[A-ZÀ-Ý]{3})"), r"\1) "),
    # a doubled marker: "6) ) HYDROXYCHLOROQUINE"
    (re.compile(r"^(\s*\d{1,2}\))[\s)]+(?=\S)"), r"\1 "),
    # "l cp", "I gélule", "| sachet", "l'sachet", "Î cp", "il comprimé", "{ gélule", "T cp" -> "1 ..."
    (
        re.compile(
            rf"(?<![\w/.,])[.,]?(?:[lI|!ÎÏíìï{{}}\[\]][':’‘`]?|il)\s*(?={_UNIT_WORDS}\b)", re.IGNORECASE
        ),
        "1 ",
    ),
    # ... its "c" read as "é" or "e" too: "l'ép le soir", "L'ép par jour", "l’epr le midi"
    (
        re.compile(r"(?<![\w/.,])[lLI|1][':’‘`]?\s*[éeÉE]p(r?)(?=\s+(?:le|par|au|matin|midi|soir)\b)"),
        r"1 cp\1",
    ),
    (re.compile(rf"(?<![\w/.,])T\s+(?={_UNIT_WORDS}\b)"), "1 "),
    # ... and a lone "t" before a unit at the start of a posology line: "t gél le matin"
    (re.compile(rf"^(\s*)t\s+(?={_UNIT_WORDS}\b)"), r"\g<1>1 "),
    # a count glued to its unit, a unit glued to "le": "1cple soir", "2 cprle matin"
    (re.compile(r"(?<![\w,.])(\d)(?=(?:cpr?|g[eé]l)(?:le)?\b)"), r"\1 "),
    (re.compile(r"(?<=\b\d )(cpr?|g[eé]l)le\b"), r"\1 le"),
    (re.compile(r"(?<=\d)\s?(g[eé]lule|comprim[eé]|sachet)le(?=\s+(?:matin|midi|soir)\b)"), r" \1 le"),
    # "cp/" with its "j" lost or read as a mark at the end of a line: "1 cp/}", "1 cp/;"
    (
        re.compile(r"\b(cpr?|comprim[eé]s?|g[eé]lules?|g[eé]l|sachets?)/[})\];:!|]?\s*$", re.IGNORECASE),
        r"\1/j",
    ),
    # ... or its "/j" read as ")": "1 cp)" at the end of a line with no "(" before it
    (
        re.compile(r"^([^(]*\d\s?(?:cpr?|comprim[eé]s?|g[eé]lules?|g[eé]l|sachets?))\)\s*$", re.IGNORECASE),
        r"\1/j",
    ),
    # a dash schedule written with "=": "1=0=0"
    (re.compile(r"(?<![\w=])(\d)\s?=\s?(\d)\s?=\s?(\d)(?![\w=])"), r"\1-\2-\3"),
    # a speck read as a letter glued after a dash schedule: "0-0-1T"
    (re.compile(r"(?<![\w-])(\d-\d-\d)(?:[TIl|]|_+)(?![\w-])"), r"\1"),
    # a dash schedule with a mark glued before it: "1 cp.0-0-1", "--1-0-0"; its first dash
    # read as a dot: "0.0-1"
    (re.compile(r"(?<=[a-zé])[.,;:](?=\d-\d-\d(?![\d-]))", re.IGNORECASE), " "),
    (re.compile(r"(?<![\w-])-{2,3}\s*(?=\d-\d-\d(?![\d-]))"), "- "),
    (re.compile(r"((?:^|[:;])\s*)([01])[.,]([01])-([0-2])(?![\d.,])"), r"\1\2-\3-\4"),
    # a count glued to its unit and to "fois": "2cp3 fois par jour"
    (re.compile(r"(?<![\w,.])(\d)(cpr?)(\d)(?=\s*fois\b)"), r"\1 \2 \3"),
    # "jour" misread after "par" in a dose line: "par jov", "par j00r", "par jouûr", "par Joe"
    (
        re.compile(rf"\b((?i:{_UNIT_WORDS})\s+[Pp]ar)\s+(?!jour\b)([jJ][a-zûùoO0]{{1,4}})(?![\w])"),
        lambda m: f"{m.group(1)} jour" if fuzz.ratio(m.group(2).lower(), "jour") >= 50 else m.group(0),
    ),
    # a quote read before "jour": "1 fois par ‘jour"
    (re.compile(r"\b([Pp]ar)\s*['‘’`]\s*(?=jour\b)"), r"\1 "),
    # "cp/jj" or "cp/i" for "cp/j"
    (re.compile(rf"\b({_UNIT_WORDS})/(?:jj|i)\b", re.IGNORECASE), r"\1/j"),
    # "le:soir", "par.jour", "1: fois", "matinet soir": punctuation or a lost space in a schedule
    (re.compile(r"\b(le|au|par)[:;.,]+\s*(?=(?i:matin|midi|soir|coucher|jour)\b)"), r"\1 "),
    # "le" glued to its time, a unit glued to a schedule: "un comprimé lesoir", "1 cp0-0-1"
    (re.compile(r"\ble(?=(?:matin|midi|soir)\b|matin)"), "le "),
    # "matin" glued to "à jeun" after it: "le matinjen", "lematinajeen"
    (re.compile(r"\bmatin(?=a?je)"), "matin "),
    # a handwritten "2" read "Z" in a dose: "Z-o-Z", "Z fois par jour", "Z comprimés", "Z,5 mg"
    (re.compile(r"(?<![\w-])Z(?=-[\doOZ]-)|(?<=[\doO]-)Z(?=-)|(?<=[\doO]-[\doO]-)Z(?![\w-])"), "2"),
    (re.compile(r"(?<![\w])Z(?=\s+(?:fois|comprim|cpr?\b|g[eé]l|sachet))"), "2"),
    (re.compile(r"(?<![\w])Z(?=,\d\s?mg\b)"), "2"),
    (re.compile(r"\b(cpr?)(?=\d-\d-\d\b)"), r"\1 "),
    # a schedule with "à renouveler" glued to it ("1-0-0a renouveler"), or a dash before it
    # at the start of a line ("-0-0-1")
    (re.compile(r"(?<=\d-\d-\d)[aà](?=\s+renouvel)"), " à"),
    (re.compile(r"^(\s*)[-–—](?=\d-\d-\d\b)"), r"\1"),
    # a count with a brace read after it: "1} Cp/j"
    (re.compile(r"(?<=\b\d)[}\])](?=\s*(?i:cp|cpr|comprim|g[eé]l|sachet))"), ""),
    # "Un. Comprime 3. fois Par jour": stops read after a count
    (re.compile(r"(?<=\b\d)[.,]\s+(?=fois\b)"), " "),
    (re.compile(r"\b([Uu]ne?)[.,](?=\s+(?i:comprim|g[ée]l|sachet|cp|ampoule))"), r"\1"),
    (re.compile(r"(?<=\b\d)[:;](?=\s*fois\b)"), ""),
    (re.compile(r"\bmatinet\b"), "matin et"),
    (re.compile(r"\b(fois)[.,;:](?=par\b)"), r"\1 "),
    (re.compile(r"\b(chaque)(?:[.,;:]|\s+[a-zé](?=\s))\s*(?=repas\b)"), r"\1 "),
    # "par" lost between "fois" and "jour": "1 Sachet 3 fois jour"
    (re.compile(r"(?<=\d )fois\s+(?=jour\b)"), "fois par "),
    # a mark of a handwritten schedule read twice: "1-0o-1", "1-1-l1"
    (re.compile(r"(?<=\d-)(?:0[oO]|[oO]0|oo)(?=-\d\b)"), "0"),
    (re.compile(r"(?<=\d-\d-)(?:l1|1l|ll|I1|1I)(?![\w-])"), "1"),
    # a schedule of 0s and 1s whose last dash was lost: "1-01", "0-01"
    (re.compile(r"(?<![\w/.,-])([01])-([01])([01])(?![\w/.,-])"), r"\1-\2-\3"),
    # "O" before a spaced schedule: "O- 0-1"
    (re.compile(r"(?<![\w-])[Oo](?=\s?-\s?\d\s?-\s?\d)"), "0"),
    # a count glued to its unit and the next word: "1cplle matin", "1cpsi anxiété", "cp3 fois"
    (re.compile(r"(?<![\w,.])(\d)\s?(cpr?)l?(le|si)\b"), r"\1 \2 \3"),
    (re.compile(r"\b(cpr?)(\d)(?=\s*fois\b)"), r"\1 \2"),
    # "fois par jour" glued or misread: "foispajour", "fotsparjour", "2'fois"
    (re.compile(r"\bfo[it]s\s?pa?r?\s?jour\b"), "fois par jour"),
    (re.compile(r"(?<=\d)['’]\s?(?=fois\b)"), " "),
    # an "O" in a schedule written with spaces: "1- O- 1"
    (re.compile(r"(?<=\d)(\s*-\s*)[Oo](?=\s*-\s*\d)"), r"\g<1>0"),
    # "et" glued to the time after it, a unit glued to "au": "midi etsoir", "1 cprau coucher"
    (re.compile(r"\bet(?=(?:matin|midi|soir)\b)"), "et "),
    (re.compile(r"(?<=\d )(cpr?|g[eé]l)au\b"), r"\1 au"),
    # "op" for "cp" after a count, before its schedule: "1 op par jour"
    (re.compile(r"(?<![\w/.,])(\d|[lI|]) op(?=\s+(?:par|le|au|matin|midi|soir)\b)"), r"\1 cp"),
    # a stop read after a duration's number: "pendant 3. mois" (the 3 was taken as a count)
    (re.compile(r"(?<=\b\d)\.\s+(?=(?:jours?|mois|semaines?)\b)"), " "),
    # a strength glued to the count after it by a dash: "FORLAX 10 g-1 sachet le matin"
    (
        re.compile(r"(?<=\d)(\s?(?:mg|g|µg|ml|UI))-(?=\d\s*(?:cp|cpr|comprim|g[eé]l|sachet|ampoule)\w*\b)"),
        r"\1 - ",
    ),
    (re.compile(r"\b(le|et|au)\s+soit\b"), r"\1 soir"),  # not "soit 2 cp par jour"
    (re.compile(r"\b[fi]ous(?=\s+les\s+(?:jours|mois|semaines|\d))"), "tous"),
    # "mg -1-1-1": the dash of an inline posology lost its space
    (re.compile(r"(?<=[a-zà-ÿ.])\s-(?=\d-\d-\d\b)"), " - "),
    # a lost list number read as a letter and a stop before a drug and its strength:
    # "À. VASTAREL 20 mg" (not "M. DUPONT": no strength follows a name)
    (
        re.compile(
            r"^(\s*(?:[-•*]\s+)?)[A-ZÀ-Ý]\.\s+(?=[A-Z]{3,}[A-Z -]*\s\d+(?:[.,]\d+)?\s?(?:mg|g|µg|ml|UI)\b)"
        ),
        r"\1",
    ),
    # a count followed by a speck read as a stop, which makes it a list number: "1. cp le
    # matin" under its drug (no drug is named "cp" or "comprimé")
    (re.compile(rf"^(\s*\d)[.,]\s+(?=(?i:{_UNIT_WORDS})\b)"), r"\1 "),
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
    # a dash schedule written with strokes and rings: "l-o-o", "I-o-l" (three single marks,
    # each a 0 or a 1, nothing else on either side; capitals alone, "O-I-O", may be initials)
    (
        re.compile(r"(?<![\w-])(?=.{0,4}[01lo])([01lI|oO])-([01lI|oO])-([01lI|oO])(?![\w-])"),
        lambda m: "-".join("0" if ch in "oO0" else "1" for ch in m.groups()),
    ),
    # "jour" misread after "par" or "fois par": "par jo", "par jur", "Par jou"
    (re.compile(r"\b([Pp]ar)[.,]?\s*(?:jo|jou|jur|jor|jovr|jouv|jaur|jo0r|j0ur|joor|jcur)\b"), r"\1 jour"),
    (re.compile(r"\bpa[ir]?j[o0][uv]r\b"), "par jour"),
    # "par" with its "r" misread: "paï jour"
    (re.compile(r"\b([Pp]a)[ïîi](?=\s+jour\b)"), r"\1r"),
    # "gél" with its "g" read as a "d", glued to its count: "1dél si diarrhée"
    (re.compile(r"(?<![\w.,])(\d)\s?dél\b"), r"\1 gél"),
    # ... its "j" read as a "1" or an "i": "par 1 ovr", "Par 10 vr", "par iour"
    (re.compile(r"\b([Pp]ar)\s+(?:1\s?[o0]\s?[uv]r|i[o0][uv]r)\b"), r"\1 jour"),
    # "cp/j" glued to "QSP", a unit glued to its schedule by a stop: "1 cp/jQSP 3 mois",
    # "2,5 mg.1-0-0"
    (re.compile(r"(?<=/j)(?=Q\.?S?\.?P\b)"), " "),
    (re.compile(r"(?<=\d)(\s?(?:mg|ml|µg|UI))[.,:](?=\d(?:-\d){2,3}\b)"), r"\1 "),
    # a time of day glued to "QSP": "le matinQP 3 mois"
    (re.compile(r"((?i:matin|midi|soir|coucher|jour))(?=(?:Q\.?S?\.?P|QP)\b)"), r"\1 "),
    # a unit glued to the count that follows it: "5 mg1 cpr le soir"
    (re.compile(r"(?<=\d)(\s?(?:mg|ml|µg|g))(?=\d\s*(?:cp|cpr|comprim|g[ée]l|sachet)\b)"), r"\1 "),
    # an "o" read for a "0" in a number before its unit: "8o ml/min" (read as 8), "5o mg"
    (
        re.compile(r"\b\d[\doO]*[oO][\doO]*(?=\s?(?:ml|mg|kg|ans|UI|µg|g|microgrammes?)\b)"),
        lambda m: m.group(0).replace("o", "0").replace("O", "0"),
    ),
    # "20 rng" / "20 mq" for "mg"
    (re.compile(r"(?<=\d)\s?(?:rng|mq|rnq|my|ni|m9|ME)\b"), " mg"),
    # "15 mi" / "15 rnl" for "ml"
    (re.compile(r"(?<=\d)\s?(?:mi|rnl)\b"), " ml"),
    # marks read between a name and its strength, or a strength and its unit: "SOLUPRED:20 mg",
    # "Mopral! 20 mg", "Acideacetylsalicylique.75 mg", "Sertraline 50' mg"
    # (a colon or stop only glued on both sides: "Posologie : 20 mg" is left alone)
    (re.compile(r"(?<=[^\W\d_]{3})(?:[!'’]+\s?|[:.])(?=\d+(?:[.,]\d+)?\s?(?:mg|g|µg|ml|UI)\b)"), " "),
    (re.compile(r"(?<=\d)['’‘`!]+(?=\s?(?:mg|g|µg|ml|UI)\b)"), ""),
    # a weight alone on its line, its "g" cut by the handwriting detector: "62 k", "66 k kg"
    # (or its "k" doubled: "67g kg", "52 k Kg", "68kKg"; the number doubled: "55 55k kg")
    (re.compile(r"^(\s*)(\d{2,3})\s+\2(?=\s*[kK])"), r"\1\2"),
    (re.compile(r"^(\s*\d{2,3})\s*[gkK]{0,2}\s*[kK][gG]?[\s:;.,]*$"), r"\1 kg"),
    # ... or its "k": "74g" alone on its line (30 g or more: not a dose written alone)
    (re.compile(r"^(\s*(?:[3-9]\d|1\d\d))\s*g\s*$"), r"\1 kg"),
    # "un" misread before a unit word ("ur comprimé", "on Comprime", "(n Compi", "Cn sachet"),
    # "midi" between "matin" and "soir"
    (
        re.compile(
            r"(?<![\w'])(?:ur|on|in|vn|cn|\(n)(?=\s+(?:comprim|g[eé]l|sachet|ampoule)\w*\b)", re.IGNORECASE
        ),
        "un",
    ),
    # (or any short mark with a "d" there: "mudh", "rudi", "m di", "m1d1"; its "et" too: "éc", "ef")
    (re.compile(r"(?<=\bmatin, )(?:mich|midl|rnidi|mid|medi|mldi|nidi)(?=,? et soir\b)"), "midi"),
    (
        re.compile(
            r"(?<=\bmatin, )(?!midi\b)(?=[a-z0-9 ]{2,5}\b)[a-z0-9]{0,3} ?d[a-z0-9]{0,2}(?: ?[A-Z])?"
            r",? (?:et|ef|[ée]c) (?i:soir)\b"
        ),
        "midi et soir",
    ),
    # a speck read as a stop inside "petit déjeuner" makes a second intake of it
    (re.compile(r"\b(petit)[.,;:]\s*(?=d[ée]jeuner\b)", re.IGNORECASE), r"\1 "),
    # ... and "petit" misread ("au pett déjeuner", "au peus déjeuner"): "déjeuner" alone
    # is a second intake, at noon
    (re.compile(r"\b(au|a|à) (?!petit\b)p[a-zé]{2,4}(?= d[ée]jeuner\b)", re.IGNORECASE), r"\1 petit"),
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


# A list marker ("1.", "2)") read from a noisy scan as a few short marks: "N . ACIDE ...",
# "@ . SIMVASTATINE 20 mg", "OO OR Oo NN NO RAMIPRIL 5 mg". The drug then hides behind
# them and is read as the posology of the line above. Removed only before a name in
# capitals on a line that holds a strength.
_MARKER_JUNK = re.compile(
    r"^(?P<indent>\s*(?:\d{1,2}\)\s+)?)(?P<junk>(?:[^\s]{1,3}\s+){1,10}?)"
    r"(?=[A-ZÀ-Ý][A-ZÀ-Ý'-]{3,}\b)"
)
_STRENGTH = re.compile(r"\d\s*(?:mg|g|µg|mcg|microgrammes?|ui|ml)\b", re.IGNORECASE)
_TITLES = frozenset({"dr", "pr", "m", "mr", "mme", "mlle", "n°", "le", "la", "né", "née"})
_PROPER_MARKER = re.compile(r"^\s*(?:\d{1,2}\s*[).°/-]|[-•*·–—>])\s*[A-ZÀ-Ýa-zà-ÿ]")


def _strip_marker_junk(text: str) -> str:
    m = _MARKER_JUNK.match(text)
    if m is None or not _STRENGTH.search(text, m.end()):
        return text
    junk = m.group("junk").split()
    if not m.group("indent").strip() and _PROPER_MARKER.match(text):
        return text  # "1 - AMLOR", "- DOLIPRANE": a marker, not junk
    if re.fullmatch(_UNIT_WORDS, junk[-1].strip(".,:;"), re.IGNORECASE) or any(
        t.strip(".:").lower() in _TITLES for t in junk
    ):
        return text  # "1 cp ASPEGIC" is a dose; "Dr MARTIN", "Mme X" are people
    if any(len(t) >= 3 and t.isalpha() and t.islower() for t in junk):
        return text  # a real word ("les", "par") is not a misread mark
    return m.group("indent") + text[m.end() :]


# Patient-header confusions that lose a fact: "Néele 24/02/1948", "ré le 01/11/1940"
# (birth), "(81 ane)", "(8S ans)" (age), "Le ler août" (date), "M NICOLAS", "M.Claude"
# (civility). Each needs its context: a date after "le", a number before "ans".
_DATE_AHEAD = r"(?=\s*\d{1,2}\s*[/.-]\s*\d{1,2}\s*[/.-]\s*\d{2,4})"
_MONTH = (
    r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre"
    r"|d[ée]cembre)"
)
_MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
    "novembre", "décembre",
)  # fmt: skip


def _fix_month(m: re.Match[str]) -> str:
    """ "le 15 avri 2025", "10 juilet 2026": a misread month name between a day and a year."""
    word = m.group("month")
    if re.fullmatch(_MONTH, word, re.IGNORECASE):
        return m.group(0)
    found = process.extractOne(
        fold(word), [fold(n) for n in _MONTH_NAMES], scorer=fuzz.ratio, score_cutoff=75
    )
    if found is None:
        return m.group(0)
    return m.group(0).replace(word, _MONTH_NAMES[found[2]], 1)


_CIVILITIES = ("Madame", "Monsieur", "Mademoiselle")


def _fix_civility(m: re.Match[str]) -> str:
    """ "Madarne", "Madane", "Monsieux" before a name: the sex hangs on this word."""
    word = m.group(0)
    folded = fold(word)
    if folded in ("madame", "monsieur", "mademoiselle"):
        return word
    folded = folded.replace("rn", "m")  # the commonest misread of an "m"
    found = process.extractOne(folded, [c.lower() for c in _CIVILITIES], scorer=fuzz.ratio, score_cutoff=80)
    if found is None or abs(len(found[0]) - len(folded)) > 1:
        return word
    return _CIVILITIES[found[2]]


_BEFORE_A_NAME = r"(?=\s*:?\s*[A-ZÀ-Ý][A-Za-zÀ-ÿ'-]+)"


# A clearance line read badly: its value and unit read, its words not.
_CLEARANCE_LINE = re.compile(
    r"^(?P<indent>\s*)(?P<label>[^\W\d_][^\d:]{3,40}?)\s*:?\s*(?P<value>\d{1,3})\s*"
    r"m[l1]?\s*/\s*[mw]?[i1]?n\b\.?\s*$"
)


def _fix_clearance(m: re.Match[str]) -> str:
    """ "Claiancecreatinine 58 ml/min", "laincedelacreatinne 58 ml/in": a clearance line whose
    words are misread or glued past what the header-word fix mends; the parser reads
    "Clairance : 58 ml/min"."""
    label = fold(m.group("label"))
    if "clairance" in label or not ("cl" in label or "creat" in label or "ance" in label):
        return m.group(0)
    return f"{m.group('indent')}Clairance : {m.group('value')} ml/min"


_HEADER_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    # a "½" or "¼" glyph read with its small raised "1" as a quote: "‘2 cp", "‘4 cp" (the
    # count read alone, 2 or 4, would be four times the dose)
    (re.compile(rf"(?<![\w])[‘`’']\s?2(?=\s*{_UNIT_WORDS}\b)", re.IGNORECASE), "½"),
    (re.compile(rf"(?<![\w])[‘`’']\s?4(?=\s*{_UNIT_WORDS}\b)", re.IGNORECASE), "¼"),
    # civility: "Mrne"/"Mnie" for "Mme" ("rn" read for "m"), a misread "Madame" or "Monsieur"
    (re.compile(rf"(?<![\w.])M(?:rn|ni|n|rm)e{_BEFORE_A_NAME}"), "Mme"),
    (re.compile(rf"(?<![\w.])M[a-zé]{{4,11}}{_BEFORE_A_NAME}"), _fix_civility),
    # "RPPS" misread before its number: "REPS : 10132213066", "RPES : 10475400629"
    (re.compile(r"\bR(?:EP|PE|EE)S\b(?=\s*:?\s*\d)"), "RPPS"),
    # "Tél" read "Té1" before a phone number: with a speck before it, it read as a drug line
    (re.compile(r"\b(T[ée])[1I|](?=\.?\s*:?\s*0\d)"), r"\1l"),
    # "le" read "1e" or "Ie" before a date: "Né 1e 02/07/1930"
    (re.compile(rf"(?<![\w/])[1I|]e{_DATE_AHEAD}"), "le"),
    # a month name misread between a day and a year
    (
        re.compile(r"(?<![\w/])(?:\d{1,2}|1er)\s+(?P<month>[^\W\d_]{3,10})\.?\s+(?:19|20)\d{2}\b"),
        _fix_month,
    ),
    # born: "Néele", "néele", "Nee le", "ré le", "Né le", "Nee'le", "Née) le" before a date
    (
        re.compile(rf"(?<![\w/])[NnRr][ée](?P<e>[ée]?)\)?\s*['’‘`]?\s*l[eé]{_DATE_AHEAD}"),
        r"né\g<e> le",
    ),
    # glued: "Datedenaissance:1001/1937"; a birth date whose first "/" was lost ("1001/1937")
    (re.compile(r"\b(Date)\s?de\s?(naissance)\b", re.IGNORECASE), r"\1 de \2"),
    (re.compile(r"(?<=naissance)(\s*:?\s*)(\d{2})(\d{2})/((?:19|20)\d{2})\b", re.IGNORECASE), r"\1\2/\3/\4"),
    # a mark between a number and its unit: "77'ans", "92. ans", "Poids 78. kg"
    (re.compile(r"(?<=\d)\s*['‘’`.,]\s*(?=ans\b)"), " "),
    (re.compile(r"(?<=\d)\s*['‘’`.,]\s*(?=kg\b)"), " "),
    # "Date.de naissance"
    (re.compile(r"\b(Date)[.,:;]\s*(?=de\s+naissance\b)", re.IGNORECASE), r"\1 "),
    (re.compile(r"\b(Date\s+de)[.,:;]\s*(?=naissance\b)", re.IGNORECASE), r"\1 "),
    # years of age: "81 ane", "72 ‘an)", "85 ars"; "8S ans" -> "85 ans"
    (re.compile(r"(?<=\d)[Ss](?=\s*ans\b)"), "5"),
    (re.compile(r"(?<=\b\d\d)\s*['‘’`]?\s*(?:ane|ars|ams|anc|aus|an|ons|ens)(?=\s*[)}\]]|\s*$)"), " ans"),
    # a date with a space read inside a number: "Le 17/1 0/2025"
    (re.compile(r"\b(\d{1,2}/\d) (\d/(?:19|20)\d{2})\b"), r"\1\2"),
    # "kg" read "Ky" or "Kq" after a weight: "POIs e 66 Ky"
    (re.compile(r"(?<=\d)\s?[kK][yq]\b"), " kg"),
    # "Le ler août 2025", "le Ier mai"
    (re.compile(rf"(?<![\w/])[lI|]er(?=\s+{_MONTH}\b)", re.IGNORECASE), "1er"),
    # "Ne(e le 19/12/1925": the printed "Né(e)" with its bracket lost (no sex in it)
    (re.compile(r"(?<![\w/])[NnR][ée]\(e\)?(?=\s*l[eé]\s*\d)"), "Né(e)"),
    # ... or its bracket read as an "l": "Néle) le 18/06/1958"
    (re.compile(r"(?<![\w/])[NnR][ée]le\)(?=\s*l[eé]\s*\d)"), "Né(e)"),
    # "Daïe de naissance", "Dafe de naissance"
    (re.compile(r"\bDa[^\Wt]e(?=\s+de\s+naissance\b)"), "Date"),
    # a birth date whose second "/" was lost: "20/021948"
    (re.compile(r"\b(\d{2}/\d{2})((?:19|20)\d{2})\b"), r"\1/\2"),
    # a civility glued to the name: "MonsieurJsgh", "MadameDUPONT"
    (re.compile(r"\b(Monsieur|Madame|Mademoiselle)(?=[A-ZÀ-Ý])"), r"\1 "),
    # an age glued to the name by a mark: "Rou.76 ans"
    (re.compile(r"(?<=[^\W\d_])[.,](?=\d{2,3}\s*ans\b)"), ", "),
    # civility: "M NICOLAS Bernard" (the dot lost), "M.Claude LE GALL" (the space lost)
    (
        re.compile(r"^(\s*(?:Patient\s*:\s*)?)M(?:\s+|\.(?=[A-ZÀ-Ý]))(?=[A-ZÀ-Ý][A-ZÀ-Ýa-zà-ÿ'-]+\b)"),
        r"\1M. ",
    ),
]


def _fix_header(text: str) -> str:
    for pattern, replacement in _HEADER_RULES:
        if pattern is _HEADER_RULES[-1][0] and _STRENGTH.search(text):
            continue  # "M DOLIPRANE 1000 mg": a mark before a drug, not a man
        text = pattern.sub(replacement, text)
    return text


# Times of day misread in a posology: the number of intakes is counted from them.
_TIMES = ("matin", "coucher")
_TIME_MISREADS = {
    "midj": "midi",
    "mldi": "midi",
    "rnidi": "midi",
    "inatin": "matin",
    "scir": "soir",
    "sofr": "soir",
}
_DOSE_CONTEXT = re.compile(rf"(?:\d|\bune?)\s*{_UNIT_WORDS}\b|\d-\d-\d", re.IGNORECASE)


def _fix_schedule(text: str) -> str:
    if _DOSE_CONTEXT.search(text) is None:
        return text

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        folded = fold(word)
        if folded in _TIME_MISREADS:
            return _TIME_MISREADS[folded]
        if not word.islower() or folded in _TIMES or len(folded) < 5:
            return word
        found = process.extractOne(folded, _TIMES, scorer=fuzz.ratio, score_cutoff=79)
        if found is None or len(found[0]) != len(folded):
            return word
        return found[0]

    text = re.sub(r"(?<![\w'])[^\W\d_]{4,7}(?![\w'])", fix, text)
    # a speck read as ":" or "*" after the posology: "1 sachet le matin:" loses the dose
    return re.sub(r"(?<=[^\W\d_])\s*[:;*…_|~]+\s*$", "", text)


# The handwriting reader's model was trained on Chinese text too: it writes punctuation in
# its full-width forms ("：", "）", "。"), which no rule here and no parser expects.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {
    0x3002: ".",
    0x3001: ",",
    0x3000: " ",
}


def correct_line(text: str) -> str:
    text = text.translate(_FULL_WIDTH)
    for _ in range(2):  # "1-O-O": the second O has a digit before it only after the first fix
        for pattern, replacement in _RULES:
            text = pattern.sub(replacement, text)
    text = _fix_schedule(_strip_marker_junk(text))
    return _CLEARANCE_LINE.sub(_fix_clearance, _fix_header_words(_fix_header(text)))
