"""Build the dashboard's offline maps from the map data of Apache ECharts 4.9.0 (Apache-2.0).

ECharts 4's npm package ships ``map/json/china.json`` (the provinces) and
``map/json/province/<pinyin>.json`` (each province's prefectures; a municipality's districts) in
ECharts' compressed coordinate encoding (``"UTF8Encoding": true``: each ring a string of
zigzag-encoded coordinate deltas, two UTF-16 code units per point, quantised at 1/1024 degree,
starting from ``encodeOffsets``). This script

1. decodes them to plain GeoJSON (longitude, latitude in degrees);
2. attaches the GB/T 2260 (2021) code of each feature as its ``id`` and ``properties.code``, and
   the 2021 name as ``properties.name``: a feature's own code where it is current and names the
   same place, else its name looked up within the province, else the successor of its retired
   code. The areas of a map are those the dashboard counts by
   (:func:`minewatch.domain.dashboard.figures.map_areas`: the provinces; a province's
   prefectures, or its counties where a grouping — 市辖区, 省直辖县级行政区划 — stands between);
   a feature that now lies inside another area (莱芜市, merged into 济南市 in 2019) is merged into
   it. Features that match nothing and areas that no feature draws are reported;
3. simplifies, keeping shared borders shared: coordinates are rounded to 3 decimals (about
   100 m) and consecutive duplicates dropped; rings are cut into arcs at the points where the
   set of rings passing through changes, and each arc is simplified once (Douglas–Peucker, the
   same result for both neighbours), so no gaps or overlaps open between areas;
4. writes ``china.json`` and ``<province code>.json`` into the destination (compact JSON).

Provinces without GB/T 2260 codes below them (台湾省 710000, 香港 810000, 澳门 820000) get no
province map; they are drawn on the national one.

Run from the repository root: ``python tools/build_maps.py ECHARTS_TGZ [DEST]`` (``make maps
ECHARTS4=…/echarts-4.9.0.tgz``). Needs the ``minewatch`` package importable (``PYTHONPATH=src``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tarfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minewatch.domain.dashboard.figures import map_areas
from minewatch.reference import regions

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DEST = REPO / "src" / "minewatch" / "web" / "static" / "maps"
MEMBER_ROOT = "package/map/json/"

PROVINCE_FILES = {
    "beijing": "110000", "tianjin": "120000", "hebei": "130000", "shanxi": "140000",
    "neimenggu": "150000", "liaoning": "210000", "jilin": "220000", "heilongjiang": "230000",
    "shanghai": "310000", "jiangsu": "320000", "zhejiang": "330000", "anhui": "340000",
    "fujian": "350000", "jiangxi": "360000", "shandong": "370000", "henan": "410000",
    "hubei": "420000", "hunan": "430000", "guangdong": "440000", "guangxi": "450000",
    "hainan": "460000", "chongqing": "500000", "sichuan": "510000", "guizhou": "520000",
    "yunnan": "530000", "xizang": "540000", "shanxi1": "610000", "gansu": "620000",
    "qinghai": "630000", "ningxia": "640000", "xinjiang": "650000", "taiwan": "710000",
    "xianggang": "810000", "aomen": "820000",
}  # fmt: skip
"""ECharts' pinyin file names (``shanxi1`` is 陕西) and the provinces they draw."""

DECIMALS = 3
NATIONAL_TOLERANCE_DEG = 0.03
"""Douglas–Peucker tolerance of the national map [degrees] (about 3 km; drawn ~900 px wide, a
pixel is ~7 km)."""
PROVINCE_TOLERANCE_DEG = 0.004
"""…of the province maps [degrees] (about 400 m; a prefecture is drawn at ~300 m a pixel)."""
NAME_SUFFIXES = (
    "特别行政区",
    "自治区",
    "自治州",
    "地区",
    "林区",
    "省",
    "市",
    "县",
    "区",
    "盟",
    "旗",
)

Point = tuple[float, float]
Ring = list[Point]
Polygon = list[Ring]


# ----------------------------------------------------------------------------------------------
# decoding


def _code_units(text: str) -> list[int]:
    """UTF-16 code units, as JavaScript's ``charCodeAt`` reads them."""
    raw = text.encode("utf-16-le")
    return [int.from_bytes(raw[i : i + 2], "little") for i in range(0, len(raw), 2)]


def decode_ring(encoded: str, offset: Sequence[int], scale: float = 1024.0) -> Ring:
    """One ring of ECharts' encoding: per point two code units, each ``64 + zigzag(delta)``."""
    units = _code_units(encoded)
    x, y = offset[0], offset[1]
    ring: Ring = []
    for i in range(0, len(units) - 1, 2):
        dx, dy = units[i] - 64, units[i + 1] - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append((x / scale, y / scale))
    return ring


def decode_geometry(geometry: dict[str, Any], encoded: bool, scale: float) -> list[Polygon]:
    """A Polygon or MultiPolygon as a list of polygons, each a list of rings."""
    kind = geometry["type"]
    if kind == "Polygon":
        polygons, offsets = [geometry["coordinates"]], [geometry.get("encodeOffsets")]
    elif kind == "MultiPolygon":
        polygons, offsets = geometry["coordinates"], geometry.get("encodeOffsets")
    else:
        raise ValueError(f"unexpected geometry {kind}")
    out: list[Polygon] = []
    for p, polygon in enumerate(polygons):
        rings: Polygon = []
        for r, ring in enumerate(polygon):
            if encoded:
                assert offsets is not None
                rings.append(decode_ring(ring, offsets[p][r], scale))
            else:
                rings.append([(float(x), float(y)) for x, y in ring])
        out.append(rings)
    return out


@dataclass
class SourceFeature:
    source_id: str | None
    name: str
    cp: Point | None
    polygons: list[Polygon]


def decode_collection(collection: dict[str, Any]) -> list[SourceFeature]:
    encoded = bool(collection.get("UTF8Encoding"))
    scale = float(collection.get("UTF8Scale") or 1024)
    out = []
    for feature in collection["features"]:
        props = feature.get("properties") or {}
        geometry = feature.get("geometry")
        if not geometry or not geometry.get("coordinates"):
            continue
        ident = feature.get("id") or props.get("id")
        cp = props.get("cp")
        out.append(
            SourceFeature(
                source_id=None if ident is None else str(ident),
                name=str(props.get("name", "")),
                cp=None if not cp else (float(cp[0]), float(cp[1])),
                polygons=decode_geometry(geometry, encoded, scale),
            )
        )
    return out


# ----------------------------------------------------------------------------------------------
# matching to GB/T 2260


def _variants(name: str) -> list[str]:
    """The name, then the name without its suffix (梁平县 → 梁平)."""
    out = [name]
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            out.append(name[: -len(suffix)])
            break
    return out


def _names_agree(source: str, official: str) -> bool:
    short = _variants(source)[-1]
    return official.startswith(short) or source.startswith(_variants(official)[-1])


@dataclass
class Area:
    code: str
    name: str
    cp: Point | None = None
    polygons: list[Polygon] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def _lift(code: str, areas: dict[str, regions.Region]) -> str | None:
    """The area of the map that ``code`` lies in."""
    region = regions.find(code)
    while region is not None:
        if region.code in areas:
            return region.code
        region = regions.find(region.parent_code) if region.parent_code else None
    return None


def match_feature(
    feature: SourceFeature, scope: str, areas: dict[str, regions.Region]
) -> str | None:
    """The code of the area a source feature draws, or None."""
    within = None if scope == regions.NATIONAL else scope
    ident = feature.source_id
    if ident is not None:
        region = regions.find(ident)
        if region is not None and _names_agree(feature.name, region.name):
            lifted = _lift(region.code, areas)
            if lifted is not None:
                return lifted
    for variant in _variants(feature.name):
        found = {_lift(r.code, areas) for r in regions.find_by_name(variant, within=within)}
        found.discard(None)
        if len(found) == 1:
            return found.pop()
    if ident is not None:
        history = regions.succession(ident)
        if history is not None:
            lifted = {_lift(code, areas) for code in history.successors} - {None}
            if len(lifted) == 1:
                return lifted.pop()
    return None


@dataclass
class Report:
    unmatched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def build_areas(
    features: Iterable[SourceFeature], scope: str, label: str, report: Report
) -> list[Area]:
    """The map's areas, in code order, each drawn by the features that match it."""
    wanted = {r.code: r for r in map_areas(scope)}
    built: dict[str, Area] = {}
    for feature in features:
        code = match_feature(feature, scope, wanted)
        if code is None:
            report.unmatched.append(f"{label}: {feature.source_id or '-'} {feature.name}")
            continue
        region = wanted[code]
        area = built.setdefault(code, Area(code, region.name))
        area.polygons.extend(feature.polygons)
        area.sources.append(feature.name)
        if feature.cp is not None and (area.cp is None or _names_agree(feature.name, region.name)):
            area.cp = feature.cp
    for area in built.values():
        if len(area.sources) > 1:
            report.merged.append(f"{label}: {' + '.join(area.sources)} → {area.code} {area.name}")
    for code, region in wanted.items():
        if code not in built:
            report.missing.append(f"{label}: {code} {region.name}")
    return [built[code] for code in sorted(built)]


# ----------------------------------------------------------------------------------------------
# simplification that keeps shared borders shared


def _snap(ring: Ring) -> Ring:
    """Rounded to ``DECIMALS``, consecutive duplicates and the closing point dropped."""
    out: Ring = []
    for x, y in ring:
        point = (round(x, DECIMALS), round(y, DECIMALS))
        if not out or out[-1] != point:
            out.append(point)
    while len(out) > 1 and out[0] == out[-1]:
        out.pop()
    return out


def _distance2(p: Point, a: Point, b: Point) -> float:
    """Squared distance from ``p`` to the segment ``a``–``b``."""
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return (p[0] - ax) ** 2 + (p[1] - ay) ** 2
    t = max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / length2))
    return (p[0] - ax - t * dx) ** 2 + (p[1] - ay - t * dy) ** 2


def douglas_peucker(line: Sequence[Point], tolerance: float) -> list[Point]:
    """The polyline's points kept by Douglas–Peucker; the ends are always kept."""
    if len(line) <= 2:
        return list(line)
    keep = [False] * len(line)
    keep[0] = keep[-1] = True
    limit = tolerance * tolerance
    stack = [(0, len(line) - 1)]
    while stack:
        first, last = stack.pop()
        worst, index = -1.0, -1
        for i in range(first + 1, last):
            d = _distance2(line[i], line[first], line[last])
            if d > worst:
                worst, index = d, i
        if index > 0 and worst > limit:
            keep[index] = True
            stack.extend(((first, index), (index, last)))
    return [p for p, kept in zip(line, keep, strict=True) if kept]


class ArcSimplifier:
    """Simplify every ring of a map so that a border two areas share is simplified once."""

    def __init__(self, rings: Iterable[Ring], tolerance: float) -> None:
        self.tolerance = tolerance
        self.members: dict[Point, set[int]] = {}
        for index, ring in enumerate(rings):
            for point in ring:
                self.members.setdefault(point, set()).add(index)
        self.done: dict[tuple[Point, ...], list[Point]] = {}

    def _arc(self, arc: list[Point]) -> list[Point]:
        forward, backward = tuple(arc), tuple(reversed(arc))
        key = min(forward, backward)
        if key not in self.done:
            self.done[key] = douglas_peucker(key, self.tolerance)
        simplified = self.done[key]
        return list(simplified) if key == forward else list(reversed(simplified))

    def ring(self, ring: Ring) -> Ring:
        n = len(ring)
        if n < 3:
            return ring
        sets = [self.members[p] for p in ring]
        fixed = [
            i
            for i in range(n)
            if len(sets[i]) > 2 or sets[i] != sets[i - 1] or sets[i] != sets[(i + 1) % n]
        ]
        if not fixed:
            # a ring nobody else shares in part: fix its least point and the one farthest away
            start = min(range(n), key=lambda i: ring[i])
            far = max(range(n), key=lambda i: (_distance2(ring[i], ring[start], ring[start]),
                                               ring[i]))  # fmt: skip
            fixed = sorted({start, far})
        out: Ring = []
        for k, begin in enumerate(fixed):
            end = fixed[(k + 1) % len(fixed)]
            span = end - begin if end > begin else end + n - begin
            arc = [ring[(begin + j) % n] for j in range(span + 1)]
            out.extend(self._arc(arc)[:-1])
        return out


def simplify_areas(areas: list[Area], tolerance: float) -> None:
    """Snap, then simplify in place; a ring left with fewer than 3 points is dropped (a polygon
    whose outer ring goes, goes), but an area keeps at least its largest polygon."""
    for area in areas:
        area.polygons = [[_snap(ring) for ring in polygon] for polygon in area.polygons]
    simplifier = ArcSimplifier(
        (ring for area in areas for polygon in area.polygons for ring in polygon), tolerance
    )
    for area in areas:
        kept: list[Polygon] = []
        for polygon in area.polygons:
            rings = [simplifier.ring(ring) for ring in polygon]
            if len(rings[0]) < 3:
                continue
            kept.append([rings[0], *(r for r in rings[1:] if len(r) >= 3)])
        if not kept:
            largest = max(area.polygons, key=lambda polygon: len(polygon[0]))
            kept = [[largest[0]]]
        area.polygons = kept


# ----------------------------------------------------------------------------------------------
# writing


def _closed(ring: Ring) -> list[list[float]]:
    return [[x, y] for x, y in [*ring, ring[0]]]


def feature_collection(areas: Iterable[Area]) -> dict[str, Any]:
    features = []
    for area in areas:
        polygons = [[_closed(ring) for ring in polygon] for polygon in area.polygons]
        geometry: dict[str, Any] = (
            {"type": "Polygon", "coordinates": polygons[0]}
            if len(polygons) == 1
            else {"type": "MultiPolygon", "coordinates": polygons}
        )
        properties: dict[str, Any] = {"code": area.code, "name": area.name}
        if area.cp is not None:
            properties["cp"] = [round(area.cp[0], DECIMALS), round(area.cp[1], DECIMALS)]
        features.append(
            {"type": "Feature", "id": area.code, "properties": properties, "geometry": geometry}
        )
    return {"type": "FeatureCollection", "features": features}


def read_sources(tgz: Path) -> dict[str, dict[str, Any]]:
    """``china`` and each province's pinyin name → its JSON, from the npm package."""
    out: dict[str, dict[str, Any]] = {}
    with tarfile.open(tgz, "r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile() or not member.name.startswith(MEMBER_ROOT):
                continue
            relative = member.name[len(MEMBER_ROOT) :]
            if relative == "china.json" or (
                relative.startswith("province/") and relative.endswith(".json")
            ):
                handle = archive.extractfile(member)
                assert handle is not None
                out[Path(relative).stem] = json.loads(handle.read().decode("utf-8"))
    if "china" not in out:
        raise SystemExit(f"{tgz}: no {MEMBER_ROOT}china.json — is this ECharts 4's npm package?")
    return out


def build(tgz: Path, dest: Path) -> Report:
    report = Report()
    sources = read_sources(tgz)
    plans: list[tuple[str, str, dict[str, Any], float]] = [
        ("china", regions.NATIONAL, sources["china"], NATIONAL_TOLERANCE_DEG)
    ]
    for stem, code in sorted(PROVINCE_FILES.items(), key=lambda item: item[1]):
        if stem not in sources:
            report.skipped.append(f"{code}: no province/{stem}.json in the package")
            continue
        if not map_areas(code):
            report.skipped.append(f"{code} {regions.get(code).name}: no GB/T 2260 codes below it")
            continue
        plans.append((code, code, sources[stem], PROVINCE_TOLERANCE_DEG))
    dest.mkdir(parents=True, exist_ok=True)
    for name, scope, collection, tolerance in plans:
        areas = build_areas(decode_collection(collection), scope, name, report)
        simplify_areas(areas, tolerance)
        text = json.dumps(feature_collection(areas), ensure_ascii=False, separators=(",", ":"))
        (dest / f"{name}.json").write_text(text + "\n", encoding="utf-8")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tgz", type=Path, help="echarts-4.9.0.tgz (the npm package)")
    parser.add_argument("dest", type=Path, nargs="?", default=DEFAULT_DEST)
    args = parser.parse_args(argv)
    report = build(args.tgz, args.dest)
    written = sorted(args.dest.glob("*.json"))
    size = sum(p.stat().st_size for p in written)
    print(f"wrote {len(written)} maps ({size / 1e6:.1f} MB) to {args.dest}")
    for title, lines in (
        ("merged into one area", report.merged),
        ("areas no feature draws", report.missing),
        ("features matching no area (left out)", report.unmatched),
        ("no province map", report.skipped),
    ):
        if lines:
            print(f"{title}:")
            for line in lines:
                print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
