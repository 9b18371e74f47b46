"""The reproduction index names real scripts and reports, and `stylelab reproduce` lists and runs them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stylelab.cli import main
from stylelab.reproduce.index import ENTRIES, ENTRIES_LIST, UnknownEntryError, find_checkout, get_entry

REPO = Path(__file__).resolve().parents[2]


def test_keys_are_unique_and_method_slash_table() -> None:
    keys = [entry.key for entry in ENTRIES_LIST]
    assert len(keys) == len(set(keys)) == len(ENTRIES)
    for key in keys:
        method, _, table = key.partition("/")
        assert method and table and "/" not in table, key


def test_every_script_exists_and_every_report_lies_under_its_method() -> None:
    for entry in ENTRIES_LIST:
        assert (entry.script is None) != (not entry.command), f"{entry.key}: script xor command"
        if entry.script is not None:
            assert entry.script.startswith("experiments/"), entry.key
            assert (REPO / entry.script).is_file(), f"{entry.key}: {entry.script} is missing"
        for report in entry.reports:
            assert report.startswith(f"reports/{entry.method}/"), f"{entry.key}: {report}"


def test_every_experiment_script_is_registered() -> None:
    helpers = {"common.py", "r31_common.py", "evaluation.py"}  # imported by scripts, not run
    scripts = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "experiments").glob("*/*")
        if p.suffix in {".py", ".sh"} and p.name not in helpers
    }
    scripts.discard("experiments/stylebank/run_all.sh")  # runs the stylebank entries in a row
    registered = {entry.script for entry in ENTRIES_LIST}
    assert scripts - registered == set()


def test_committed_reports_of_the_index_exist() -> None:
    """An entry's Markdown report is committed (prerequisite entries write checkpoints, not reports)."""
    for entry in ENTRIES_LIST:
        for report in entry.reports:
            if report.endswith(".md"):
                assert (REPO / report).is_file(), f"{entry.key}: {report}"


def test_unknown_key_names_the_method_entries() -> None:
    with pytest.raises(UnknownEntryError, match="pcakd/table1"):
        get_entry("pcakd/table9")


def test_argv_uses_defaults_unless_arguments_are_given() -> None:
    entry = get_entry("stylebank/kernel_size")
    assert entry.argv(python="py") == [
        "py",
        "experiments/stylebank/kernel_size.py",
        "--steps",
        "90",
        "--crop",
        "64",
    ]
    assert entry.argv(["--steps", "2"], python="py")[2:] == ["--steps", "2"]


def test_shared_placeholder_is_substituted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLELAB_SHARED_DATA", "/data/shared")
    argv = get_entry("pcakd/mcev_content").argv(python="py")
    assert argv[:5] == ["py", "-m", "stylelab", "pcakd", "mcev"]
    assert "/data/shared/images/content" in argv
    monkeypatch.delenv("STYLELAB_SHARED_DATA")
    with pytest.raises(SystemExit, match="STYLELAB_SHARED_DATA"):
        get_entry("pcakd/mcev_content").argv(python="py")


def test_find_checkout_is_this_repository() -> None:
    assert find_checkout() == REPO


def test_reproduce_list_prints_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["method", "key", "paper", "budget", "last", "run"]
    for key in ENTRIES:
        assert any(line.split()[1] == key for line in lines[1:]), key
    assert len(lines) == len(ENTRIES) + 1


def test_reproduce_unknown_key_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "nomethod/table1"]) == 2
    assert "no reproduction entry" in capsys.readouterr().err


def test_reproduce_dry_run_prints_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "pcakd/fig6", "--dry-run", "--", "--pairs", "2"]) == 0
    out = capsys.readouterr().out
    assert f"{sys.executable} experiments/pcakd/fig6.py --pairs 2" in out
