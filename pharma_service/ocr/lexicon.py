"""Reading script with the words an ordonnance uses: lexicon-guided CTC decoding.

The handwriting recogniser (PP-OCRv4) gives, for each slice of a word group, a probability
for every character. Its best guess per slice ("greedy" decoding) misreads script often:
"Netforwine", "gl le molin et gl le sir". A careful reader knows which words to expect: the
drug names of the referential and the few words of a posology or a patient header. Each
word the greedy text shows that is not such a word is compared with close ones from the
lexicon by how well the recogniser's probabilities over that word's slices support them
(the CTC likelihood, Graves 2006). A lexicon word replaces the greedy word when the
recogniser supports it nearly as well, within PRIOR_NATS: the lexicon acts as a prior.

Only the recogniser's own evidence decides: a word with no close lexicon word, or one the
probabilities clearly contradict, stays as read. Numbers read are never changed here. A
mark of one or two letters right before a unit word ("T comprimé", "Y gél") stands where
a posology has its count: it is compared with the counts "1" to "4", "un" and "une" the
same way, and stays as read unless the recogniser supports one of them. Every line this
reader reads goes to a human check (handwriting.CONFIDENCE_CAP).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from rapidfuzz import fuzz, process

from pharma_service.referential.store import Referential
from pharma_service.text import fold

# A lexicon word is taken when its log-likelihood is at most this far below the greedy
# word's (tuned on the development corpus, seed 5; see benchmarks/RESULTS.md).
PRIOR_NATS = 6.0
CANDIDATES = 12
MIN_SIMILARITY = 50.0
PAIR_CANDIDATES = 4
PAIR_SIMILARITY = 75.0

# The words of a posology and of a patient header (not drug names, which come from the
# referential). Short function words are included so that "lc" next to "matin" can be "le".
_ORDONNANCE_WORDS_TEXT = (
    "comprimé comprimés cp cpr gélule gélules gél sachet sachets goutte gouttes ampoule ampoules "
    "injection injections application applications bouffée bouffées pulvérisation pulvérisations "
    "patch patchs suppositoire suppositoires capsule capsules dose doses unité unités cuillère "
    "mesure mesures inhalation inhalations flacon stylo "
    "matin midi soir coucher lever repas dîner déjeuner petit "
    "le la les et au aux à par jour jours fois pendant semaine semaines mois an ans heures heure "
    "tous toutes chaque soit puis ensuite avant après pendant durant si besoin douleur fièvre "
    "maximum max demi un une deux trois quatre cinq six dix QSP renouveler renouvelable "
    "traitement prendre prise prises selon en dans sur non "
    "mg ml kg µg UI "
    "Madame Monsieur Mme Mlle Docteur Dr né née le Poids Clairance créatinine Cockcroft "
    "ordonnance Médecin généraliste Gériatre Cardiologue"
)
ORDONNANCE_WORDS = tuple(_ORDONNANCE_WORDS_TEXT.split())

# What follows a number: a strength, a weight, an age, a count of units or a duration. A
# word right after a number is compared with these even when it is a single letter ("25 M").
AFTER_NUMBER = ("mg", "g", "ml", "µg", "UI", "kg", "ans", "cp", "gél", "mois", "jours", "fois", "semaines")

_UNITS = frozenset(fold(unit) for unit in ("mg", "g", "ml", "µg", "UI", "kg"))

# What stands before a unit word in a posology: a count. A mark is read as one only when
# the recogniser prefers it to every other count by this much (log-likelihood).
COUNTS = ("1", "2", "3", "4", "un", "une")
COUNT_MARGIN = 4.0
# A whole group of marks that may be a dash schedule read badly: digits, the letters and
# marks a script "0", "1" or "-" is read as, and at least one digit or dash among them.
_SCHEDULE_LIKE = re.compile(
    r"^(?=.*[\d-])(?=.*[^\d\s])(?=(?:.*[\dOoIl|]){2})[\s\dOoIlrU|~}{()\[\]\-–—:.,;Kk]{3,9}$"
)
SCHEDULES = tuple(f"{a}-{b}-{c}" for a in "012" for b in "012" for c in "012" if a + b + c != "000")
# The start of a unit word as the recogniser reads it ("Compime", "cP", "sachet").
_UNIT_WORD_START = re.compile(r"^(?:cp|cpr|comp|gel|gél|sach|amp)", re.IGNORECASE)


def looks_like_unit_word(text: str) -> bool:
    """The first word of ``text`` reads as a unit word of a posology ("cp", "Comprime")."""
    words = text.split()
    return bool(words) and _UNIT_WORD_START.match(words[0]) is not None


_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class Lexicon:
    """Expected words, by folded spelling, with the spelling to write."""

    words: dict[str, str]
    drug_words: frozenset[str]
    # the ordonnance words (folded, two letters or more), to split words the recogniser
    # glued together: "cplematin", "Comprimele"
    glue: frozenset[str] = frozenset()
    # two of them glued ("parjour", "lesoir"), close to what the recogniser reads when it
    # drops the space and a letter ("Pajour"); written spaced
    pairs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def build(cls, drug_names: Iterable[str], extra: Sequence[str] = ORDONNANCE_WORDS) -> Lexicon:
        words: dict[str, str] = {}
        drugs: set[str] = set()
        for name in drug_names:
            for word in _WORD.findall(name):
                folded = fold(word)
                if len(folded) >= 4 and folded.isalpha():
                    words.setdefault(folded, word)
                    drugs.add(folded)
        glue = {fold(word): word for word in extra if len(word) >= 2}
        # two ordonnance words glued ("parjour", "lesoir") are close to what the recogniser
        # reads when it drops the space and a letter ("Pajour"); they are written spaced
        pairs = {
            first + second: f"{shown_first} {shown_second}"
            for first, shown_first in glue.items()
            for second, shown_second in glue.items()
        }
        for word in extra:
            words[fold(word)] = word  # the ordonnance spelling wins over a drug-name word
        return cls(words=words, drug_words=frozenset(drugs), glue=frozenset(glue), pairs=pairs)

    @classmethod
    def from_referential(cls, referential: Referential) -> Lexicon:
        """Brand names, substance names and their usual synonyms."""
        names = [*referential.brands, *referential.synonyms]
        names += [substance.name for substance in referential.substances.values()]
        return cls.build(names)

    def __contains__(self, word: str) -> bool:
        return fold(word) in self.words

    def spelling(self, word: str) -> str | None:
        """The lexicon's spelling of ``word``, or None when it is not a lexicon word."""
        folded = fold(word)
        return self.words.get(folded) or self.pairs.get(folded)

    def split(self, word: str) -> str | None:
        """``word`` as ordonnance words glued together ("cplematin" -> "cp le matin"), in
        the fewest words, or None."""
        folded = fold(word)
        best: list[list[str] | None] = [[]] + [None] * len(folded)
        for end in range(2, len(folded) + 1):
            for start in range(max(0, end - 14), end - 1):
                before = best[start]
                piece = folded[start:end]
                if before is not None and piece in self.glue:
                    found = [*before, piece]
                    current = best[end]
                    if current is None or len(found) < len(current):
                        best[end] = found
        parts = best[-1]
        if parts is None or len(parts) < 2:
            return None
        return " ".join(self.words[part] for part in parts)

    def close(self, word: str) -> list[str]:
        """Lexicon spellings close to ``word`` (folded), best first."""
        folded = fold(word)
        found = process.extract(
            folded, self.words.keys(), scorer=fuzz.ratio, limit=CANDIDATES, score_cutoff=MIN_SIMILARITY
        )
        # dropping letters is what CTC does most easily ("molin" -> "min"): a candidate may
        # be shorter by one letter only, and only than a word of five letters or more
        shortest = len(folded) - (1 if len(folded) >= 5 else 0)
        longest = len(folded) + max(2, len(folded) // 2)
        close = [self.words[key] for key, _, _ in found if shortest <= len(key) <= longest]
        if len(folded) >= 5:  # glued pairs, searched apart so that they crowd out no word
            glued = process.extract(
                folded,
                self.pairs.keys(),
                scorer=fuzz.ratio,
                limit=PAIR_CANDIDATES,
                score_cutoff=PAIR_SIMILARITY,
            )
            close += [self.pairs[key] for key, _, _ in glued if shortest <= len(key) <= longest]
        return close


def ctc_log_likelihood(log_probs: np.ndarray, labels: Sequence[int]) -> float:
    """log P(labels | slices) under CTC, blank = class 0 (the forward algorithm, log space)."""
    steps = log_probs.shape[0]
    if not labels:
        return float(log_probs[:, 0].sum())
    extended = np.zeros(2 * len(labels) + 1, dtype=np.int64)
    extended[1::2] = labels
    size = extended.size
    if steps < len(labels):
        return float("-inf")
    # a label may follow the label two places back (skipping a blank) unless they are equal
    skip = np.zeros(size, dtype=bool)
    skip[3::2] = extended[3::2] != extended[1:-2:2]
    alpha = np.full(size, -np.inf)
    alpha[0] = log_probs[0, 0]
    alpha[1] = log_probs[0, extended[1]]
    for t in range(1, steps):
        one = np.concatenate(([-np.inf], alpha[:-1]))
        two = np.where(skip, np.concatenate(([-np.inf, -np.inf], alpha[:-2])), -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, one), two) + log_probs[t, extended]
    return float(np.logaddexp(alpha[-1], alpha[-2]))


@dataclass(frozen=True)
class Decoded:
    text: str
    score: float  # mean probability of the greedy characters, 0-1
    replaced: int  # words taken from the lexicon


class LexiconDecoder:
    """Greedy CTC decoding, then each unknown word checked against close lexicon words."""

    def __init__(self, charset: Sequence[str], lexicon: Lexicon | None) -> None:
        self.charset = list(charset)
        self.index = {ch: i for i, ch in enumerate(self.charset) if i > 0}
        self.lexicon = lexicon

    def greedy(self, probs: np.ndarray) -> str:
        """The recogniser's best character per slice, without the lexicon."""
        return "".join(self._greedy(probs)[1])

    def _greedy(self, probs: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """The slices where the best character changes (blanks and repeats collapsed), and
        those characters."""
        best = probs.argmax(axis=1)
        keep = (best != 0) & np.concatenate(([True], best[1:] != best[:-1]))
        frames = np.flatnonzero(keep)
        return frames, [self.charset[i] for i in best[frames]]

    def decode(self, probs: np.ndarray, *, after_number: bool = False, before_unit: bool = False) -> Decoded:
        """``probs``: (slices, classes) softmax output of the recogniser for one crop;
        ``after_number``: the crop follows a number on its text line ("25" | "mo");
        ``before_unit``: the next crop on the line starts with a unit word ("T" | "cp")."""
        frames, chars = self._greedy(probs)
        if not chars:
            return Decoded("", 0.0, 0)
        score = float(probs[frames].max(axis=1).mean())
        text = "".join(chars)
        if self.lexicon is None:
            return Decoded(text, score, 0)
        log_probs = np.log(np.maximum(probs, 1e-12))
        if _SCHEDULE_LIKE.match(text):
            schedule = self._schedule(text, log_probs)
            if schedule != text:
                return Decoded(schedule, score, 1)
        out, replaced, last = [], 0, 0
        for m in _WORD.finditer(text):
            word = m.group(0)
            out.append(text[last : m.start()])
            last = m.end()
            # the word's slices: from just after the character before it to just before the next
            start = frames[m.start() - 1] + 1 if m.start() > 0 else 0
            end = frames[m.end()] if m.end() < len(frames) else probs.shape[0]
            follows_number = re.search(r"\d\s*$", text[: m.start()]) is not None or (
                after_number and not text[: m.start()].strip()
            )
            rest = text[m.end() :]
            count_slot = len(word) <= 2 and (looks_like_unit_word(rest) if rest.strip() else before_unit)
            chosen = self._choose(word, log_probs[start:end], follows_number, count_slot)
            replaced += chosen != word
            out.append(chosen)
        out.append(text[last:])
        return Decoded("".join(out), score, replaced)

    def _choose(self, word: str, log_probs: np.ndarray, after_number: bool, count_slot: bool = False) -> str:
        assert self.lexicon is not None
        known = self.lexicon.spelling(word)
        if known is not None:
            return _same_case(known, word) if " " in known else word  # "parjour" -> "par jour"
        if count_slot and not after_number:
            return self._count(word, log_probs)
        glued = self.lexicon.split(word) if len(word) >= 4 else None
        if glued is not None:
            return _same_case(glued, word)
        if len(word) < 2 and not after_number:
            return word
        candidates = [c for c in self.lexicon.close(word) if self._allowed(c, word)] if len(word) >= 2 else []
        if after_number:
            candidates = [*AFTER_NUMBER, *candidates]
        if not candidates:
            return word
        own = self._likelihood(word, log_probs)
        best, best_ll = word, own - PRIOR_NATS
        for candidate in candidates:
            if after_number:
                # script "m" and "M", "k" and "K" look alike: a unit is written its usual way
                ll = max(self._likelihood(form, log_probs) for form in {candidate, candidate.upper()})
                shaped = candidate
            else:
                shaped = _same_case(candidate, word)
                ll = self._likelihood(shaped, log_probs)
            if ll > best_ll:
                best, best_ll = shaped, ll
        return best

    def _count(self, word: str, log_probs: np.ndarray) -> str:
        """The count a mark before a unit word stands for, when the recogniser supports one
        nearly as well as the mark (PRIOR_NATS) and clearly better than any other count
        (COUNT_MARGIN): "中 Comprime", as likely a "4" as a "1", stays as read."""
        ranked = sorted(((self._likelihood(c, log_probs), c) for c in COUNTS), reverse=True)
        (best_ll, best), (second_ll, _) = ranked[0], ranked[1]
        if best_ll > self._likelihood(word, log_probs) - PRIOR_NATS and best_ll - second_ll >= COUNT_MARGIN:
            return best
        return word

    def _schedule(self, text: str, log_probs: np.ndarray) -> str:
        """The dash schedule ("1-0-0") a group of marks stands for, when the recogniser
        supports one nearly as well as the marks read (PRIOR_NATS) and clearly better than
        any other schedule (COUNT_MARGIN): "lo-o O", "Ko-0", "0-or" in a hurried hand."""
        ranked = sorted(((self._likelihood(c, log_probs), c) for c in SCHEDULES), reverse=True)
        (best_ll, best), (second_ll, _) = ranked[0], ranked[1]
        if best_ll > self._likelihood(text, log_probs) - PRIOR_NATS and best_ll - second_ll >= COUNT_MARGIN:
            return best
        return text

    def _allowed(self, candidate: str, word: str) -> bool:
        assert self.lexicon is not None
        folded = fold(candidate)
        if folded in _UNITS:
            return False  # a unit only after a number ("ma" alone is no "mg")
        # a drug name needs a word long enough to tell
        return folded not in self.lexicon.drug_words or len(word) >= 4

    def _likelihood(self, word: str, log_probs: np.ndarray) -> float:
        # a split candidate ("par jour") is scored as read, without its space
        labels = [self.index.get(ch) or self.index.get(_plain(ch)) for ch in word.replace(" ", "")]
        if any(label is None for label in labels):
            return float("-inf")
        return ctc_log_likelihood(log_probs, [label for label in labels if label is not None])


def _same_case(candidate: str, like: str) -> str:
    if len(like) > 1 and like.isupper():
        return candidate.upper()
    if like[:1].isupper():
        return candidate[:1].upper() + candidate[1:].lower()
    return candidate if candidate.isupper() else candidate.lower()


def _plain(ch: str) -> str:
    """The letter without its accent, same case: the recogniser has no "ê", "ç" or "ô"."""
    return unicodedata.normalize("NFKD", ch)[:1]
