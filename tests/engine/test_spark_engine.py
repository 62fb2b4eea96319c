"""The Spark engine gives the local engine's findings, however the exports are cut, and fails
cleanly on bad input. Spark runs in local mode (``local[2]``) on the machine's Java."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from minewatch.detect.meters.scan import FINDINGS_SCHEMA
from minewatch.engine.local import ScanResult, scan_meters
from minewatch.errors import MineWatchError
from minewatch.synth.meters import (
    MeterProvince,
    MeterSynthParams,
    generate_meters,
    write_meter_province,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def _spark_or_skip() -> None:
    required = os.environ.get("MINEWATCH_REQUIRE_SPARK") == "1"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        if required:
            raise
        pytest.skip("PySpark is not installed (pip install 'minewatch[spark]')")
    if shutil.which("java") is None:
        if required:
            pytest.fail("MINEWATCH_REQUIRE_SPARK=1 but there is no java on PATH")
        pytest.skip("no Java runtime for Spark")


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    _spark_or_skip()
    from minewatch.engine.spark import spark_session

    session = spark_session("local[2]", {"spark.driver.memory": "1g"})
    yield session
    session.stop()


@pytest.fixture(scope="module")
def province() -> MeterProvince:
    # Gaps, missing and repeated days, bad values and short histories well above the defaults,
    # so that every data-sufficiency path is crossed.
    params = MeterSynthParams(
        gap_rate=0.01, missing_day_rate=0.03, duplicate_day_rate=0.01, bad_value_rate=0.002,
        short_history_share=0.02, mining_share=0.08,
    )  # fmt: skip
    return generate_meters(41, n_meters=1_200, days=21, params=params)


@pytest.fixture(scope="module")
def exports(province: MeterProvince, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The readings split by week into three Parquet files, rows shuffled and in small row
    groups, so that one meter's days lie in many files, row groups and Spark partitions."""
    folder = tmp_path_factory.mktemp("exports")
    written = write_meter_province(province, folder, fmt="parquet", split_by="date")
    rng = np.random.default_rng(5)
    for path in written["readings"]:
        table = pq.read_table(path)
        table = table.take(pa.array(rng.permutation(table.num_rows)))
        pq.write_table(table, path, row_group_size=1_500)
    return folder


@pytest.fixture(scope="module")
def local_result(province: MeterProvince, exports: Path) -> ScanResult:
    from minewatch.ingest.meters import read_customers, read_weather

    customers, _ = read_customers(exports / "customers.csv")
    return scan_meters(
        sorted(exports.glob("readings_*.parquet")),
        customers=customers,
        weather=read_weather(exports / "weather.csv"),
    )


def _assert_same_findings(cluster: pa.Table, local: pa.Table) -> None:
    key = [("meter_id", "ascending")]
    cluster, local = cluster.sort_by(key), local.sort_by(key)
    assert cluster.column("meter_id").equals(local.column("meter_id"))
    difference = pc.max(pc.abs(pc.subtract(cluster.column("score"), local.column("score"))))
    assert (difference.as_py() or 0.0) <= 1e-9
    for name in FINDINGS_SCHEMA.names:
        if name != "score":
            assert cluster.column(name).equals(local.column(name)), name


def test_same_findings_as_the_local_engine(
    spark: SparkSession, exports: Path, local_result: ScanResult, tmp_path: Path
) -> None:
    from minewatch.engine.spark import SparkScanSettings, read_cluster_findings, scan_meters_spark

    out = tmp_path / "findings"
    result = scan_meters_spark(
        spark,
        str(exports / "readings_*.parquet"),
        str(out),
        customers=str(exports / "customers.csv"),
        weather=str(exports / "weather.csv"),
        cluster=SparkScanSettings(rows_per_task=4_000, buckets=3),
    )
    local = local_result.findings
    written = read_cluster_findings(out)
    _assert_same_findings(written, local)
    assert result.meters == local.num_rows > 1_150  # a few meters sent no readings at all
    assert result.reading_rows == local_result.reading_rows
    suspected = local.filter(local.column("suspected"))
    assert sorted(result.suspects.column("meter_id").to_pylist()) == sorted(
        suspected.column("meter_id").to_pylist()
    )
    assert sum(result.categories.values()) == local.num_rows
    # Gaps and repeated days reached the kernel as they do locally.
    warnings = " ".join(local.column("warnings").to_pylist())
    assert "data.duplicate_days" in warnings
    assert "data.missing_days" in warnings
    # Each suspect carries its archive row and the same load curve as the local scan's.
    for row in result.suspects.to_pylist():
        assert json.loads(row["series"]) == json.loads(
            json.dumps(local_result.series[row["meter_id"]])
        )
        assert row["region_code"]
        assert row["account_no"]
    # Written by county, committed whole.
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders
    assert all(name.startswith("region_code=") for name in folders)
    assert (out / "_SUCCESS").exists()
    assert not (out / "_attempts").exists()
    summary = json.loads((out / "_minewatch.json").read_text(encoding="utf-8"))
    assert summary["meters"] == local.num_rows
    assert summary["buckets"] == 3
    assert summary["tasks"] >= 6, "several tasks per file: row groups were split"


def test_csv_exports_through_a_uri(
    spark: SparkSession, province: MeterProvince, local_result: ScanResult, tmp_path: Path
) -> None:
    from minewatch.engine.spark import read_cluster_findings, scan_meters_spark

    folder = tmp_path / "csv"
    write_meter_province(province, folder, fmt="csv", split_by="date")
    out = tmp_path / "findings"
    scan_meters_spark(
        spark,
        f"file://{folder}/readings_*.csv",
        f"file://{out}",
        customers=f"file://{folder}/customers.csv",
        weather=f"file://{folder}/weather.csv",
    )
    _assert_same_findings(read_cluster_findings(out), local_result.findings)


def _bad_cell_file(exports: Path, folder: Path) -> Path:
    """A copy of the first export with a text cell in p050 at data row 2,000 (row 2,001 as a
    spreadsheet counts, after the header)."""
    source = sorted(exports.glob("readings_*.parquet"))[0]
    table = pq.read_table(source)
    column = table.column("p050").cast(pa.string()).to_pylist()
    column[1_999] = "abc"
    table = table.set_column(
        table.schema.get_field_index("p050"), "p050", pa.array(column, pa.string())
    )
    folder.mkdir()
    path = folder / "readings_bad.parquet"
    pq.write_table(table, path, row_group_size=1_500)
    return path


def test_a_malformed_file_is_named_and_nothing_is_written(
    spark: SparkSession, exports: Path, tmp_path: Path
) -> None:
    from minewatch.engine.spark import SparkScanSettings, read_cluster_findings, scan_meters_spark

    out = tmp_path / "findings"
    scan_meters_spark(spark, str(exports / "readings_*.parquet"), str(out))
    before = {p.relative_to(out): p.stat().st_mtime_ns for p in out.rglob("*")}
    bad = _bad_cell_file(exports, tmp_path / "bad")
    with pytest.raises(MineWatchError) as caught:
        scan_meters_spark(
            spark,
            [str(exports / "readings_*.parquet"), str(bad)],
            str(out),
            cluster=SparkScanSettings(rows_per_task=1_500),
        )
    message = str(caught.value)
    assert "readings_bad.parquet" in message
    assert "row 2001" in message
    assert "p050" in message
    assert "'abc'" in message
    after = {p.relative_to(out): p.stat().st_mtime_ns for p in out.rglob("*")}
    assert after == before, "the earlier scan's findings are left as they were"
    # A later scan of other readings replaces them whole.
    first = sorted(exports.glob("readings_*.parquet"))[0]
    again = scan_meters_spark(spark, str(first), str(out))
    assert read_cluster_findings(out).num_rows == again.meters
    assert not (out / "_attempts").exists()

    garbage = tmp_path / "garbage" / "readings_x.parquet"
    garbage.parent.mkdir()
    garbage.write_bytes(b"not parquet at all")
    with pytest.raises(MineWatchError, match=r"readings_x\.parquet.*not a readable Parquet"):
        scan_meters_spark(spark, str(garbage.parent), str(tmp_path / "other"))
    assert not (tmp_path / "other").exists()


def test_a_bad_date_is_found_before_any_scoring(
    spark: SparkSession, province: MeterProvince, tmp_path: Path
) -> None:
    from minewatch.engine.spark import scan_meters_spark

    table = province.readings.slice(0, 3_000)
    dates = table.column("date").cast(pa.string()).to_pylist()
    dates[2_500] = "2021-13-45"
    table = table.set_column(1, "date", pa.array(dates, pa.string()))
    path = tmp_path / "readings.parquet"
    pq.write_table(table, path, row_group_size=1_000)
    with pytest.raises(MineWatchError) as caught:
        scan_meters_spark(spark, str(path), str(tmp_path / "out"))
    assert "row 2502" in str(caught.value)
    assert "is not a date" in str(caught.value)


def test_an_output_folder_holding_other_files_is_refused(
    spark: SparkSession, exports: Path, tmp_path: Path
) -> None:
    from minewatch.engine.spark import scan_meters_spark

    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(MineWatchError, match="holds other files"):
        scan_meters_spark(spark, str(exports / "readings_*.parquet"), str(tmp_path))
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_buckets_are_stable_and_each_has_its_own_partition(spark: SparkSession) -> None:
    from pyspark.sql import functions as sf

    from minewatch.engine.spark import _bucket_labels, bucket_of

    ids = pa.array(["M0000000001", "M0000000002", "电表-七"])
    expected = [zlib.crc32(v.encode("utf-8")) % 7 for v in ids.to_pylist()]
    assert bucket_of(ids, 7).tolist() == expected
    assert bucket_of(pc.dictionary_encode(ids), 7).tolist() == expected
    for buckets in (3, 4, 16):
        labels = _bucket_labels(spark, buckets)
        frame = spark.createDataFrame([(label,) for label in labels], "bucket int")
        partitions = frame.select(sf.pmod(sf.hash("bucket"), sf.lit(buckets))).collect()
        assert sorted(row[0] for row in partitions) == list(range(buckets))


def test_cli_scans_on_spark_and_records_the_same_leads(
    spark: SparkSession,
    exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from minewatch.cli.app import run

    inputs = [
        "--readings", str(exports / "readings_*.parquet"),
        "--customers", str(exports / "customers.csv"),
        "--weather", str(exports / "weather.csv"),
    ]  # fmt: skip
    local_db, spark_db = tmp_path / "local.db", tmp_path / "spark.db"
    assert run(["--db", str(local_db), "scan", "meters", *inputs, "--leads",
                "--out", str(tmp_path / "local.parquet")]) == 0  # fmt: skip
    code = run(["--db", str(spark_db), "scan", "meters", *inputs, "--leads", "--engine",
                "spark", "--master", "local[2]", "--out", str(tmp_path / "cluster")])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    meters = pq.read_table(tmp_path / "local.parquet").num_rows
    assert f"{meters:,} meters" in printed
    assert "leads:" in printed

    def leads(db: Path) -> list[tuple[object, ...]]:
        with sqlite3.connect(db) as connection:
            return sorted(connection.execute(
                "SELECT subject, score, est_start_date, account_no, region_code, evidence_json "
                "FROM lead"
            ).fetchall())  # fmt: skip

    local, cluster = leads(local_db), leads(spark_db)
    assert [row[:5] for row in cluster] == [row[:5] for row in local]
    assert local
    for a, b in zip(cluster, local, strict=True):
        assert json.loads(str(a[5]))["series"] == json.loads(str(b[5]))["series"]
    # Recording the same findings again from the folder changes nothing.
    assert run(["--db", str(spark_db), "scan", "meter-leads", str(tmp_path / "cluster")]) == 0
    assert f"0 new, 0 updated, {len(cluster)} unchanged" in capsys.readouterr().out


def test_spark_submit_runs_the_packaged_job(
    spark: SparkSession, exports: Path, local_result: ScanResult, tmp_path: Path
) -> None:
    """The documented way onto a cluster: ``spark-submit`` runs ``minewatch.engine.spark_job``
    with spark-submit's master (here a local one, in a process of its own)."""
    import subprocess
    import sys

    import minewatch.engine.spark_job as job
    from minewatch.engine.spark import read_cluster_findings

    submit = Path(sys.executable).with_name("spark-submit")
    out = tmp_path / "findings"
    environment = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    done = subprocess.run(
        [str(submit), "--master", "local[1]", "--driver-memory", "1g", str(job.__file__),
         "scan", "meters", "--engine", "spark", "--readings", str(exports / "readings_*.parquet"),
         "--customers", str(exports / "customers.csv"), "--weather", str(exports / "weather.csv"),
         "--out", str(out), "--top", "0"],
        capture_output=True, text=True, env=environment, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "on local[1]" in done.stdout
    _assert_same_findings(read_cluster_findings(out), local_result.findings)


def test_a_catalog_table_gives_the_same_findings(
    spark: SparkSession, exports: Path, local_result: ScanResult, tmp_path: Path
) -> None:
    """Readings kept in a table of the metering platform (here a view, with the platform's own
    column names: 电表编号, 日期, P1 … P96) are scanned as the files are."""
    from pyspark.sql import functions as sf

    from minewatch.engine.spark import read_cluster_findings, scan_meters_spark

    frame = spark.read.parquet(*map(str, sorted(exports.glob("readings_*.parquet"))))
    renamed = frame.select(
        sf.col("meter_id").alias("电表编号"),
        sf.col("date").alias("日期"),
        *(sf.col(f"p{i:03d}").alias(f"P{i}") for i in range(1, 97)),
    )
    renamed.createOrReplaceTempView("e_mp_power_curve")
    out = tmp_path / "findings"
    result = scan_meters_spark(
        spark,
        None,
        str(out),
        readings_table="e_mp_power_curve",
        customers=str(exports / "customers.csv"),
        weather=str(exports / "weather.csv"),
    )
    _assert_same_findings(read_cluster_findings(out), local_result.findings)
    assert result.reading_rows == local_result.reading_rows

    bad = renamed.withColumn(
        "P50",
        sf.when(
            sf.col("电表编号") == local_result.findings["meter_id"][0].as_py(), "abc"
        ).otherwise(sf.col("P50").cast("string")),
    )
    bad.createOrReplaceTempView("bad_curve")
    with pytest.raises(MineWatchError) as caught:
        scan_meters_spark(spark, None, str(tmp_path / "bad"), readings_table="bad_curve")
    message = str(caught.value)
    assert "bad_curve" in message
    assert local_result.findings["meter_id"][0].as_py() in message
    assert "'abc' is not a number" in message
    with pytest.raises(MineWatchError, match="no such table"):
        scan_meters_spark(spark, None, str(tmp_path / "none"), readings_table="missing_table")


def test_small_files_are_read_together_and_big_ones_cut(
    province: MeterProvince, tmp_path: Path
) -> None:
    from minewatch.engine.spark import _plan

    written = write_meter_province(province, tmp_path, fmt="parquet", split_by="county")
    files = sorted(str(p) for p in written["readings"])
    assert len(files) >= 8
    tasks = _plan(None, files, 2, 1_000_000)
    # Packed in order up to a quarter of the rows each: at least two tasks per core, far fewer
    # tasks than files.
    assert 4 <= len(tasks) <= 6 < len(files)
    assert sorted(part[0] for task in tasks for part in task) == files
    total = sum(part[3] for task in tasks for part in task)
    assert all(sum(part[3] for part in task) <= -(-total // 4) or len(task) == 1 for task in tasks)
    big = tmp_path / "big.parquet"
    pq.write_table(province.readings, big, row_group_size=1_000)
    cut = _plan(None, [str(big)], 2, 5_000)
    assert all(len(task) == 1 for task in cut)
    assert [task[0][1:3] for task in cut][:2] == [(0, 5), (5, 10)]


def test_a_bad_customer_archive_is_named(
    spark: SparkSession, exports: Path, tmp_path: Path
) -> None:
    from minewatch.engine.spark import scan_meters_spark

    lines = (exports / "customers.csv").read_text(encoding="utf-8").splitlines()
    lines.append(lines[5])  # the same meter twice
    archive = tmp_path / "archive.csv"
    archive.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(MineWatchError) as caught:
        scan_meters_spark(
            spark, str(exports / "readings_*.parquet"), str(tmp_path / "out"),
            customers=str(archive),
        )  # fmt: skip
    message = str(caught.value)
    assert "archive.csv" in message
    assert f"row {len(lines)}" in message
    assert not (tmp_path / "out").exists()
