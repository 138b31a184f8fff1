"""Turn a prescribed line into substances, strengths and (when identifiable) a product.

Matching order, most certain first:
1. exact names over word n-grams, longest first: substance names and synonyms
   (salts, curated aliases), BDPM brand names ("ZECLAR", "SIMVASTATINE BIOGARAN"),
   then the first word of a brand ("LEXOMIL" for "LEXOMIL ROCHE");
2. fuzzy matching (rapidfuzz) of the words left over, for OCR-like typos.
A line whose drug cannot be found is ``unresolved``: callers report it, they never
treat it as "no risk found".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process

from pharma_service.models import (
    LineStatus,
    MedicationInput,
    MedicationLine,
    MedicationList,
    Posology,
    Product,
    Strength,
    SubstanceRef,
)
from pharma_service.parsing.posology import parse_posology
from pharma_service.referential.store import Component, Referential, Specialty
from pharma_service.text import fold

# Words that describe the form or packaging, never the drug itself.
_FORM_WORDS = frozenset(
    [
        "cp",
        "cpr",
        "cpe",
        "comp",
        "comprime",
        "comprimes",
        "pellicule",
        "pellicules",
        "secable",
        "quadrisecable",
        "enrobe",
        "gel",
        "gelule",
        "gelules",
        "gelul",
        "caps",
        "capsule",
        "capsules",
        "molle",
        "sachet",
        "sachets",
        "sach",
        "sol",
        "solution",
        "buv",
        "buvable",
        "buvables",
        "inj",
        "injectable",
        "injectables",
        "lp",
        "lm",
        "sr",
        "xl",
        "ret",
        "retard",
        "liberation",
        "prolongee",
        "modifiee",
        "effervescent",
        "effervescents",
        "orodispersible",
        "orodispersibles",
        "dispersible",
        "gastro",
        "resistant",
        "resistante",
        "suspension",
        "poudre",
        "pour",
        "collyre",
        "pommade",
        "creme",
        "gouttes",
        "goutte",
        "gtt",
        "suppositoire",
        "suppo",
        "suppos",
        "ovule",
        "patch",
        "dispositif",
        "transdermique",
        "inhalation",
        "inhal",
        "susp",
        "flacon",
        "amp",
        "ampoule",
        "ampoules",
        "stylo",
        "seringue",
        "prerempli",
        "preremplie",
        "sirop",
        "granules",
        "granule",
        "lyoc",
        "oral",
        "orale",
        "voie",
        "cutane",
        "cutanee",
        "nasal",
        "nasale",
        "pulverisation",
        "spray",
        "microgranules",
        "mg",
        "g",
        "ml",
        "ui",
        "mcg",
        "ug",
        "microgrammes",
        "microgramme",
        "mmol",
        "par",
        "dose",
        "doses",
        "unidose",
        "boite",
        "bte",
        "le",
        "la",
        "les",
        "de",
        "du",
        "des",
        "et",
        "a",
        "au",
        "aux",
        "en",
        "ou",
        "avec",
        "sans",
        "un",
        "une",
        "qsp",
        "si",
    ]
)
# Words after which the rest of the line is posology, not drug name.
_POSOLOGY_START = re.compile(
    r"(?:\s:\s|:|\b\d+(?:[.,]\d+)?\s*-\s*\d+(?:[.,]\d+)?\s*-\s*\d|"
    r"\b(?:prendre|matin|midi|soir|coucher|par\s+jour|fois|/\s*j(?:our)?\b|x\s*\d\s*/\s*j|"
    r"pendant|qsp|si\s+(?:besoin|douleur|fi[eè]vre)|toutes\s+les|tous\s+les)\b)",
    re.IGNORECASE,
)
# "80 000 UI": thousands in groups of three, read as one number as the posology parser does
_STRENGTH = re.compile(
    r"(?<![\w.,])(\d{1,3}(?: \d{3})+|\d+(?:[.,]\d+)?)\s*"
    r"(mg|g|µg|μg|mcg|microgrammes?|ui|u\.i\.|%|mmol)(?![a-z])",
    re.IGNORECASE,
)
_UNIT_NORMAL = {
    "mg": "mg",
    "g": "g",
    "µg": "µg",
    "μg": "µg",
    "mcg": "µg",
    "ui": "UI",
    "u.i.": "UI",
    "%": "%",
    "mmol": "mmol",
    "microgramme": "µg",
    "microgrammes": "µg",
}
_FORM_ABBREVIATIONS = {
    "cp": "comprime",
    "cpr": "comprime",
    "comp": "comprime",
    "sach": "sachet",
    "buv": "buvable",
    "sol": "solution",
    "inj": "injectable",
    "eff": "effervescent",
    "susp": "suspension",
    "gel": "gelule",  # "gél." folds to "gel": both readings are kept
}
# Forms applied to the skin, eye or ear: their systemic effects are not those the checks assume.
_TOPICAL_WORDS = frozenset({"gel", "creme", "pommade", "collyre", "lotion", "topique", "cutanee", "cutane"})
_TOPICAL_ROUTES = frozenset({"cutanée", "ophtalmique", "auriculaire"})
_FUZZY_CUTOFF = 84.0
# One misread letter in a name of five or six ("FAHOR 20 mg") scores 80 or 83: below the
# cutoff, taken only when the line's strengths confirm one meaning, and then scored this.
_CONFIRMED_CUTOFF = 75.0
_CONFIRMED_SCORE = 79.0
# A name found only by joining two pieces ("Empagli flozine") scores at most this (0-100).
_JOINED_MAX_SCORE = 92.0
_EXACT_CONFIDENCE = 0.99
_FUZZY_MIN_LEN = 5
_RESOLVED_MIN_CONFIDENCE = 0.8
_AMBIGUOUS_MIN_CONFIDENCE = 0.6


@dataclass
class _Match:
    kind: str  # "substance" | "brand"
    value: str  # substance key, or folded brand
    start: int  # token index, to order substances as written
    score: float  # 100 for exact matches
    alternatives: list[str] = field(default_factory=list)


class Normaliser:
    """Normalises lines against one referential. Stateless apart from caches."""

    def __init__(self, referential: Referential) -> None:
        self.ref = referential
        substance_words = {w for key in referential.synonyms for w in key.split()}
        first_words: dict[str, set[str]] = {}
        for brand, cis_list in referential.brands.items():
            first = brand.split()[0]
            if len(first) >= 4 and not first.isdigit() and first not in substance_words:
                first_words.setdefault(first, set()).update(cis_list)
        self._brand_first_word = {k: tuple(sorted(v)) for k, v in first_words.items()}
        # Fuzzy vocabularies by number of words, so "acide acetylsalicilique" meets its peers.
        vocab: dict[int, dict[str, tuple[str, str]]] = {}
        for name, key in referential.synonyms.items():
            vocab.setdefault(len(name.split()), {})[name] = ("substance", key)
        for brand in referential.brands:
            vocab.setdefault(len(brand.split()), {}).setdefault(brand, ("brand", brand))
        for word in self._brand_first_word:
            vocab.setdefault(1, {}).setdefault(word, ("brand_word", word))
        self._vocab = {n: (list(v), list(v.values())) for n, v in vocab.items() if n <= 3}
        self._cached_line = lru_cache(maxsize=20_000)(self._normalise_text)

    # ------------------------------------------------------------------ public

    def normalise(self, medications: Sequence[MedicationInput]) -> MedicationList:
        return MedicationList(lines=[self.normalise_input(i, m) for i, m in enumerate(medications)])

    def normalise_input(self, index: int, med: MedicationInput) -> MedicationLine:
        text = (med.text or "").strip()
        line = self._cached_line(text) if text else None
        if med.cis or med.cip13:
            line = self._from_product_code(med, text) or line
        if med.atc:
            line = self._reconcile_atc(med.atc, text, line)
        if line is None:
            line = _unresolved(text or med.atc or "")
        if med.posology:
            strengths = [s.strength for s in line.substances if s.strength]
            line = line.model_copy(update={"posology": parse_posology(med.posology, strengths)})
        return line.model_copy(update={"index": index})

    def is_drug_name(self, word: str) -> bool:
        """A folded word that names a substance or a brand, or begins a brand's name."""
        return word in self.ref.synonyms or word in self.ref.brands or word in self._brand_first_word

    def normalise_text(self, text: str) -> MedicationLine:
        return self._cached_line(text.strip())

    # ------------------------------------------------------------------ free text

    def _normalise_text(self, text: str) -> MedicationLine:
        drug_part = _drug_segment(text)
        strengths = _strengths(drug_part)
        tokens = fold(drug_part).split()
        matches = self._exact_matches(tokens)
        matched_positions = {m.start for m in matches}
        leftovers = [
            (i, t) for i, t in enumerate(tokens) if i not in matched_positions and _is_candidate_word(t)
        ]
        # a name the OCR split may begin with a piece too short to be a word ("Aml odipine")
        pieces = [
            i
            for i, t in enumerate(tokens)
            if i not in matched_positions and t.isalpha() and len(t) >= 2 and t not in _FORM_WORDS
        ]
        if not any(m.kind != "brand_word" for m in matches):
            matches += self._fuzzy_matches(tokens, leftovers, pieces, strengths)
        if not matches:
            return _unresolved(text, posology=parse_posology(text, strengths))
        return self._build_line(text, matches, strengths)

    def _exact_matches(self, tokens: list[str]) -> list[_Match]:
        ref = self.ref
        matches: list[_Match] = []
        i = 0
        while i < len(tokens):
            found = None
            for n in range(min(ref.max_name_words, len(tokens) - i), 0, -1):
                phrase = " ".join(tokens[i : i + n])
                if n == 1 and (phrase in _FORM_WORDS or phrase.isdigit()):
                    break
                if phrase in ref.brands:
                    found = (_Match("brand", phrase, i, 100.0), n)
                    # A brand named after its substance is still that substance.
                    if phrase in ref.synonyms and n == 1:
                        found = (_Match("substance", ref.synonyms[phrase], i, 100.0), n)
                    break
                if phrase in ref.synonyms:
                    found = (_Match("substance", ref.synonyms[phrase], i, 100.0), n)
                    break
                if n == 1 and phrase in self._brand_first_word:
                    found = (_Match("brand_word", phrase, i, 97.0), n)
                    break
            if found:
                matches.append(found[0])
                i += found[1]
            else:
                i += 1
        return matches

    def _fuzzy_matches(
        self,
        tokens: list[str],
        leftovers: list[tuple[int, str]],
        pieces: list[int],
        strengths: Sequence[Strength] = (),
    ) -> list[_Match]:
        matches: list[_Match] = []
        used: set[int] = set()
        # Two-word names first ("acide acetylsalicilique"), then a name the OCR split in
        # two ("Empagli flozine"), then single words.
        for n, joined in ((2, False), (1, True), (1, False)):
            names, targets = self._vocab.get(n, ([], []))
            if not names:
                continue
            width = 2 if joined else n
            for i in pieces if joined else [i for i, _ in leftovers]:
                if i in used or any(j in used for j in range(i, i + width)) or i + width > len(tokens):
                    continue
                if joined:
                    if not tokens[i + 1].isalpha() or tokens[i + 1] in _FORM_WORDS:
                        continue
                    phrase = tokens[i] + tokens[i + 1]
                else:
                    phrase = " ".join(tokens[i : i + n])
                    if n == 1 and not _is_candidate_word(phrase):
                        continue
                found = self._closest(phrase, names, targets, i)
                if found is None and n == 1 and not joined:
                    found = self._confirmed_by_strength(phrase, names, targets, i, strengths)
                if found is None:
                    continue
                if joined:
                    # the first piece alone may be a name ("Doliprane cod"): joined must do better
                    alone = process.extractOne(
                        tokens[i], names, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF
                    )
                    if alone is not None and alone[1] >= found.score:
                        continue
                    found.score = min(found.score, _JOINED_MAX_SCORE)  # a repair, not a reading
                matches.append(found)
                used.update(range(i, i + width))
        return matches

    def _closest(
        self, phrase: str, names: list[str], targets: list[tuple[str, str]], start: int
    ) -> _Match | None:
        results = process.extract(phrase, names, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF, limit=3)
        if not results:
            return None
        _, best_score, best_idx = results[0]
        kind, value = targets[best_idx]
        rivals = [
            names[idx]
            for _, score, idx in results[1:]
            if best_score - score < 3 and self._meaning(targets[idx]) != self._meaning((kind, value))
        ]
        return _Match(kind, value, start, float(best_score), rivals)

    def _confirmed_by_strength(
        self,
        phrase: str,
        names: list[str],
        targets: list[tuple[str, str]],
        start: int,
        strengths: Sequence[Strength],
    ) -> _Match | None:
        """A name a little further than the cutoff, when exactly one of the close names has a
        specialty with every strength the line writes. Scored low: the line goes to a human."""
        if not strengths:
            return None
        close = process.extract(phrase, names, scorer=fuzz.ratio, score_cutoff=_CONFIRMED_CUTOFF, limit=10)
        fitting = [targets[idx] for _, _, idx in close if self._carries(targets[idx], strengths)]
        if len({self._meaning(t) for t in fitting}) != 1:
            return None
        kind, value = fitting[0]
        return _Match(kind, value, start, _CONFIRMED_SCORE)

    def _carries(self, target: tuple[str, str], strengths: Sequence[Strength]) -> bool:
        kind, value = target
        if kind == "substance":
            cis_list: Iterable[str] = self.ref.specialties_by_substances.get(frozenset({value}), ())
        else:
            cis_list = self.ref.brands.get(value) or self._brand_first_word.get(value, ())
        return any(_strength_fit(self.ref.specialties[c], strengths) == len(strengths) for c in cis_list)

    def _meaning(self, target: tuple[str, str]) -> frozenset[str]:
        kind, value = target
        if kind == "substance":
            return frozenset({value})
        cis_list = self.ref.brands.get(value) or self._brand_first_word.get(value, ())
        return frozenset(k for cis in cis_list for k in self.ref.specialties[cis].substance_keys)

    # ------------------------------------------------------------------ assembling

    def _build_line(self, text: str, matches: list[_Match], strengths: list[Strength]) -> MedicationLine:
        ref = self.ref
        substance_keys: list[str] = []
        brand_cis: list[str] = []
        for m in sorted(matches, key=lambda m: m.start):
            if m.kind == "substance":
                if m.value not in substance_keys:
                    substance_keys.append(m.value)
            else:
                brand_cis.extend(ref.brands.get(m.value) or self._brand_first_word.get(m.value, ()))

        candidates = sorted({alt for m in matches for alt in m.alternatives})
        product: Specialty | None = None
        strength_penalty = 1.0
        if brand_cis:
            product = _best_specialty(
                [ref.specialties[c] for c in dict.fromkeys(brand_cis)],
                strengths,
                text,
                wanted=frozenset(substance_keys) or None,
            )
            named_with_strengths = len(substance_keys) > 1 and len(strengths) == len(substance_keys)
            if (
                product is not None
                and named_with_strengths
                and _strength_fit(product, strengths) < len(strengths)
            ):
                # The line names each substance with its strength and the brand disagrees:
                # what is written is what the patient takes; the product is not claimed.
                product = None
                strength_penalty = 0.9
            if product is not None:
                for comp in product.components:
                    if comp.substance_key not in substance_keys:
                        substance_keys.append(comp.substance_key)
        elif substance_keys:
            same = ref.specialties_by_substances.get(frozenset(substance_keys), ())
            specs = [ref.specialties[c] for c in same]
            exact = [s for s in specs if _strength_fit(s, strengths) == len(strengths) and strengths]
            if len({s.brand for s in exact}) == 1 and exact:
                product = _best_specialty(exact, strengths, text)

        subs = [self._substance_ref(key, product, strengths, substance_keys) for key in substance_keys]
        confidence = min(m.score for m in matches) / 100.0 * strength_penalty
        if strengths and product is None and substance_keys:
            same = ref.specialties_by_substances.get(frozenset(substance_keys), ())
            if same and not any(_strength_fit(ref.specialties[c], strengths) for c in same):
                confidence *= 0.9  # a strength no specialty has: maybe misread
        confidence = round(min(confidence, _EXACT_CONFIDENCE), 3)
        status = LineStatus.RESOLVED
        if candidates or confidence < _RESOLVED_MIN_CONFIDENCE:
            status = LineStatus.AMBIGUOUS
        if confidence < _AMBIGUOUS_MIN_CONFIDENCE or not subs:
            status = LineStatus.UNRESOLVED
        per_unit = [s.strength for s in subs if s.strength]
        return MedicationLine(
            index=0,
            line=text,
            status=status,
            confidence=confidence,
            product=_product(product),
            substances=subs,
            posology=parse_posology(text, per_unit),
            candidates=candidates,
            atc=product.atc if product else (subs[0].atc if len(subs) == 1 else None),
            route=_route(text, product),
        )

    def _substance_ref(
        self, key: str, product: Specialty | None, strengths: list[Strength], order: list[str]
    ) -> SubstanceRef:
        subst = self.ref.substances.get(key)
        strength: Strength | None = None
        if product is not None:
            comp = next((c for c in product.components if c.substance_key == key), None)
            options = _component_strengths(comp) if comp else []
            written = {_in_mg(w) for w in strengths}
            # The strength as prescribed (moiety or salt), else as the product name says it.
            strength = next((o for o in options if _in_mg(o) in written), None) or next(
                (o for o in options if f"{o.value:g}".replace(".", ",") in product.name), None
            )
            if strength is None and options:
                strength = options[0]
            elif strength is None and len(order) == 1 and len(strengths) == 1:
                strength = strengths[0]  # BDPM gives no single strength (e.g. a range)
        elif len(strengths) == len(order):
            strength = strengths[order.index(key)]
        return SubstanceRef(
            name=subst.name if subst else key,
            key=key,
            atc=subst.atc if subst else None,
            strength=strength,
        )

    # ------------------------------------------------------------------ codes

    def _from_product_code(self, med: MedicationInput, text: str) -> MedicationLine | None:
        cis = med.cis or self.ref.cip13_to_cis.get(med.cip13 or "")
        spec = self.ref.specialties.get(cis or "")
        if spec is None:
            return None
        subs = [
            SubstanceRef(
                name=self.ref.substances[c.substance_key].name
                if c.substance_key in self.ref.substances
                else c.substance_key,
                key=c.substance_key,
                atc=self.ref.substances[c.substance_key].atc
                if c.substance_key in self.ref.substances
                else None,
                strength=Strength(value=c.value, unit=c.unit) if c.value is not None and c.unit else None,
            )
            for c in spec.components
        ]
        per_unit = [s.strength for s in subs if s.strength]
        return MedicationLine(
            index=0,
            line=text or spec.name,
            status=LineStatus.RESOLVED if subs else LineStatus.UNRESOLVED,
            confidence=1.0 if subs else 0.0,
            product=_product(spec, cip13=med.cip13),
            substances=subs,
            posology=parse_posology(text, per_unit) if text else None,
            atc=spec.atc,
            route=_route(text, spec),
        )

    def _reconcile_atc(self, atc: str, text: str, line: MedicationLine | None) -> MedicationLine | None:
        """A given ATC code confirms the text, or stands in for it when the text is not understood."""
        keys = self.ref.atc_to_substances.get(atc, ())
        if line is not None and line.status != LineStatus.UNRESOLVED:
            line_codes = {s.atc for s in line.substances} | {line.atc}
            if atc in line_codes or not keys:
                return line
            if line.confidence < _EXACT_CONFIDENCE and len(keys) == 1:
                line = None  # a fuzzy or partial reading yields to an explicit code
                return self._reconcile_atc(atc, text, line)
            return line.model_copy(
                update={
                    "status": LineStatus.AMBIGUOUS,
                    "candidates": sorted({*line.candidates, *(self.ref.substances[k].name for k in keys)}),
                }
            )
        if len(keys) != 1:
            return line
        subst = self.ref.substances[keys[0]]
        strengths = _strengths(_drug_segment(text)) if text else []
        return MedicationLine(
            index=0,
            line=text or atc,
            status=LineStatus.RESOLVED,
            confidence=0.95,
            substances=[
                SubstanceRef(
                    name=subst.name,
                    key=subst.key,
                    atc=atc,
                    strength=strengths[0] if len(strengths) == 1 else None,
                )
            ],
            posology=parse_posology(text, strengths[:1]) if text else None,
            atc=atc,
        )


# ---------------------------------------------------------------------- helpers


def _route(text: str, product: Specialty | None) -> str:
    if product is not None and product.routes:
        routes = set(product.routes.split(";"))
        return "topical" if routes <= _TOPICAL_ROUTES else "systemic"
    return "topical" if _TOPICAL_WORDS & set(fold(text).split()) else "systemic"


def _drug_segment(text: str) -> str:
    match = _POSOLOGY_START.search(text)
    if match and match.group().strip() == ":":
        # "Escitalopram: 10 mg: 1 cpr": a strength between two colons is the drug's
        strength = _STRENGTH_THEN_COLON.match(text, match.end())
        if strength:
            match = _POSOLOGY_START.search(text, strength.end() - 1)
    return text[: match.start()] if match and match.start() > 0 else text


_STRENGTH_THEN_COLON = re.compile(r"\s*\d+(?:[.,]\d+)?\s*(?:mg|g|µg|mcg|ml|ui)\s*:", re.IGNORECASE)


def _strengths(segment: str) -> list[Strength]:
    found = []
    for value, unit in _STRENGTH.findall(segment):
        number = float(value.replace(" ", "").replace(",", "."))
        found.append(Strength(value=number, unit=_UNIT_NORMAL[unit.lower()]))
    return found


def _is_candidate_word(word: str) -> bool:
    return len(word) >= _FUZZY_MIN_LEN and word not in _FORM_WORDS and not any(c.isdigit() for c in word[:1])


def _in_mg(strength: Strength) -> tuple[float, str]:
    factor = {"g": 1000.0, "µg": 0.001}.get(strength.unit)
    return (strength.value * factor, "mg") if factor else (strength.value, strength.unit)


def _component_strengths(comp: Component) -> list[Strength]:
    """The moiety's strength first, then the salt's when BDPM gives both."""
    out = []
    if comp.value is not None and comp.unit:
        out.append(Strength(value=comp.value, unit=comp.unit))
    if comp.salt_value is not None and comp.salt_unit:
        out.append(Strength(value=comp.salt_value, unit=comp.salt_unit))
    return out


def _strength_fit(spec: Specialty, strengths: Iterable[Strength]) -> int:
    """How many written strengths the specialty's composition carries."""
    have = {_in_mg(s) for c in spec.components for s in _component_strengths(c)}
    return sum(1 for s in strengths if _in_mg(s) in have)


def _best_specialty(
    specs: list[Specialty],
    strengths: list[Strength],
    text: str,
    wanted: frozenset[str] | None = None,
) -> Specialty | None:
    if not specs:
        return None
    written = set(fold(text).split())
    words = written | {_FORM_ABBREVIATIONS[w] for w in written if w in _FORM_ABBREVIATIONS}

    def score(spec: Specialty) -> tuple[float, ...]:
        form_words = set(fold(spec.form).split()) & words
        same_substances = wanted is None or wanted <= spec.substance_keys
        return (
            float(same_substances),
            _strength_fit(spec, strengths),
            len(form_words),
            float(spec.marketed),
            -len(spec.components),
        )

    return max(specs, key=lambda s: (score(s), s.cis))


def _product(spec: Specialty | None, cip13: str | None = None) -> Product | None:
    if spec is None:
        return None
    return Product(cis=spec.cis, name=spec.name, form=spec.form or None, cip13=cip13)


def _unresolved(text: str, posology: Posology | None = None) -> MedicationLine:
    return MedicationLine(index=0, line=text, status=LineStatus.UNRESOLVED, confidence=0.0, posology=posology)
