"""The basin generator: reproducible, schema-true, physically sane, ground truth consistent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pytest

from minewatch.ingest.schemas import (
    GENERATION_SCHEMA,
    INFLOW_SCHEMA,
    PLANT_EVENTS_SCHEMA,
    PLANTS_SCHEMA,
    PlantEventKind,
)
from minewatch.reference import credit_code
from minewatch.synth.plants import (
    TRUTH_SCHEMA,
    PlantBasins,
    PlantSynthParams,
    generate_plants,
    write_plant_basins,
)

PARAMS = PlantSynthParams(basins=2, plants_per_basin=(5, 6))


@pytest.fixture(scope="module")
def basins() -> PlantBasins:
    return generate_plants(5, PARAMS)


def test_same_seed_same_basins_other_seed_other_basins(basins: PlantBasins) -> None:
    again = generate_plants(5, PARAMS)
    assert again.generation.equals(basins.generation)
    assert again.truth.equals(basins.truth)
    assert not generate_plants(6, PARAMS).generation.equals(basins.generation)


def test_frames_follow_the_canonical_schemas(basins: PlantBasins) -> None:
    assert basins.plants.schema == PLANTS_SCHEMA
    assert basins.generation.schema == GENERATION_SCHEMA
    assert basins.inflow.schema == INFLOW_SCHEMA
    assert basins.events.schema == PLANT_EVENTS_SCHEMA
    assert basins.truth.schema == TRUTH_SCHEMA
    assert all(credit_code.is_valid(c) for c in basins.plants.column("uscc").to_pylist())
    kinds = set(basins.events.column("kind").to_pylist())
    assert kinds <= {k.value for k in PlantEventKind}
    assert PlantEventKind.MAINTENANCE.value in kinds


def test_output_respects_capacity_and_losses(basins: PlantBasins) -> None:
    capacity = dict(zip(basins.plants.column("plant_id").to_pylist(),
                        basins.plants.column("capacity_kw").to_pylist(), strict=True))  # fmt: skip
    for row in basins.truth.to_pylist():
        mine = basins.generation.filter(
            pc.equal(basins.generation.column("plant_id"), row["plant_id"])
        )
        hours = mine.column("interval_minutes").to_numpy() / 60.0
        tie_kw = mine.column("grid_tie_kwh").to_numpy(zero_copy_only=False) / hours
        assert np.nanmax(tie_kw) <= capacity[row["plant_id"]] * 1.01
        assert np.nanmin(tie_kw) >= -1e-6
        terminal = mine.column("terminal_kwh").to_numpy(zero_copy_only=False)
        if row["terminal_filed"] and not row["diverting"]:
            tie = mine.column("grid_tie_kwh").to_numpy(zero_copy_only=False)
            running = tie > 0.1 * capacity[row["plant_id"]] * hours
            loss = 1 - tie[running].sum() / terminal[running].sum()
            assert 0.001 < loss < 0.05  # transformer and line, not a private line


def test_truth_is_consistent(basins: PlantBasins) -> None:
    truth = basins.truth.to_pylist()
    diverting = [row for row in truth if row["diverting"]]
    assert len({row["basin"] for row in diverting}) == PARAMS.basins  # one per basin at least
    for row in diverting:
        assert row["start_date"] <= row["end_date"]
        days = (row["start_date"] - PARAMS.start).days
        assert days >= PARAMS.min_baseline_days
        assert (
            0
            < row["diverted_kwh"]
            <= row["diverted_kw"] * 24 * ((row["end_date"] - row["start_date"]).days + 1)
        )
    for row in truth:
        if not row["diverting"]:
            assert row["diverted_kwh"] == 0
            assert row["start_date"] is None


def test_the_files_are_written(basins: PlantBasins, tmp_path: Path) -> None:
    paths = write_plant_basins(basins, tmp_path, fmt="parquet")
    assert set(paths) == {"plants", "generation", "inflow", "events", "truth"}
    assert all(path.exists() and path.stat().st_size > 0 for path in paths.values())


def test_too_short_a_record_is_refused() -> None:
    with pytest.raises(ValueError, match="baseline"):
        generate_plants(1, PlantSynthParams(days=200))
