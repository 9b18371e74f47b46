"""The shared harness: Markdown tables, atomic reports, the JSON cache, the reports README."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stylelab.reproduce.cache import JsonCache, cache_key
from stylelab.reproduce.harness import ReportWriter
from stylelab.reproduce.header import parse_header
from stylelab.reproduce.markdown import markdown_table, ratio_cell
from stylelab.reproduce.readme import render_reports_readme, write_reports_readme


def test_markdown_table_matches_a_known_string() -> None:
    table = markdown_table(["method", "s/image"], [["BHKM", 0.328], ["a|b", "—"]])
    assert table == "| method | s/image |\n|---|---|\n| BHKM | 0.328 |\n| a\\|b | — |"


def test_markdown_table_rejects_ragged_rows() -> None:
    with pytest.raises(ValueError, match="row 0 has 1 cells"):
        markdown_table(["a", "b"], [[1]])


def test_ratio_cell() -> None:
    assert ratio_cell(0.328, 0.259) == "1.27x"
    assert ratio_cell(1.0, None) == "—"
    assert ratio_cell(1.0, 0.0) == "—"


def test_report_writer_writes_header_and_blocks(tmp_path: Path) -> None:
    report = ReportWriter(tmp_path / "m" / "t.md", "Table 1", budget="3 repeats", command="python x.py")
    report.add("Intro.").table(["a"], [[1]])
    report.figure("plot.svg", "<svg/>", "a plot")
    path = report.write()
    text = path.read_text()
    assert text.startswith("# Table 1\n\n- date: ")
    header = parse_header(text)
    assert header.budget is not None and header.budget.startswith("3 repeats; run took ")
    assert header.command == "python x.py" and header.device is not None and header.date is not None
    assert "| a |\n|---|\n| 1 |" in text and "![a plot](plot.svg)" in text
    assert (tmp_path / "m" / "plot.svg").read_text() == "<svg/>"


def test_failed_write_leaves_the_old_report_and_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stylelab.utils.io

    target = tmp_path / "t.md"
    target.write_text("old report\n")
    report = ReportWriter(target, "New").add("x" * 100_000)

    def failing_replace(src: str, dst: object) -> None:
        assert Path(src).read_text().startswith("# New")  # the new text was written, then the move fails
        raise OSError("disk full")

    monkeypatch.setattr(stylelab.utils.io.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        report.write()
    assert target.read_text() == "old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.md"]


def test_json_cache(tmp_path: Path) -> None:
    assert cache_key({"a": 1, "b": 2}) == cache_key({"b": 2, "a": 1}) != cache_key({"a": 1, "b": 3})
    cache = JsonCache(tmp_path / "c.json")
    calls: list[int] = []

    def compute() -> list[float]:
        calls.append(1)
        return [0.5, 1.5]

    assert cache.get_or_compute({"size": 256}, compute) == [0.5, 1.5]
    assert JsonCache(tmp_path / "c.json").get_or_compute({"size": 256}, compute) == [0.5, 1.5]
    assert len(calls) == 1
    assert JsonCache(tmp_path / "c.json").get({"size": 512}) is None
    JsonCache(tmp_path / "c.json").get_or_compute({"size": 256}, compute, fresh=True)
    assert len(calls) == 2


def _fake_repo(root: Path) -> None:
    reports = root / "reports"
    (reports / "pcakd").mkdir(parents=True)
    (reports / "zz").mkdir()
    (reports / "pcakd" / "fig6.md").write_text(
        "# Fig. 6\n\n- date: 2026-12-03 10:00 UTC\n- device: CPU: test\n- commit: abc1234\n"
        "- budget: 2 pairs\n- command: `python experiments/pcakd/fig6.py --pairs 2`\n"
    )
    (reports / "zz" / "old.md").write_text("# Old\n\nDevice: CPU: older; one run.\n")
    (reports / "zz" / "plot.svg").write_text("<svg/>")


def test_reports_readme_on_fake_reports(tmp_path: Path) -> None:
    _fake_repo(tmp_path)
    text = render_reports_readme(tmp_path)
    rows = [line for line in text.splitlines() if line.startswith("| [")]
    assert rows == [
        "| [pcakd/fig6.md](pcakd/fig6.md) | pcakd/fig6 | 2026-12-03 10:00 UTC | CPU: test | abc1234 "
        "| 2 pairs |",
        "| [zz/old.md](zz/old.md) | — | not recorded | CPU: older | not recorded | not recorded |",
    ]
    path = write_reports_readme(tmp_path)
    assert path.read_text() == text
    assert render_reports_readme(tmp_path) == text  # the README does not list itself


def test_reports_readme_falls_back_to_the_commit_that_added_the_report(tmp_path: Path) -> None:
    _fake_repo(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "reports"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "r"], cwd=tmp_path, check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    old = next(line for line in render_reports_readme(tmp_path).splitlines() if "zz/old.md" in line)
    assert f"| {commit} (committed) |" in old and " (committed) | CPU: older |" in old


def test_csv_rows_round_trip(tmp_path: Path) -> None:
    from stylelab.reproduce.cache import read_csv_rows, write_csv_rows

    rows = [{"step": 1, "branch": "stylize", "loss": 2.5}, {"step": 2, "branch": "ae", "mse": 0.25}]
    write_csv_rows(tmp_path / "log.csv", rows)
    assert (tmp_path / "log.csv").read_text() == "step,branch,loss,mse\n1,stylize,2.5,\n2,ae,,0.25\n"
    assert read_csv_rows(tmp_path / "log.csv") == [
        {"step": 1.0, "branch": "stylize", "loss": 2.5},
        {"step": 2.0, "branch": "ae", "mse": 0.25},
    ]


def test_svg_line_plot_maps_points_to_the_axes() -> None:
    import re

    from stylelab.reproduce.figures import svg_line_plot

    series = {"a": [(1.0, 10.0), (100.0, 1000.0)]}
    svg = svg_line_plot(series, title="t", xlabel="x", ylabel="y", logx=True, logy=True)
    points = re.search(r'points="([^"]+)"', svg)
    assert points is not None
    (xa, ya), (xb, yb) = (tuple(map(float, p.split(","))) for p in points.group(1).split())
    # left/bottom corner and right/top corner of the plot area (560x360, margins 60/20/30/45)
    assert (xa, ya, xb, yb) == (60.0, 315.0, 540.0, 30.0)
    assert "(log scale)" in svg and svg.count("<circle") == 2
    with pytest.raises(ValueError, match="nothing to plot"):
        svg_line_plot({"a": [(0, 0)]}, title="t", xlabel="x", ylabel="y", logy=True)


def test_dict_csv_quotes_cells_and_keeps_the_column_order(tmp_path: Path) -> None:
    import csv

    from stylelab.reproduce.cache import write_dict_csv

    rows = [{"model": "Ours-VGG, authors'", "psnr": 27.5, "extra": 1}, {"model": "b", "psnr": 3}]
    write_dict_csv(tmp_path / "a.csv", rows, ["psnr", "model"])
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines == ["psnr,model", '27.5,"Ours-VGG, authors\'"', "3,b"]
    write_dict_csv(tmp_path / "b.csv", rows[:1])
    with open(tmp_path / "b.csv", newline="") as handle:
        assert list(csv.DictReader(handle)) == [{"model": "Ours-VGG, authors'", "psnr": "27.5", "extra": "1"}]
    with pytest.raises(ValueError, match="no rows"):
        write_dict_csv(tmp_path / "c.csv", [])
