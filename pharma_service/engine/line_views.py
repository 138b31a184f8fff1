"""Lines as drug classes and selectors read them (ATC codes and prefixes as sets), and the selectors."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from pharma_service.engine.schemas import DrugSelector
from pharma_service.models import MedicationLine

if TYPE_CHECKING:  # the context builds its line views with this module
    from pharma_service.engine.context import Occurrence

_NO_PREFIXES: frozenset[str] = frozenset()


@lru_cache(maxsize=8192)
def code_prefixes(code: str) -> frozenset[str]:
    """Every prefix of an ATC code: 'N05BA04' -> N, N0, N05, N05B, N05BA, N05BA0, N05BA04."""
    return frozenset(code[:n] for n in range(1, len(code) + 1))


@dataclass(slots=True)
class LineView:
    """A systemic, understood line with its ATC codes and prefixes, computed once per analysis."""

    line: MedicationLine
    index: int
    codes: tuple[str, ...]  # distinct ATC codes of the product and of the substances
    prefixes: frozenset[str]  # of every code of the line
    product_prefixes: frozenset[str]
    substances: tuple[tuple[Occurrence, frozenset[str]], ...]
    keys: frozenset[str]


@dataclass(slots=True)
class Lines:
    """The line views of one analysis, with the union of their ATC prefixes and substance keys."""

    views: list[LineView]
    prefixes: frozenset[str]
    keys: frozenset[str]


def line_views(systemic_lines: Sequence[tuple[MedicationLine, tuple[Occurrence, ...]]]) -> Lines:
    views = []
    for line, occurrences in systemic_lines:
        shape = line_shape(line.atc, tuple([(occ.key, occ.atc) for occ in occurrences]))
        substances = tuple(zip(occurrences, shape.substance_prefixes, strict=True))
        views.append(
            LineView(
                line, line.index, shape.codes, shape.prefixes, shape.product_prefixes, substances, shape.keys
            )
        )
    return Lines(
        views, _NO_PREFIXES.union(*[v.prefixes for v in views]), _NO_PREFIXES.union(*[v.keys for v in views])
    )


@dataclass(frozen=True, slots=True)
class LineShape:
    """What a line's view holds that depends only on its drugs: their codes, prefixes and keys."""

    codes: tuple[str, ...]
    prefixes: frozenset[str]
    product_prefixes: frozenset[str]
    substance_prefixes: tuple[frozenset[str], ...]
    keys: frozenset[str]


@lru_cache(maxsize=8192)
def line_shape(product_atc: str | None, substances: tuple[tuple[str, str | None], ...]) -> LineShape:
    """The shape of a line from its product's ATC code and its (substance key, ATC code) pairs."""
    product = code_prefixes(product_atc) if product_atc else _NO_PREFIXES
    codes = [product_atc] if product_atc else []
    prefixes = product
    substance_prefixes = []
    for _, atc in substances:
        own = code_prefixes(atc) if atc else _NO_PREFIXES
        substance_prefixes.append(own)
        if atc and atc not in codes:
            codes.append(atc)
            prefixes = prefixes | own
    keys = frozenset([key for key, _ in substances])
    return LineShape(tuple(codes), prefixes, product, tuple(substance_prefixes), keys)


@dataclass(frozen=True, slots=True)
class CompiledSelector:
    """A drug selector as sets, so that matching a line is a few set comparisons."""

    atc: frozenset[str]
    substances: frozenset[str]
    exclude_atc: frozenset[str]
    exclude_substances: frozenset[str]

    @classmethod
    def of(cls, selector: DrugSelector | None) -> CompiledSelector | None:
        if selector is None:
            return None
        return cls(
            frozenset(selector.atc),
            frozenset(selector.substances),
            frozenset(selector.exclude_atc),
            frozenset(selector.exclude_substances),
        )

    def matches_reached(self, view: LineView) -> list[Occurrence]:
        """:meth:`matches` for a line that reached this selector through the criteria index.

        One of the line's codes or substances is in the selector, so without exclusions a
        single-substance line (most lines) is selected as it is.
        """
        if len(view.substances) == 1 and not (self.exclude_atc or self.exclude_substances):
            return [view.substances[0][0]]
        return self.matches(view)

    def matches(self, view: LineView) -> list[Occurrence]:
        """The occurrences of the line the selector designates; empty when it does not match."""
        if self.atc.isdisjoint(view.prefixes) and self.substances.isdisjoint(view.keys):
            return []  # nothing of the line is selected: the usual case, decided by two set tests
        if not self.exclude_atc.isdisjoint(view.prefixes):
            return []
        if len(view.substances) == 1:  # most lines: the general case below, without building lists
            occ, prefixes = view.substances[0]
            selected = occ.key in self.substances or not (
                self.atc.isdisjoint(prefixes) and self.atc.isdisjoint(view.product_prefixes)
            )
            return [occ] if selected and occ.key not in self.exclude_substances else []
        hits = [
            occ
            for occ, prefixes in view.substances
            if occ.key not in self.exclude_substances
            and (occ.key in self.substances or not self.atc.isdisjoint(prefixes))
        ]
        if not hits and not self.atc.isdisjoint(view.product_prefixes):
            hits = [occ for occ, _ in view.substances if occ.key not in self.exclude_substances]
        return hits

    def on_the_list(self, lines: Lines, *, except_lines: Container[int] = ()) -> bool:
        """Whether the selector designates a line of the list (other than `except_lines`)."""
        # What of the selector the list holds at all: usually nothing, and the answer is no.
        atc = self.atc & lines.prefixes
        keys = self.substances & lines.keys
        if not atc and not keys:
            return False
        for view in lines.views:
            if atc.isdisjoint(view.prefixes) and keys.isdisjoint(view.keys):
                continue
            if view.index not in except_lines and self.matches(view):
                return True
        return False
