"""The in-process engine: the same findings however the exports are split, clear errors."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from minewatch.engine.local import scan_meters, score_in_chunks
from minewatch.errors import InputFileError
from minewatch.synth.meters import MeterProvince, generate_meters, write_meter_province


@pytest.fixture(scope="module")
def province_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[MeterProvince, Path, Path]:
    province = generate_meters(21, n_meters=400, days=21)
    whole = tmp_path_factory.mktemp("whole")
    split = tmp_path_factory.mktemp("split")
    write_meter_province(province, whole, fmt="parquet")
    written = write_meter_province(province, split, fmt="csv", split_by="date")
    folder = split / "exports"
    folder.mkdir()
    for path in written["readings"]:
        path.rename(folder / path.name)
    return province, whole, folder


def test_split_exports_give_the_same_findings(
    province_files: tuple[MeterProvince, Path, Path],
) -> None:
    province, whole, split = province_files
    one = scan_meters(
        whole / "readings.parquet", customers=province.customers, weather=province.weather
    )
    files = sorted(split.glob("readings_*.csv"))
    assert len(files) >= 3, "exports split by week"
    many = scan_meters(split, customers=province.customers, weather=province.weather)
    globbed = scan_meters(
        str(split / "readings_*.csv"), customers=province.customers, weather=province.weather
    )
    key = [("meter_id", "ascending")]
    assert one.findings.sort_by(key).equals(many.findings.sort_by(key))
    assert many.findings.sort_by(key).equals(globbed.findings.sort_by(key))
    assert one.meters == 400
    assert one.reading_rows == many.reading_rows


def test_chunking_does_not_change_findings(
    province_files: tuple[MeterProvince, Path, Path],
) -> None:
    province, whole, _ = province_files
    from minewatch.detect.meters.daily import daily_features
    from minewatch.detect.meters.model import load_packaged_model
    from minewatch.detect.meters.settings import MeterScanSettings

    readings = pa.parquet.read_table(whole / "readings.parquet")
    daily = pa.Table.from_batches([daily_features(b) for b in readings.to_batches(10_000)])
    settings, model = MeterScanSettings(), load_packaged_model()
    customers, weather = province.customers, province.weather
    big = score_in_chunks(daily, customers, weather, settings, model, meters_per_chunk=10_000)
    small = score_in_chunks(daily, customers, weather, settings, model, meters_per_chunk=37)
    key = [("meter_id", "ascending")]
    assert big.sort_by(key).equals(small.sort_by(key))


def test_malformed_export_is_named_with_row_and_column(tmp_path: Path) -> None:
    province = generate_meters(22, n_meters=5, days=3)
    table = province.readings.slice(0, 6)
    path = tmp_path / "bad.csv"
    pacsv.write_csv(table, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[4].split(",")
    cells[20] = '"abc"'
    lines[4] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputFileError) as caught:
        scan_meters(path)
    message = str(caught.value)
    assert "bad.csv" in message
    assert "row 5" in message
    assert "p019" in message


def test_nothing_to_read_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="no"):
        scan_meters(tmp_path / "nothing-*.parquet")


def test_readings_named_by_uri_give_the_same_findings(
    province_files: tuple[MeterProvince, Path, Path],
) -> None:
    province, whole, split = province_files
    key = [("meter_id", "ascending")]
    by_path = scan_meters(whole / "readings.parquet", customers=province.customers)
    by_uri = scan_meters(f"file://{whole}/readings.parquet", customers=province.customers)
    assert by_uri.findings.sort_by(key).equals(by_path.findings.sort_by(key))
    csv_folder = scan_meters(f"file://{split}", customers=province.customers)
    assert csv_folder.reading_rows == by_path.reading_rows
