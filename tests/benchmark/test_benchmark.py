"""``stylelab benchmark --config``: validation, outputs, marked cells, resume, workers, metric equality."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml

from stylelab.benchmark.config import ConfigError, config_from_dict, load_config
from stylelab.benchmark.methods import BenchMethod
from stylelab.benchmark.publish import markers, update_readme
from stylelab.benchmark.run import run_benchmark
from stylelab.cli import main
from stylelab.data.image_io import load_image, save_image
from stylelab.reproduce.header import parse_header

ADAIN = {"name": "adain", "args": ["--decoder", "pretrained_r31"], "label": "adain"}


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # nothing cached: CFSD is n/a


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """2 tiny contents x 1 style (48 px) as PNG files."""
    g = torch.Generator().manual_seed(0)
    for role, count in (("content", 2), ("style", 1)):
        for i in range(count):
            smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 8, generator=g), size=(48, 64))
            save_image(smooth[0], tmp_path / "images" / role / f"{role}{i}.png")
    return tmp_path / "images"


def _config(tmp_path: Path, images: Path, name: str = "tiny", **overrides: object) -> Path:
    raw = {
        "name": name,
        "methods": ["wct", ADAIN],
        "sets": [
            {"name": "tiny", "folder": {"content": str(images / "content"), "style": str(images / "style")}}
        ],
        "metrics": ["ssim", "lpips", "gram", "mean_std", "cfsd", "artfid"],
        "eval_size": 48,
        "max_size": 64,
        "latency": {"sizes": [32], "warmup": 0, "repeats": 1},
        "threads": 1,
        "output": str(tmp_path / name),
        **overrides,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _rows(output: Path) -> list[dict[str, str]]:
    with open(output / "results.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_unknown_keys_and_values_are_errors(tmp_path: Path, images: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['metricz'\]"):
        load_config(_config(tmp_path, images, metricz=["ssim"]))
    with pytest.raises(ConfigError, match=r"latency: unknown key\(s\) \['size'\]"):
        load_config(_config(tmp_path, images, latency={"size": [32]}))
    with pytest.raises(ConfigError, match="unknown method 'nosuch'"):
        load_config(_config(tmp_path, images, methods=["nosuch"]))
    with pytest.raises(ConfigError, match="unknown set 'artsy'"):
        load_config(_config(tmp_path, images, sets=["artsy"]))
    with pytest.raises(ConfigError, match="unknown \\['fid'\\]"):
        load_config(_config(tmp_path, images, metrics=["fid"]))
    config = load_config(_config(tmp_path, images), workers=2)
    assert config.workers == 2 and [m.key for m in config.methods] == ["wct", "adain"]


def test_a_run_writes_every_output_and_marks_missing_weights(
    tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _config(tmp_path, images)
    monkeypatch.chdir(tmp_path)
    begin, end = markers("tiny")
    Path("README.md").write_text(f"# title\n\n{begin}\nold table\n{end}\n\ntail text\n")
    assert main(["benchmark", "--config", str(path), "--no-progress", "--publish", "reports/tiny"]) == 0
    output = tmp_path / "tiny"
    for name in ("results.csv", "results.md", "scatter.png", "latency.png", "grid.jpg"):
        assert (output / name).stat().st_size > 0, name
    rows = _rows(output)
    quality = [r for r in rows if r["kind"] == "quality"]
    assert [r["method"] for r in quality] == ["wct", "adain"]
    for row in quality:
        assert row["n_ok"] == "2" and row["weights"] == "pretrained"
        assert 0 < float(row["ssim"]) <= 1 and float(row["gram_ratio"]) > 0
        assert row["cfsd"] == "" and "cfsd: n/a" in row["note"]  # VGG-19 torchvision is not cached here
        assert "artfid: n/a" in row["note"]  # art_inception.pth cannot be downloaded
    latency = [r for r in rows if r["kind"] == "latency"]
    assert [r["resolution"] for r in latency] == ["32x32", "32x32"] and float(latency[0]["latency_s"]) > 0
    markdown = (output / "results.md").read_text()
    assert "commit:" in markdown and "device: CPU" in markdown and "SSIM of output to content" in markdown
    header = parse_header(markdown)  # the reports' canonical header: reports/README.md reads it
    assert header.missing() == [] and header.device.startswith("CPU")
    assert header.command == f"stylelab benchmark --config {path} --publish reports/tiny"
    assert header.budget.startswith("4 quality cells (") and "2 latency cells; 1 worker(s)" in header.budget
    # --publish: summary files copied (not the cells), the README block replaced, the rest kept
    published = sorted(p.name for p in Path("reports/tiny").iterdir())
    assert published == ["grid.jpg", "latency.png", "results.csv", "results.md", "scatter.png"]
    readme = Path("README.md").read_text()
    assert readme.startswith("# title\n\n" + begin) and readme.endswith(end + "\n\ntail text\n")
    assert "old table" not in readme and "--publish reports/tiny" in readme
    assert "![tiny grid" in readme and "(reports/tiny/grid.jpg)" in readme
    for row in quality:  # the README row shows the CSV's values
        line = next(x for x in readme.splitlines() if x.startswith(f"| {row['method']} | tiny |"))
        assert f"| {float(row['ssim']):.3f} |" in line and f"| {float(row['gram_ratio']):.3f} |" in line
        assert "| 2/2 |" in line
    Path("README.md").write_text(f"{end}\n{begin}\n")
    with pytest.raises(ValueError, match="in this order"):
        update_readme(Path("README.md"), "tiny", "x")


def test_a_failing_cell_is_marked_and_the_run_goes_on(
    tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = BenchMethod.stylize

    def flaky(self: BenchMethod, content: torch.Tensor, style: torch.Tensor, *masks: object) -> torch.Tensor:
        if self.info.key == "wct" and content.shape[-1] == 64 and float(content.mean()) < 0.5:
            raise RuntimeError("boom\nsecond line")
        return original(self, content, style, *masks)

    monkeypatch.setattr(BenchMethod, "stylize", flaky)
    config = load_config(
        _config(tmp_path, images, latency={"sizes": []}, methods=["wct", ADAIN, "stylebank"])
    )
    rows = {r["method"]: r for r in _rows(run_benchmark(config, progress=False))}
    assert int(rows["wct"]["n_ok"]) < 2 and "error: RuntimeError: boom" in rows["wct"]["note"]
    assert "second line" not in rows["wct"]["note"]
    assert rows["adain"]["n_ok"] == "2"
    assert rows["stylebank"]["n_ok"] == "0" and rows["stylebank"]["note"].startswith("n/a:")  # no zoo file


def test_resume_skips_finished_cells(tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = BenchMethod.stylize

    def counted(self: BenchMethod, *args: object) -> torch.Tensor:
        calls.append(self.info.key)
        return original(self, *args)

    monkeypatch.setattr(BenchMethod, "stylize", counted)
    config = load_config(_config(tmp_path, images, latency={"sizes": []}))
    output = run_benchmark(config, progress=False)
    assert len(calls) == 4
    first = (output / "results.csv").read_text()
    removed = next((output / "cells" / "quality" / "tiny" / "adain").glob("*.json"))
    removed.unlink()  # as if the run had been interrupted before this cell
    run_benchmark(config, progress=False)
    assert calls[4:] == ["adain"]
    assert (output / "results.csv").read_text() == first


def test_two_workers_give_the_same_results_as_one(tmp_path: Path, images: Path) -> None:
    one = run_benchmark(
        load_config(_config(tmp_path, images, name="one", latency={"sizes": []})), progress=False
    )
    two = run_benchmark(
        load_config(_config(tmp_path, images, name="two", latency={"sizes": []}, workers=2)), progress=False
    )
    assert (one / "results.csv").read_text() == (two / "results.csv").read_text()


def test_metric_cells_equal_direct_metric_calls(tmp_path: Path, images: Path) -> None:
    from stylelab.metrics import lpips, ssim, style_loss
    from stylelab.metrics.quality import resize_square

    config = load_config(_config(tmp_path, images, latency={"sizes": []}, methods=["wct"]))
    output = run_benchmark(config, progress=False)
    cell = output / "cells" / "quality" / "tiny" / "wct" / "content0__style0"
    record = json.loads(cell.with_suffix(".json").read_text())
    stylised = BenchMethod(config.methods[0], "cpu").stylize(
        load_image(images / "content" / "content0.png")[None],
        load_image(images / "style" / "style0.png")[None],
    )
    out, content, style = (
        resize_square(x, 48)
        for x in (
            stylised,
            load_image(images / "content" / "content0.png")[None],
            load_image(images / "style" / "style0.png")[None],
        )
    )
    values = record["values"]
    assert values["ssim"] == pytest.approx(float(ssim(out, content)), rel=1e-6)
    if values["lpips"] is not None:  # None without the shared AlexNet weights (then the cell says n/a)
        assert values["lpips"] == pytest.approx(float(lpips(out, content)), rel=1e-6)
    gram, own = float(style_loss(out, style, "gram")), float(style_loss(content, style, "gram"))
    assert values["gram_loss"] == pytest.approx(gram, rel=1e-6)
    assert values["gram_ratio"] == pytest.approx(gram / own, rel=1e-6)
    mean_std = float(style_loss(out, style, "mean_std")) / float(style_loss(content, style, "mean_std"))
    assert values["mean_std_ratio"] == pytest.approx(mean_std, rel=1e-6)
    assert torch.equal(load_image(cell.with_suffix(".png")), (stylised[0] * 255).round() / 255)


def test_a_pair_whose_content_is_its_style_has_no_ratio() -> None:
    from stylelab.benchmark.metrics import cell_metrics, style_ratio
    from stylelab.benchmark.report import quality_row

    g = torch.Generator().manual_seed(1)
    photo = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 6, generator=g), size=(48, 48))
    other = torch.rand(1, 3, 48, 48, generator=g)
    values, notes = cell_metrics(other, photo, photo, ("gram", "mean_std"), eval_size=48)
    assert values["gram_content_loss"] == 0.0 and values["gram_loss"] > 0  # the photo has its own Gram
    assert values["gram_ratio"] is None and values["mean_std_ratio"] is None
    assert "content = style" in notes["gram"] and "content = style" in notes["mean_std"]
    assert style_ratio(3.0, 2.0) == 1.5 and style_ratio(0.0, 0.0) is None
    defined, _ = cell_metrics(other, photo, other, ("gram",), eval_size=48)
    records = [{"status": "ok", "values": v} for v in (values, defined)]
    config = config_from_dict({"methods": ["wct"], "metrics": ["gram"]})
    row = quality_row("m", "s", records, config)
    assert row["gram_ratio"] == pytest.approx(defined["gram_ratio"])  # the undefined pair is skipped


def test_art_fid_column_equals_a_direct_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.models import inception_v3

    from stylelab.benchmark.artfid import ArtInception, art_fid

    torch.manual_seed(0)
    weights = tmp_path / "art_inception.pth"
    torch.save(inception_v3(weights=None, aux_logits=False, init_weights=True).state_dict(), weights)
    g = torch.Generator().manual_seed(2)
    for role, count in (("content", 3), ("style", 1)):  # Inception needs >= 75 px
        for i in range(count):
            smooth = torch.nn.functional.interpolate(torch.rand(1, 3, 6, 8, generator=g), size=(80, 96))
            save_image(smooth[0], tmp_path / "big" / role / f"{role}{i}.png")
    path = _config(
        tmp_path, tmp_path / "big", latency={"sizes": []}, methods=["wct"], metrics=["ssim", "artfid"]
    )
    config = load_config(path, inception_weights=str(weights), max_size=96)
    row = _rows(run_benchmark(config, progress=False))[0]
    cells = sorted((tmp_path / "tiny" / "cells" / "quality" / "tiny" / "wct").glob("*.png"))
    contents = sorted((tmp_path / "big" / "content").glob("*.png"))
    style = load_image(tmp_path / "big" / "style" / "style0.png")[None]
    expected = art_fid(
        [load_image(c)[None] for c in cells],
        [load_image(c)[None] for c in contents],
        [style] * 3,
        ArtInception(weights),
    )
    assert row["n_ok"] == "3" and float(row["artfid"]) == pytest.approx(expected["artfid"], rel=1e-5)
    assert float(row["fid"]) > 0 and "artfid" not in row["note"]


def test_stylebank_stylises_only_its_own_styles(
    tmp_path: Path, images: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stylelab.methods.stylebank.inference import thumbnail
    from stylelab.methods.stylebank.module import StyleBank

    bank_style = load_image(images / "style" / "style0.png")[None]
    other = images / "other"
    save_image(1 - bank_style[0], other / "style" / "inverted.png")
    save_image(bank_style[0], other / "style" / "style0.png")

    def one_bank(options: object) -> StyleBank:
        model = StyleBank(num_styles=1, style_names=["style0.png"])
        model.style_thumbnails.copy_(thumbnail(bank_style))
        return model.eval()

    monkeypatch.setattr(
        StyleBank, "from_stylize_options", classmethod(lambda cls, options: one_bank(options))
    )
    sets = [{"name": "tiny", "folder": {"content": str(images / "content"), "style": str(other / "style")}}]
    config = load_config(_config(tmp_path, images, latency={"sizes": []}, methods=["stylebank"], sets=sets))
    row = _rows(run_benchmark(config, progress=False))[0]
    assert row["n_ok"] == "2" and row["n_cells"] == "4"  # both contents with its own style only
    assert "n/a: fixed styles (no bank for this style image) (x2)" in row["note"]
