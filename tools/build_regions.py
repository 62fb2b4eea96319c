"""Build the packaged GB/T 2260 tables from the shared CC0 source files.

Reads ``gbt2260-2021.txt`` (the 2021 list, ``code name`` per line) and ``gbt2260-history.csv``
(every code since 1980 with its status) and writes, into the package's ``data`` folder:

* ``regions.csv``: ``code,name,level,parent_code,kind``. The 2021 list plus the groupings it
  leaves out (市辖区, 重庆's 县, 省/自治区直辖县级行政区划) so that every county has a parent.
* ``region_history.csv``: ``code,name,retired_year,successors``, one row per code that is not in
  the 2021 list but was used before; ``successors`` are the direct successor codes, ``;``-joined.
* ``REGIONS-LICENSE.txt``: where the data come from and under which licence.

Run from the repository root: ``python tools/build_regions.py [SOURCE [DEST]]`` (``make regions``).
Standard library only.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "regions"
DEFAULT_DEST = REPO / "src" / "minewatch" / "reference" / "data"

CURRENT_FILE = "gbt2260-2021.txt"
HISTORY_FILE = "gbt2260-history.csv"

MUNICIPALITIES = {"11", "12", "31", "50"}
CODE = re.compile(r"\d{6}")
# One entry of the history's 新代码 column: a code, optionally with the year of an earlier,
# partial transfer of territory, e.g. ``130108[2001]``.
SUCCESSOR = re.compile(r"(\d{6})(?:\[(\d{4})\])?")

LICENSE_TEXT = """\
GB/T 2260 administrative division tables (regions.csv, region_history.csv)

These files are derived by tools/build_regions.py from the following source files, which are
dedicated to the public domain under Creative Commons CC0 1.0 Universal:

  gbt2260-2021.txt     the GB/T 2260 code list as of 2021
  gbt2260-history.csv  every code since 1980 with its status, dates and successor codes

The derived tables are likewise released under CC0 1.0 Universal
(https://creativecommons.org/publicdomain/zero/1.0/). The groupings 市辖区, 县 (500200) and
省/自治区直辖县级行政区划, which the 2021 list omits, were added by the build script.
"""


def level_of(code: str) -> str:
    """GB/T 2260 level of a code from its shape."""
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "prefecture"
    return "county"


def read_current(path: Path) -> dict[str, str]:
    """The 2021 list as code → name."""
    current: dict[str, str] = {}
    for number, line in enumerate(path.read_text("utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not CODE.fullmatch(parts[0]):
            raise SystemExit(f"{path}:{number}: expected 'code name', got {line!r}")
        code, name = parts
        if code in current:
            raise SystemExit(f"{path}:{number}: duplicate code {code}")
        current[code] = name
    return current


def grouping_name(code: str) -> str:
    """Name of the grouping that stands in for a missing prefecture ``code``."""
    province, middle = code[:2], code[2:4]
    if province in MUNICIPALITIES and middle == "01":
        return "市辖区"
    if province == "50" and middle == "02":
        return "县"
    if middle == "90":
        return "自治区直辖县级行政区划" if province == "65" else "省直辖县级行政区划"
    raise SystemExit(f"county codes {code[:4]}xx have no prefecture and no known grouping")


def build_rows(current: dict[str, str]) -> list[dict[str, str]]:
    """Rows of regions.csv: the 2021 units plus synthesized groupings, ordered by code."""
    groupings: dict[str, str] = {}
    for code in current:
        if level_of(code) != "county":
            continue
        if code[:2] + "0000" not in current:
            raise SystemExit(f"{code}: province {code[:2]}0000 is missing")
        prefecture = code[:4] + "00"
        if prefecture not in current:
            groupings[prefecture] = grouping_name(prefecture)
    rows = []
    for code in sorted({*current, *groupings}):
        level = level_of(code)
        if level == "province":
            parent = ""
        elif level == "prefecture":
            parent = code[:2] + "0000"
        else:
            parent = code[:4] + "00"
        if parent and parent not in current and parent not in groupings:
            raise SystemExit(f"{code}: parent {parent} is missing")
        rows.append(
            {
                "code": code,
                "name": groupings.get(code) or current[code],
                "level": level,
                "parent_code": parent,
                "kind": "grouping" if code in groupings else "unit",
            }
        )
    return rows


def successors_of(field: str, code: str) -> list[str]:
    """Successor codes named in a 新代码 cell.

    Entries carrying a ``[year]`` record an earlier, partial transfer; when the cell also names
    plain codes, only those took over at retirement. A code is never its own successor.
    """
    entries = [SUCCESSOR.fullmatch(part.strip()) for part in field.split(";") if part.strip()]
    if any(entry is None for entry in entries):
        raise SystemExit(f"{code}: cannot read successors {field!r}")
    matched = [entry for entry in entries if entry is not None]
    plain = [entry.group(1) for entry in matched if entry.group(2) is None]
    chosen = plain or [entry.group(1) for entry in matched]
    unique: list[str] = []
    for successor in chosen:
        if successor != code and successor not in unique:
            unique.append(successor)
    return unique


def build_history(path: Path, current: set[str]) -> list[dict[str, str]]:
    """Rows of region_history.csv: codes no longer in use, each at its latest retirement."""
    latest: dict[str, dict[str, str]] = {}
    in_use: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            code, status = row["代码"].strip(), row["状态"].strip()
            if not CODE.fullmatch(code):
                raise SystemExit(f"{path}: bad code {code!r}")
            if status == "在用":
                in_use.add(code)
                continue
            if status not in {"弃用", "变更"}:
                raise SystemExit(f"{path}: {code}: unknown status {status!r}")
            if code in current:
                continue
            year = row["变更/弃用时间"].strip()
            if not re.fullmatch(r"\d{4}", year):
                raise SystemExit(f"{path}: {code}: bad retirement year {year!r}")
            record = {
                "code": code,
                "name": row["名称"].strip(),
                "retired_year": year,
                "successors": ";".join(successors_of(row["新代码"], code)),
            }
            previous = latest.get(code)
            if previous is None or int(year) >= int(previous["retired_year"]):
                latest[code] = record
    # Codes in use in the history but absent from 2021 were created later; they are not retired.
    return [latest[code] for code in sorted(latest) if code not in in_use]


def write_csv(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source_pos", nargs="?", metavar="SOURCE", help="folder of the sources")
    parser.add_argument("dest_pos", nargs="?", metavar="DEST", help="folder to write into")
    parser.add_argument("--source", help=f"folder of the sources (default {DEFAULT_SOURCE})")
    parser.add_argument("--dest", help=f"folder to write into (default {DEFAULT_DEST})")
    args = parser.parse_args(argv)
    source = Path(args.source or args.source_pos or DEFAULT_SOURCE)
    dest = Path(args.dest or args.dest_pos or DEFAULT_DEST)

    current = read_current(source / CURRENT_FILE)
    rows = build_rows(current)
    history = build_history(source / HISTORY_FILE, set(current) | {r["code"] for r in rows})

    dest.mkdir(parents=True, exist_ok=True)
    write_csv(dest / "regions.csv", ["code", "name", "level", "parent_code", "kind"], rows)
    write_csv(dest / "region_history.csv", ["code", "name", "retired_year", "successors"], history)
    (dest / "REGIONS-LICENSE.txt").write_text(LICENSE_TEXT, encoding="utf-8")
    groupings = sum(1 for r in rows if r["kind"] == "grouping")
    print(
        f"wrote {len(rows)} regions ({groupings} groupings) and {len(history)} retired codes "
        f"to {dest}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
