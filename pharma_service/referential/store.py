"""The drug referential: BDPM specialties, compositions, presentations, substances.

Loaded once from ``datasets/referential/*.csv`` (built by
``datasets/build/build_referential.py``) into read-only lookup tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import polars as pl

from pharma_service.errors import KnowledgeBaseError
from pharma_service.text import fold

DEFAULT_DIR = Path(__file__).resolve().parents[2] / "datasets" / "referential"


@dataclass(frozen=True, slots=True)
class Substance:
    key: str
    name: str
    atc: str | None
    atc_all: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Component:
    substance_key: str
    value: float | None
    unit: str | None
    salt_value: float | None = None  # dosage of the salt when BDPM gives the moiety's too
    salt_unit: str | None = None


@dataclass(frozen=True, slots=True)
class Specialty:
    cis: str
    name: str
    brand: str
    brand_key: str
    form: str
    routes: str
    marketed: bool
    homeopathic: bool
    atc: str | None
    components: tuple[Component, ...]

    @property
    def substance_keys(self) -> frozenset[str]:
        return frozenset(c.substance_key for c in self.components)


class Referential:
    """Immutable lookups over the referential. Build with :meth:`load`."""

    def __init__(
        self,
        substances: Mapping[str, Substance],
        specialties: Mapping[str, Specialty],
        cip13_to_cis: Mapping[str, str],
        synonyms: Mapping[str, str],
        version: str,
    ) -> None:
        self.substances = MappingProxyType(dict(substances))
        self.specialties = MappingProxyType(dict(specialties))
        self.cip13_to_cis = MappingProxyType(dict(cip13_to_cis))
        self.version = version
        self.synonyms = MappingProxyType(dict(synonyms))

        by_atc: dict[str, list[str]] = defaultdict(list)
        for subst in self.substances.values():
            for code in subst.atc_all:
                by_atc[code].append(subst.key)
        self.atc_to_substances = MappingProxyType({k: tuple(sorted(v)) for k, v in by_atc.items()})

        brands: dict[str, list[str]] = defaultdict(list)
        by_substances: dict[frozenset[str], list[str]] = defaultdict(list)
        for spec in self.specialties.values():
            if spec.homeopathic:
                continue
            brand = spec.brand_key
            if len(brand) == 1:
                # "L 28", "A 313": the letter alone would match every "l" an OCR reads for
                # a "1" and every "a" for an "à"; the name is the letter and its code.
                brand = " ".join(fold(spec.name.split(",")[0]).split()[:2])
            if brand:
                brands[brand].append(spec.cis)
            by_substances[spec.substance_keys].append(spec.cis)
        self.brands = MappingProxyType({k: tuple(sorted(v)) for k, v in brands.items()})
        self.specialties_by_substances = MappingProxyType(
            {k: tuple(sorted(v)) for k, v in by_substances.items()}
        )
        # Longest names first decides multi-word matches ("acide acetylsalicylique").
        self.max_name_words = max((len(name.split()) for name in [*self.synonyms, *self.brands]), default=1)

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> Referential:
        try:
            subst_df = _read(directory / "substances.csv")
            spec_df = _read(directory / "specialties.csv")
            comp_df = _read(directory / "compositions.csv")
            pres_df = _read(directory / "presentations.csv")
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise KnowledgeBaseError(
                f"cannot read the referential in {directory}: {exc}. "
                "Rebuild it with: python datasets/build/build_referential.py"
            ) from exc

        substances: dict[str, Substance] = {}
        synonyms: dict[str, str] = {}
        for key, name, atc, atc_all, syns in subst_df.select(
            "key", "name", "atc", "atc_all", "synonyms"
        ).iter_rows():
            substances[key] = Substance(
                key=key,
                name=name,
                atc=atc or None,
                atc_all=tuple(atc_all.split(";")) if atc_all else (),
            )
            synonyms[key] = key
            synonyms.setdefault(fold(name), key)
            for syn in (syns or "").split(";"):
                if syn:
                    synonyms.setdefault(syn, key)
        for extra_key, canonical in _read_synonym_table(directory / "synonyms.csv").items():
            if canonical not in substances:
                raise KnowledgeBaseError(
                    f"{directory / 'synonyms.csv'}: synonym {extra_key!r} points to unknown "
                    f"substance {canonical!r}"
                )
            synonyms[extra_key] = canonical
        # A name of two letters is a common word: "or" (gold) would match "6 par 1 or", an OCR
        # reading of "6 par jour". Such a substance is found through its products' names.
        synonyms = {name: key for name, key in synonyms.items() if len(name) > 2}

        components: dict[str, list[Component]] = defaultdict(list)
        for cis, key, value, unit, salt_value, salt_unit in comp_df.select(
            "cis", "substance_key", "dosage_value", "dosage_unit", "salt_dosage_value", "salt_dosage_unit"
        ).iter_rows():
            components[cis].append(
                Component(
                    key,
                    float(value) if value else None,
                    unit or None,
                    float(salt_value) if salt_value else None,
                    salt_unit or None,
                )
            )

        specialties: dict[str, Specialty] = {}
        for row in spec_df.select(
            "cis", "name", "brand", "brand_key", "form", "routes", "marketing_status", "homeopathic", "atc"
        ).iter_rows():
            cis, name, brand, brand_key, form, routes, marketing, homeo, atc = row
            specialties[cis] = Specialty(
                cis=cis,
                name=name,
                brand=brand,
                brand_key=brand_key,
                form=form or "",
                routes=routes or "",
                marketed=marketing == "Commercialisée",
                homeopathic=homeo == "1",
                atc=atc or None,
                components=tuple(components.get(cis, ())),
            )
        cip13_to_cis = dict(pres_df.select("cip13", "cis").iter_rows())
        version = (directory / "VERSION").read_text().strip() if (directory / "VERSION").exists() else "dev"
        return cls(substances, specialties, cip13_to_cis, synonyms, version)


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False).fill_null("")


def _read_synonym_table(path: Path) -> dict[str, str]:
    """Curated abbreviations and usual names: folded alias -> substance key."""
    if not path.exists():
        return {}
    frame = _read(path)
    expected = {"alias", "substance_key", "source"}
    if set(frame.columns) != expected:
        raise KnowledgeBaseError(f"{path}: columns must be {sorted(expected)}, got {frame.columns}")
    return {fold(alias): key for alias, key in frame.select("alias", "substance_key").iter_rows()}
