from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import torch

from stylelab.bench.result import Row, TimingResult
from stylelab.bench.table import CSV_COLUMNS, TimingTable
from stylelab.bench.timing import TimingConfig

DEVICE = "CPU: Test CPU, 2 threads, torch x"


def _result(median_s: float) -> TimingResult:
    return TimingResult.from_times(
        [median_s * 0.9, median_s, median_s * 1.1],
        device_name=DEVICE,
        peak_memory_bytes=3 * 1024 * 1024,
        num_threads=2,
        timer="perf_counter",
        warmup=3,
    )


@pytest.fixture
def table() -> TimingTable:
    table = TimingTable("AdaIN latency", config=TimingConfig(warmup=3, repeats=3), dtype=torch.float32)
    table.add(Row((256, 256), 1, _result(0.010), method="adain"), paper=0.020)
    table.add(Row((512, 512), 1, _result(0.040), method="adain"))
    oom = TimingResult.out_of_memory(DEVICE, "OutOfMemoryError: CUDA out of memory.", num_threads=2)
    table.add(Row((8192, 8192), 1, oom, method="adain"), paper=1.5)
    return table


def test_markdown_has_device_line_oom_cells_and_paper_ratio(table: TimingTable) -> None:
    text = table.to_markdown()
    assert text.startswith("### AdaIN latency")
    header = table.header_line()
    assert header in text
    assert DEVICE in header and f"torch {torch.__version__}" in header
    assert "threads: 2" in header and "dtype: float32" in header and "warm-up 3, repeats 3" in header
    lines = text.splitlines()
    row_256 = next(line for line in lines if "256x256" in line)
    assert "| 10.0 |" in row_256 and "| 20.0 ms |" in row_256 and "| 0.50x |" in row_256
    assert "| 3.0 |" in row_256  # peak memory in MiB
    row_oom = next(line for line in lines if "8192x8192" in line)
    assert row_oom.count("OOM") == 4 and "1500 ms" in row_oom
    assert all(line.count("|") == lines[2 + 2].count("|") for line in lines if line.startswith("|"))


def test_markdown_drops_unused_columns() -> None:
    table = TimingTable()
    table.add(Row((8, 8), 1, _result(0.001)))
    header = next(line for line in table.to_markdown().splitlines() if line.startswith("| kind"))
    assert "method" not in header and "variant" not in header and "paper" not in header


def test_csv_has_every_row_with_status_and_device(table: TimingTable) -> None:
    records = list(csv.DictReader(io.StringIO(table.to_csv())))
    assert list(records[0]) == list(CSV_COLUMNS)
    assert [r["status"] for r in records] == ["ok", "ok", "OOM"]
    assert float(records[0]["median_s"]) == pytest.approx(0.010)
    assert float(records[0]["ours_over_paper"]) == pytest.approx(0.5)
    assert records[2]["median_s"] == "" and "out of memory" in records[2]["error"]
    assert {r["device"] for r in records} == {DEVICE}


def test_write_picks_the_format_from_the_suffix(table: TimingTable, tmp_path: Path) -> None:
    table.write(tmp_path / "out" / "speed.md")
    table.write(tmp_path / "speed.csv")
    assert (tmp_path / "out" / "speed.md").read_text() == table.to_markdown()
    assert (tmp_path / "speed.csv").read_text() == table.to_csv()
    with pytest.raises(ValueError, match="suffix"):
        table.write(tmp_path / "speed.txt")


def test_extend_relabels_rows() -> None:
    table = TimingTable()
    table.extend([Row((8, 8), 1, _result(0.001))], method="kt", variant="paper")
    assert table.rows[0].method == "kt" and table.rows[0].variant == "paper"
