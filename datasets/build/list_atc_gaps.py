"""List the BDPM substances that get no ATC code from CIS_MITM.txt.

Substance-level ATC codes are derived from MITM: a substance gets the code(s)
of the MONO-substance specialties that contain it and have a MITM row. This
script lists the substances left without a code (the "gaps"), so that they can
be curated by hand in ``datasets/referential/atc_curated.csv``.

For each gap substance it prints: the substance key, a display name, the number
of non-homeopathic specialties containing it, how many of those are
"Commercialisée", and the MITM (combination) codes seen on multi-substance
specialties containing it. Rows are sorted by commercialised count.

With ``--conflicts`` it lists instead the substances whose mono-substance
specialties carry SEVERAL different MITM codes.

With ``--check CSV`` it validates a curated file (``substance_key,name,atc,note``):
5th-level ATC format, ``substance_key(name) == substance_key``, key known in
BDPM, and no code contradicting the MITM code(s) of the same key (a key whose
MITM mono codes conflict must use one of them, or say "MITM" in its note).
Exit status 1 when a problem is found.

Usage::

    python3 datasets/build/list_atc_gaps.py [--bdpm DIR] [--min-commercialised N]
                                            [--tsv] [--conflicts] [--check CSV]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from pharma_service.text import fold, substance_key  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_referential import read_bdpm  # noqa: E402  (one BDPM reader for both scripts)

DEFAULT_BDPM = REPO.parent / "shared" / "reference" / "bdpm"
HOMEOPATHIC_SUBSTANCE = "pour preparations homeopathiques"


@dataclass
class Specialty:
    cis: str
    name: str
    homeopathic: bool
    commercialised: bool
    substances: set[str] = field(default_factory=set)
    atc: str | None = None


@dataclass
class Gap:
    key: str
    name: str
    specialties: int = 0
    commercialised: int = 0
    combination_codes: Counter[str] = field(default_factory=Counter)


def load_specialties(bdpm: Path) -> tuple[dict[str, Specialty], dict[str, Counter[str]]]:
    """Specialties with their canonical substance keys and MITM code.

    Also returns, per substance key, the raw names seen (for display).
    """
    specialties: dict[str, Specialty] = {}
    for row in read_bdpm(bdpm / "CIS_bdpm.txt"):
        cis = row[0].strip()
        specialties[cis] = Specialty(
            cis=cis,
            name=row[1].strip(),
            homeopathic="homeo" in fold(row[5]),
            commercialised=row[6].strip() == "Commercialisée",
        )

    # A component is the set of rows sharing (CIS, pharmaceutical form, link
    # number): its canonical substance is the FT (active moiety) when present,
    # else the SA.
    components: dict[tuple[str, str, str], list[tuple[str, str]]] = defaultdict(list)
    for row in read_bdpm(bdpm / "CIS_COMPO_bdpm.txt"):
        cis, form, name, nature, link = row[0], row[1], row[3], row[6], row[7]
        components[(cis.strip(), form.strip(), link.strip())].append((nature.strip(), name.strip()))

    names: dict[str, Counter[str]] = defaultdict(Counter)
    for (cis, _form, _link), parts in components.items():
        if cis not in specialties:
            continue
        fractions = [name for nature, name in parts if nature == "FT"]
        chosen = fractions or [name for nature, name in parts if nature == "SA"]
        for name in chosen:
            key = substance_key(name)
            if key:
                specialties[cis].substances.add(key)
                names[key][name] += 1

    for row in read_bdpm(bdpm / "CIS_MITM.txt"):
        cis, atc = row[0].strip(), row[1].strip()
        if cis in specialties and atc:
            specialties[cis].atc = atc
    return specialties, names


def derived_codes(specialties: dict[str, Specialty]) -> dict[str, Counter[str]]:
    """Substance key -> MITM codes of the mono-substance specialties containing it."""
    codes: dict[str, Counter[str]] = defaultdict(Counter)
    for spec in specialties.values():
        if spec.atc and len(spec.substances) == 1:
            (key,) = spec.substances
            codes[key][spec.atc] += 1
    return codes


def display_name(raw: Counter[str]) -> str:
    """The most frequent raw BDPM spelling, as a readable name."""
    return raw.most_common(1)[0][0].strip()


def compute_gaps(bdpm: Path) -> list[Gap]:
    specialties, names = load_specialties(bdpm)
    coded = derived_codes(specialties)
    gaps: dict[str, Gap] = {}
    for spec in specialties.values():
        if spec.homeopathic:
            continue
        for key in spec.substances:
            if key in coded or HOMEOPATHIC_SUBSTANCE in key:
                continue
            gap = gaps.get(key)
            if gap is None:
                gap = gaps[key] = Gap(key=key, name=display_name(names[key]))
            gap.specialties += 1
            gap.commercialised += spec.commercialised
            if spec.atc and len(spec.substances) > 1:
                gap.combination_codes[spec.atc] += 1
    return sorted(gaps.values(), key=lambda g: (-g.commercialised, -g.specialties, g.key))


def conflicts(bdpm: Path) -> list[tuple[str, str, Counter[str]]]:
    """Substances whose mono-substance specialties carry several MITM codes."""
    specialties, names = load_specialties(bdpm)
    out = [
        (key, display_name(names[key]), codes)
        for key, codes in derived_codes(specialties).items()
        if len(codes) > 1
    ]
    return sorted(out, key=lambda item: (-sum(item[2].values()), item[0]))


ATC5 = re.compile(r"^[A-Z][0-9]{2}[A-Z]{2}[0-9]{2}$")


def check_curated(bdpm: Path, curated: Path) -> list[str]:
    """Problems found in a curated ``substance_key,name,atc,note`` file."""
    specialties, names = load_specialties(bdpm)
    coded = derived_codes(specialties)
    problems: list[str] = []
    seen: set[str] = set()
    with curated.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            key, name, atc = row["substance_key"], row["name"], row["atc"]
            note = row.get("note") or ""
            where = f"{curated.name}:{line} {key!r}"
            if key in seen:
                problems.append(f"{where}: duplicate key")
            seen.add(key)
            if not ATC5.match(atc):
                problems.append(f"{where}: {atc!r} is not a 5th-level ATC code")
            if substance_key(name) != key:
                problems.append(f"{where}: substance_key({name!r}) is {substance_key(name)!r}")
            if key not in names:
                problems.append(f"{where}: key not found in BDPM compositions")
            mitm = coded.get(key)
            if mitm and atc not in mitm and "MITM" not in note:
                problems.append(f"{where}: {atc} contradicts MITM {_codes(mitm)}")
            if mitm and len(mitm) == 1 and atc in mitm:
                problems.append(f"{where}: redundant, MITM already gives {atc}")
    return problems


def _codes(counter: Counter[str]) -> str:
    return " ".join(f"{code}x{n}" for code, n in counter.most_common())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bdpm", type=Path, default=DEFAULT_BDPM, help="BDPM directory")
    parser.add_argument("--min-commercialised", type=int, default=0)
    parser.add_argument("--tsv", action="store_true", help="tab-separated output")
    parser.add_argument(
        "--conflicts", action="store_true", help="list substances with several mono MITM codes"
    )
    parser.add_argument("--check", type=Path, metavar="CSV", help="validate a curated ATC file")
    args = parser.parse_args(argv)

    if args.check:
        problems = check_curated(args.bdpm, args.check)
        for problem in problems:
            print(problem)
        print(f"{args.check}: {len(problems)} problem(s)")
        return 1 if problems else 0

    if args.conflicts:
        for key, name, codes in conflicts(args.bdpm):
            print(f"{key}\t{name}\t{_codes(codes)}")
        return 0

    gaps = compute_gaps(args.bdpm)
    shown = [g for g in gaps if g.commercialised >= args.min_commercialised]
    if args.tsv:
        print("substance_key\tname\tspecialties\tcommercialised\tcombination_codes")
        for g in shown:
            print(f"{g.key}\t{g.name}\t{g.specialties}\t{g.commercialised}\t{_codes(g.combination_codes)}")
    else:
        print(f"{len(gaps)} substances without a MITM-derived ATC code ({len(shown)} shown)")
        print(f"{'comm':>4} {'spec':>4}  {'substance_key':<45} {'name':<45} combination codes")
        for g in shown:
            print(
                f"{g.commercialised:>4} {g.specialties:>4}  {g.key[:45]:<45} "
                f"{g.name[:45]:<45} {_codes(g.combination_codes)}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
