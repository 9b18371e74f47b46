from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylelab.cli import main
from stylelab.methods.pcakd.mcev import ExplainedVarianceStats, channels_at, explained_variance


def test_explained_variance_matches_numpy_eigenvalues() -> None:
    feature = torch.randn(2, 5, 6, 7, dtype=torch.float64) * torch.tensor([3.0, 2.0, 1.0, 0.5, 0.1]).view(
        1, 5, 1, 1
    )
    ev = explained_variance(feature)
    for i in range(2):
        values = np.sort(np.linalg.eigvalsh(np.cov(feature[i].flatten(1).numpy(), bias=True)))[::-1]
        np.testing.assert_allclose(ev[i].numpy(), values / values.sum(), atol=1e-12)
    assert torch.all(ev[:, :-1] >= ev[:, 1:])  # descending
    torch.testing.assert_close(
        explained_variance(torch.ones(1, 3, 4, 4)), torch.zeros(1, 3, dtype=torch.float64)
    )


def test_mcev_is_mean_of_per_image_cumulative_ev_eq9() -> None:
    g = torch.Generator().manual_seed(0)
    stats = ExplainedVarianceStats(["a", "b"])
    per_image: list[torch.Tensor] = []
    for _ in range(3):
        batch = [torch.randn(2, 6, 5, 5, generator=g), torch.randn(2, 4, 3, 3, generator=g)]
        stats.update(batch)
        per_image.append(explained_variance(batch[0]).cumsum(-1))
    assert stats.count == 6
    torch.testing.assert_close(stats.mean_cev("a"), torch.cat(per_image).mean(0))
    torch.testing.assert_close(stats.mean_cev("a")[-1], torch.tensor(1.0, dtype=torch.float64))
    assert stats.channels(0.5)["a"] == channels_at(stats.mean_cev("a"), 0.5)


def test_channels_at_threshold() -> None:
    mcev = torch.tensor([0.5, 0.8, 0.85, 0.95, 1.0])
    assert channels_at(mcev, 0.85) == 3
    assert channels_at(mcev, 0.5) == 1
    assert channels_at(mcev, 0.96) == 5


def _folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    root.mkdir()
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)).save(root / f"{i}.png")
    return root


@pytest.mark.parametrize("kind", ["folder", "config"])
def test_command_writes_table_json_and_plot(kind: str, tmp_path: Path) -> None:
    folder = _folder(tmp_path / "photos")
    data = str(folder)
    if kind == "config":
        config = tmp_path / "c.yaml"
        config.write_text(
            "data:\n  class_path: stylelab.data.StyleTransferDataModule\n  init_args:\n    content:\n"
            f"      class_path: stylelab.data.ImageFolder\n      init_args: {{root: {folder}}}\n"
        )
        data = str(config)
    prefix = tmp_path / "out" / "mcev"
    code = main(
        ["pcakd", "mcev", "--data", data, "--weights", "none", "--size", "32", "--output", str(prefix)]
    )
    assert code == 0
    record = json.loads(Path(f"{prefix}.json").read_text())
    assert record["images"] == 3 and set(record["layers"]) == {"relu1_1", "relu2_1", "relu3_1", "relu4_1"}
    for layer in record["layers"].values():
        assert layer["channels_at_threshold"] == channels_at(torch.tensor(layer["mean_cev"]), 0.85)
    markdown = Path(f"{prefix}.md").read_text()
    assert "| relu4_1 | 512 |" in markdown and "64" in markdown  # the paper's count beside ours
    assert Path(f"{prefix}.svg").read_text().startswith("<svg")
    with pytest.raises(SystemExit):
        main(["pcakd", "mcev", "--data", str(tmp_path / "missing"), "--weights", "none"])
