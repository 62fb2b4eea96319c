"""Grid-connected plants (并网电厂台账) as grid companies keep them, read and checked; and the
cross-check of plant ids between the generation-side files.

Notice 1283 clause (五) asks grid companies to watch the output of grid-connected plants —
mostly small hydro — for drops that neither water nor dispatch explain, the sign of a plant
feeding miners through a private line (clause 十二: 网前供电、专线直供电). The detector
needs, for every plant, its size, its basin (plants of one basin share rain) and the gauge
whose inflow feeds it. The readers of this family:

* :func:`read_plants` — the plant archive (this module),
  :data:`~minewatch.ingest.schemas.PLANTS_SCHEMA`;
* :func:`~minewatch.ingest.plants_generation.read_generation` — metered output, terminal
  (机端) and grid-tie (上网/关口), :data:`~minewatch.ingest.schemas.GENERATION_SCHEMA`;
* :func:`~minewatch.ingest.plants_inflow.read_inflow` — river inflow per gauge and day,
  :data:`~minewatch.ingest.schemas.INFLOW_SCHEMA`;
* :func:`~minewatch.ingest.plants_events.read_plant_events` — dispatch instructions,
  curtailment and maintenance, :data:`~minewatch.ingest.schemas.PLANT_EVENTS_SCHEMA`;
* :func:`check_plant_ids` / :func:`unknown_plant_ids` — ids in output or events that the
  archive lacks.

All are importable from here. Each reads CSV (UTF-8, UTF-8 with BOM or GB18030; ``,``, ``;``,
tab or ``|``; optionally ``.csv.gz``) or Parquet, from a file, a glob pattern or a folder
(:func:`~minewatch.ingest.meters.expand_inputs`); headers match after NFKC normalisation,
ignoring spaces and case, and may carry their unit (``装机容量(MW)``, ``capacity_mw``: see
:mod:`~minewatch.ingest.plants_common`). Every problem is named with its file, row (the header
is row 1) and column, all of them in one :class:`~minewatch.errors.InputFileError`; nothing is
returned when there is one.

The plant archive, one plant per row:

==================  ===============================================  ===========================
column              also accepted                                    content
==================  ===============================================  ===========================
``plant_id``        电站编号, 电厂编号, 电站代码, 场站编号, plant     required, unique
``name``            电站名称, 电厂名称, 场站名称, 名称, plant_name
``plant_type``      电站类型, 电源类型, 发电类型, 类型, type          hydro (水电, 小水电), thermal
                                                                     (火电), wind (风电), solar
                                                                     (光伏); empty: hydro
``capacity_kw``     装机容量, 总装机容量, 装机规模, capacity          required, > 0; kW, MW or 万kW
                                                                     by header (装机容量(MW),
                                                                     capacity_mw) or cell (5MW)
``units``           机组台数, 机组数, 台数, unit_count               a whole number ≥ 1
``basin``           流域, 所属流域, catchment
``river``           河流, 所在河流, 河流名称
``gauge_id``        水文站, 水文站编号, 测站编号, 测站, 站码, gauge   the inflow series of
                                                                     :func:`read_inflow`
``loss_fraction``   损耗率, 综合厂用电率, 厂用电率, losses           terminal → grid-tie losses:
                                                                     0.03, 3% or a ``(%)`` header;
                                                                     0 ≤ x < 1; empty: learn it
``owner``           业主, 业主单位, 所属企业, 发电企业, 产权单位
``uscc``            统一社会信用代码, 信用代码, 社会信用代码          GB 32100, checked
``address``         地址, 详细地址, 电站地址, 厂址
``region_code``     行政区划代码, 区划代码                           GB/T 2260, checked
==================  ===============================================  ===========================

Checked, each with its row and column: an empty or repeated ``plant_id`` (also across the
files of one call), an empty, non-positive or unreadable capacity, an unknown plant type, a
number of units that is not a whole number ≥ 1, a loss fraction outside 0 … 1 (a bare ``3``
is refused: write ``0.03`` or ``3%``), a credit code with a bad check character, an unknown
region code.

**Cross-check.** Output or events of a plant the archive does not hold cannot be judged (no
capacity, no basin): :func:`check_plant_ids` raises :class:`UnknownPlantsError` listing those
ids — an error, not a warning, because a wrong id in a grid export would otherwise drop a
plant from the watch without a word. :func:`unknown_plant_ids` only reports them (for callers
that choose to go on), together with the gauges the archive names that have no inflow, which
is never an error (the detector then leans on the plant's basin peers).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from minewatch.errors import InputProblem, MineWatchError
from minewatch.ingest.meters import (
    _cell_number,
    _CellError,
    _header_key,
    _region_cell,
    _Rows,
    _table_records,
    _uscc_cell,
    expand_inputs,
)
from minewatch.ingest.plants_common import (
    PLANT_ID_ALIASES,
    Column,
    Quantity,
    plan_headers,
    quantity_cell,
    text_of,
    unit_index,
)
from minewatch.ingest.plants_events import read_plant_events
from minewatch.ingest.plants_generation import read_generation
from minewatch.ingest.plants_inflow import read_inflow
from minewatch.ingest.schemas import PLANTS_SCHEMA, PlantType

__all__ = [
    "PLANT_TYPE_LABELS",
    "UnknownPlantIds",
    "UnknownPlantsError",
    "check_plant_ids",
    "read_generation",
    "read_inflow",
    "read_plant_events",
    "read_plants",
    "unknown_plant_ids",
]

_log = logging.getLogger(__name__)

_ALIASES: dict[str, tuple[str, ...]] = {
    "plant_id": PLANT_ID_ALIASES,
    "name": ("plant_name", "电站名称", "电厂名称", "场站名称", "名称", "电站", "电厂"),
    "plant_type": ("type", "电站类型", "电源类型", "发电类型", "类型", "电厂类型", "能源类型"),
    "capacity_kw": (
        "capacity",
        "installed_capacity",
        "装机容量",
        "总装机容量",
        "装机规模",
        "装机",
        "并网容量",
    ),
    "units": ("unit_count", "n_units", "机组台数", "机组数", "台数", "机组数量"),
    "basin": ("catchment", "流域", "所属流域", "流域名称"),
    "river": ("河流", "所在河流", "河流名称", "河名"),
    "gauge_id": (
        "gauge",
        "gauge_code",
        "水文站",
        "水文站编号",
        "水文站代码",
        "测站编号",
        "测站代码",
        "测站",
        "站码",
        "水文测站",
    ),
    "loss_fraction": (
        "loss",
        "losses",
        "loss_rate",
        "损耗率",
        "综合厂用电率",
        "厂用电率",
        "厂用电及损耗率",
        "损耗",
    ),
    "owner": ("company", "业主", "业主单位", "所属企业", "发电企业", "产权单位", "运营单位"),
    "uscc": ("统一社会信用代码", "信用代码", "社会信用代码"),
    "address": ("地址", "详细地址", "电站地址", "厂址", "电厂地址"),
    "region_code": ("行政区划代码", "区划代码"),
}
_INDEX = unit_index(_ALIASES, {"capacity_kw": Quantity.POWER})
_ALLOWED = {"capacity_kw": (Quantity.POWER,), "loss_fraction": (Quantity.RATIO,)}

PLANT_TYPE_LABELS: dict[PlantType, tuple[str, ...]] = {
    PlantType.HYDRO: ("水电", "小水电", "水电站", "水力发电", "水力", "径流式", "引水式"),
    PlantType.THERMAL: ("火电", "燃煤", "燃气", "煤电", "热电", "火力发电", "生物质"),
    PlantType.WIND: ("风电", "风力发电", "风电场", "风力"),
    PlantType.SOLAR: ("光伏", "太阳能", "光伏发电", "光伏电站", "pv"),
}
"""The words a plant archive may use for each :class:`~minewatch.ingest.schemas.PlantType`."""
_TYPE_INDEX = {
    _header_key(label): kind
    for kind, labels in PLANT_TYPE_LABELS.items()
    for label in (kind.value, *labels)
}


def _plant_type(value: object) -> str:
    text = text_of(value)
    if text is None:
        return PlantType.HYDRO.value
    kind = _TYPE_INDEX.get(_header_key(text))
    if kind is None:
        choices = ", ".join(f"{k.value} ({labels[0]})" for k, labels in PLANT_TYPE_LABELS.items())
        raise _CellError(f"{text!r} is not a plant type: {choices}")
    return kind.value


def _capacity(column: Column) -> Any:
    def parse(value: object) -> float:
        kw = quantity_cell(value, (Quantity.POWER,), column)
        if kw is None:
            raise _CellError("is empty; give the installed capacity")
        if not math.isfinite(kw) or kw <= 0:
            raise _CellError(f"{kw:g} kW is not a capacity (must be > 0)")
        return kw

    return parse


def _units(value: object) -> int | None:
    text = text_of(value)
    number = _cell_number(text.removesuffix("台").strip() if text is not None else None)
    if number is None:
        return None
    if not number.is_integer() or number < 1:
        raise _CellError(f"{number:g} is not a number of units (a whole number ≥ 1)")
    if number > 2**31 - 1:
        raise _CellError(f"{number:g} units is too many")
    return int(number)


def _loss(column: Column) -> Any:
    def parse(value: object) -> float | None:
        fraction = quantity_cell(value, (Quantity.RATIO,), column)
        if fraction is None:
            return None
        said_percent = column.factor is not None or (isinstance(value, str) and "%" in value)
        if not said_percent and fraction >= 1:
            raise _CellError(
                f"{fraction:g} is not a fraction; write {fraction / 100:g} or {fraction:g}%"
            )
        if not 0 <= fraction < 1:
            raise _CellError(f"{fraction:g} is not a loss fraction (0 ≤ x < 1)")
        return fraction

    return parse


def _plain(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_plants(spec: str | Path | Sequence[str | Path]) -> pa.Table:
    """Read and check the plant archive (see the module's description).

    Parameters
    ----------
    spec : str, Path or a sequence of them
        A file, a glob pattern or a folder (:func:`~minewatch.ingest.meters.expand_inputs`);
        several files are one archive (a plant id may appear once in all of them).

    Returns
    -------
    pyarrow.Table
        :data:`~minewatch.ingest.schemas.PLANTS_SCHEMA` rows in file order; ``capacity_kw``
        in kW whatever unit the file used; ``plant_type`` ``hydro`` where the file says
        nothing.

    Raises
    ------
    InputFileError
        Naming every problem of the first file that has any, with row and column.
    """
    tables: list[pa.Table] = []
    seen: dict[str, tuple[Path, int]] = {}
    for path in expand_inputs(spec):
        tables.append(_read_plant_file(path, seen))
    return pa.concat_tables(tables) if tables else PLANTS_SCHEMA.empty_table()


def _read_plant_file(path: Path, seen: dict[str, tuple[Path, int]]) -> pa.Table:
    headers, records = _table_records(path)
    columns = plan_headers(
        path,
        headers,
        _INDEX,
        required=("plant_id", "capacity_kw"),
        allowed=_ALLOWED,
        aliases={**_ALIASES, "capacity_kw": ("装机容量",)},
    )
    positions = {key: column.position for key, column in columns.items()}
    rows = _Rows(path, headers, positions)
    out: dict[str, list[Any]] = {name: [] for name in PLANTS_SCHEMA.names}
    capacity = _capacity(columns["capacity_kw"])
    loss = _loss(columns.get("loss_fraction") or Column("loss_fraction", 0, "loss_fraction"))
    for row, cells in records:
        if not rows.shape(row, cells):
            continue
        plant = text_of(rows.cell(cells, "plant_id"))
        if plant is None:
            rows.problems.append(InputProblem(row, rows.header("plant_id"), "is empty"))
        elif plant in seen:
            where, first = seen[plant]
            place = f"row {first}" if where == path else f"{where}, row {first}"
            reason = f"plant {plant} is already given in {place}"
            rows.problems.append(InputProblem(row, rows.header("plant_id"), reason))
        else:
            seen[plant] = (path, row)
        out["plant_id"].append(plant)
        out["name"].append(_plain(rows.cell(cells, "name")))
        out["plant_type"].append(rows.get(row, cells, "plant_type", _plant_type))
        out["capacity_kw"].append(rows.get(row, cells, "capacity_kw", capacity))
        out["units"].append(rows.get(row, cells, "units", _units))
        out["basin"].append(_plain(rows.cell(cells, "basin")))
        out["river"].append(_plain(rows.cell(cells, "river")))
        out["gauge_id"].append(text_of(rows.cell(cells, "gauge_id")))
        out["loss_fraction"].append(rows.get(row, cells, "loss_fraction", loss))
        out["owner"].append(_plain(rows.cell(cells, "owner")))
        out["uscc"].append(rows.get(row, cells, "uscc", _uscc_cell))
        out["address"].append(_plain(rows.cell(cells, "address")))
        out["region_code"].append(rows.get(row, cells, "region_code", _region_cell))
    rows.raise_problems()
    return pa.table(out, schema=PLANTS_SCHEMA)


# --------------------------------------------------------------------------- cross-check


@dataclass(frozen=True)
class UnknownPlantIds:
    """Ids that one frame names and the plant archive lacks (each sorted)."""

    generation: tuple[str, ...] = ()  # plants with output but no archive row
    events: tuple[str, ...] = ()  # plants with dispatch/curtailment/maintenance records
    gauges_without_inflow: tuple[str, ...] = ()  # gauges the archive names, absent in inflow

    @property
    def plants(self) -> tuple[str, ...]:
        """Every unknown plant id (output or events), sorted."""
        return tuple(sorted({*self.generation, *self.events}))


_LISTED = 20


def _listing(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:_LISTED])
    return shown + (f" … ({len(ids)} in all)" if len(ids) > _LISTED else "")


class UnknownPlantsError(MineWatchError):
    """Output or event records name plants that the plant archive does not hold."""

    def __init__(self, unknown: UnknownPlantIds) -> None:
        self.unknown = unknown
        parts = []
        if unknown.generation:
            parts.append(
                f"{len(unknown.generation)} plant(s) with output but not in the plant archive: "
                + _listing(unknown.generation)
            )
        if unknown.events:
            parts.append(
                f"{len(unknown.events)} plant(s) with dispatch, curtailment or maintenance "
                "records but not in the plant archive: " + _listing(unknown.events)
            )
        parts.append("add them to the archive (with their capacity) or correct their ids")
        super().__init__("; ".join(parts))


def _ids(table: pa.Table, column: str) -> set[str]:
    return {value for value in pc.unique(table.column(column)).to_pylist() if value is not None}


def unknown_plant_ids(
    plants: pa.Table,
    *,
    generation: pa.Table | None = None,
    events: pa.Table | None = None,
    inflow: pa.Table | None = None,
) -> UnknownPlantIds:
    """The ids of ``generation`` and ``events`` that ``plants`` lacks, and the gauges that
    ``plants`` names and ``inflow`` lacks.

    Parameters
    ----------
    plants : pyarrow.Table
        :data:`~minewatch.ingest.schemas.PLANTS_SCHEMA`, as :func:`read_plants` returns it.
    generation, events, inflow : pyarrow.Table, optional
        :data:`~minewatch.ingest.schemas.GENERATION_SCHEMA`,
        :data:`~minewatch.ingest.schemas.PLANT_EVENTS_SCHEMA`,
        :data:`~minewatch.ingest.schemas.INFLOW_SCHEMA`; a frame not given is not checked.

    Returns
    -------
    UnknownPlantIds
    """
    known = _ids(plants, "plant_id")
    gauges: tuple[str, ...] = ()
    if inflow is not None:
        gauges = tuple(sorted(_ids(plants, "gauge_id") - _ids(inflow, "gauge_id")))
    return UnknownPlantIds(
        generation=tuple(sorted(_ids(generation, "plant_id") - known))
        if generation is not None
        else (),
        events=tuple(sorted(_ids(events, "plant_id") - known)) if events is not None else (),
        gauges_without_inflow=gauges,
    )


def check_plant_ids(
    plants: pa.Table,
    *,
    generation: pa.Table | None = None,
    events: pa.Table | None = None,
    inflow: pa.Table | None = None,
) -> UnknownPlantIds:
    """:func:`unknown_plant_ids`, raising when output or events name a plant the archive lacks.

    Gauges without inflow are only logged (a warning) and returned: a plant without its own
    inflow is judged against its basin's peers.

    Raises
    ------
    UnknownPlantsError
        Listing the unknown ids (the first 20 of each frame, and how many there are).
    """
    unknown = unknown_plant_ids(plants, generation=generation, events=events, inflow=inflow)
    if unknown.plants:
        raise UnknownPlantsError(unknown)
    if unknown.gauges_without_inflow:
        _log.warning(
            "%d gauge(s) named in the plant archive have no inflow: %s",
            len(unknown.gauges_without_inflow),
            _listing(unknown.gauges_without_inflow),
        )
    return unknown
