"""Rebuild datasets/referential/ from the BDPM files.

    python datasets/build/build_referential.py [--bdpm ../shared/reference/bdpm]

Writes four CSV tables (specialties, compositions, presentations, substances)
holding facts only: identifiers, names, forms, routes, substances, dosages and
ATC codes. Substance ATC codes come from CIS_MITM on mono-substance
specialties, then from the curated table atc_curated.csv for the gaps.
The output is deterministic: re-running on the same input gives the same files.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pharma_service.text import fold, substance_key  # noqa: E402

OUT = REPO / "datasets" / "referential"
DOSAGE = re.compile(r"^\s*([0-9][0-9 \u00a0]*(?:[.,][0-9]+)?)\s*([a-zA-Zµμ%]+(?:\s*[a-zA-Z]+)?)")
_HOMEOPATHY = "homéo"


def read_bdpm(path: Path) -> Iterator[list[str]]:
    """BDPM files mix UTF-8 and Windows-1252 lines; decode each line on its own."""
    with path.open("rb") as handle:
        for raw in handle:
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                line = raw.decode("cp1252")
            line = line.rstrip("\r\n")
            if line:
                yield [cell.strip() for cell in line.split("\t")]


_DILUTION = re.compile(r"\b\d+\s*(?:CH|DH|K)\b")


def _is_homeopathic(spec: list[str]) -> bool:
    """By procedure, or by a dilution in the name (some stocks are registered otherwise)."""
    return _HOMEOPATHY in spec[5].lower() or bool(_DILUTION.search(spec[1]))


def parse_dosage(text: str) -> tuple[str, str]:
    """'1 000 mg' -> ('1000', 'mg'); anything not a plain quantity -> ('', '')."""
    match = DOSAGE.match(text)
    # Ranges ("480 mg à 540 mg") and homeopathic dilutions are not one strength.
    if not match or "CH" in text or "DH" in text or " à " in text:
        return "", ""
    value = match.group(1).replace(" ", "").replace("\u00a0", "").replace(",", ".")
    unit = match.group(2).strip().replace("μ", "µ")
    unit_folded = unit.lower()
    normalised = {
        "mg": "mg",
        "g": "g",
        "µg": "µg",
        "microgrammes": "µg",
        "microgramme": "µg",
        "mcg": "µg",
        "ui": "UI",
        "u": "UI",
        "ml": "ml",
        "%": "%",
        "mmol": "mmol",
        "meq": "mEq",
        "millions ui": "MUI",
        "m ui": "MUI",
    }.get(unit_folded)
    if normalised is None:
        first = unit_folded.split()[0]
        normalised = {"mg": "mg", "g": "g", "µg": "µg", "ui": "UI", "microgrammes": "µg"}.get(first)
    if normalised is None:
        return "", ""
    return str(float(value)).removesuffix(".0"), normalised


def brand_of(name: str) -> str:
    """The words before the first strength: 'ZECLAR 500 mg, comprimé' -> 'ZECLAR'."""
    head = name.split(",")[0]
    words: list[str] = []
    for word in head.split():
        if word[0].isdigit():
            break
        words.append(word)
    return " ".join(words)


@dataclass
class SubstanceFacts:
    names: Counter[str] = field(default_factory=Counter)
    synonyms: set[str] = field(default_factory=set)
    specialties: set[str] = field(default_factory=set)
    commercialised: set[str] = field(default_factory=set)
    mono_atc: Counter[str] = field(default_factory=Counter)


def build(bdpm: Path, out: Path) -> dict[str, int]:
    specialties = {row[0]: row for row in read_bdpm(bdpm / "CIS_bdpm.txt")}
    mitm = {row[0]: row[1] for row in read_bdpm(bdpm / "CIS_MITM.txt") if len(row) > 1}

    # Component number -> (FT row if any, SA rows): the FT names the active moiety.
    components: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(dict)
    for row in read_bdpm(bdpm / "CIS_COMPO_bdpm.txt"):
        cis, _form, _code, name, dosage, reference, nature, number = row[:8]
        slot = components[cis].setdefault(number, {})
        slot.setdefault(nature, row)
        if nature == "SA":
            slot.setdefault("SA_names", []).append(name)

    merges = _read_merges(out / "substance_merges.csv")
    composition_rows: list[list[str]] = []
    facts: dict[str, SubstanceFacts] = defaultdict(SubstanceFacts)
    for cis in sorted(components):
        spec = specialties.get(cis)
        if spec is None:
            continue
        homeopathic = _is_homeopathic(spec)
        keys_of_cis: set[str] = set()
        for number in sorted(components[cis], key=lambda n: (len(n), n)):
            slot = components[cis][number]
            row = slot.get("FT") or slot.get("SA")
            if row is None:
                continue
            name, dosage, reference = row[3], row[4], row[5]
            key = substance_key(name)
            key = merges.get(key, key)
            if not key:
                continue
            value, unit = parse_dosage(dosage)
            sa_names = slot.get("SA_names", [])
            # With an FT, the salt's dosage is kept too: product names and prescribers
            # quote either ("LEVOTHYROX 75 µg" is the salt, "AMLODIPINE 5 mg" the base).
            salt_value, salt_unit = parse_dosage(slot["SA"][4]) if "FT" in slot and "SA" in slot else ("", "")
            composition_rows.append(
                [
                    cis,
                    number,
                    key,
                    name,
                    ";".join(sorted(set(sa_names))),
                    value,
                    unit,
                    salt_value,
                    salt_unit,
                    dosage,
                    reference,
                ]
            )
            if homeopathic or "homéopathiques" in name.lower():
                continue
            keys_of_cis.add(key)
            subst = facts[key]
            subst.names[name] += 1
            subst.synonyms.update(fold(n) for n in [name, *sa_names])
            subst.specialties.add(cis)
            if spec[6] == "Commercialisée":
                subst.commercialised.add(cis)
        if len(keys_of_cis) == 1 and cis in mitm:
            facts[next(iter(keys_of_cis))].mono_atc[mitm[cis]] += 1

    curated = _read_curated(out / "atc_curated.csv")

    spec_rows = []
    for cis in sorted(specialties):
        row = specialties[cis]
        spec_rows.append(
            [
                cis,
                row[1],
                brand_of(row[1]),
                fold(brand_of(row[1])),
                row[2],
                row[3],
                row[4],
                row[6],
                "1" if _is_homeopathic(row) else "0",
                mitm.get(cis, ""),
                row[10] if len(row) > 10 else "",
            ]
        )

    presentation_rows = []
    for row in read_bdpm(bdpm / "CIS_CIP_bdpm.txt"):
        if len(row) > 6 and row[0] in specialties:
            presentation_rows.append([row[0], row[6], row[1], row[2], row[3]])
    presentation_rows.sort()

    substance_rows = []
    atc_sources: Counter[str] = Counter()
    for key in sorted(facts):
        subst = facts[key]
        display = _display_name(subst.names)
        # 4th-level MITM codes (G04BE, N05AX...) name a group, not a substance.
        codes = [code for code, _ in subst.mono_atc.most_common() if len(code) == 7]
        if key in curated:
            # Curated rows fill gaps and settle MITM conflicts (systemic code first).
            atc, source = curated[key], "curated"
            codes = [atc, *(c for c in codes if c != atc)]
        elif codes:
            atc, source = codes[0], "bdpm_mitm"
        else:
            atc, source = "", ""
        atc_sources[source or "none"] += 1
        synonyms = sorted(subst.synonyms - {key})
        substance_rows.append(
            [
                key,
                display,
                atc,
                ";".join(codes),
                source,
                ";".join(synonyms),
                str(len(subst.specialties)),
                str(len(subst.commercialised)),
            ]
        )

    out.mkdir(parents=True, exist_ok=True)
    # The snapshot is dated by its most recent marketing authorisation (dd/mm/yyyy).
    dates = [row[7] for row in specialties.values() if len(row) > 7 and row[7].count("/") == 2]
    latest = max(dates, key=lambda d: d.split("/")[::-1])
    (out / "VERSION").write_text("bdpm-" + "-".join(latest.split("/")[::-1]) + "\n", encoding="utf-8")
    _write(
        out / "specialties.csv",
        [
            "cis",
            "name",
            "brand",
            "brand_key",
            "form",
            "routes",
            "amm_status",
            "marketing_status",
            "homeopathic",
            "atc",
            "holder",
        ],
        spec_rows,
    )
    _write(
        out / "compositions.csv",
        [
            "cis",
            "component",
            "substance_key",
            "substance_name",
            "salt_names",
            "dosage_value",
            "dosage_unit",
            "salt_dosage_value",
            "salt_dosage_unit",
            "dosage_text",
            "dosage_reference",
        ],
        composition_rows,
    )
    _write(out / "presentations.csv", ["cis", "cip13", "cip7", "label", "status"], presentation_rows)
    _write(
        out / "substances.csv",
        [
            "key",
            "name",
            "atc",
            "atc_all",
            "atc_source",
            "synonyms",
            "specialties",
            "commercialised_specialties",
        ],
        substance_rows,
    )
    return {
        "specialties": len(spec_rows),
        "compositions": len(composition_rows),
        "presentations": len(presentation_rows),
        "substances": len(substance_rows),
        **{f"atc_{k}": v for k, v in sorted(atc_sources.items())},
    }


def _display_name(names: Counter[str]) -> str:
    """Lower-case DCI as BDPM writes the bare moiety most often (accents kept)."""
    for name, _count in names.most_common():
        lowered = name.lower()
        if fold(lowered) == substance_key(lowered):
            return lowered
    return substance_key(names.most_common(1)[0][0])


def _read_merges(path: Path) -> dict[str, str]:
    """Curated variant spellings of one substance: variant key -> canonical key."""
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["variant_key"]: row["canonical_key"] for row in csv.DictReader(handle)}


def _read_curated(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        # Keys are re-derived so that curated rows follow improvements of substance_key().
        return {
            substance_key(row["substance_key"]): row["atc"] for row in csv.DictReader(handle) if row["atc"]
        }


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bdpm", type=Path, default=REPO.parent / "shared" / "reference" / "bdpm")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    counts = build(args.bdpm, args.out)
    for name, count in counts.items():
        print(f"{name}: {count}")


if __name__ == "__main__":
    main()
