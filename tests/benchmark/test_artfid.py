"""Our ArtFID equals the ``art-fid`` package's with identical, locally made Inception and LPIPS weights."""

from __future__ import annotations

import copy
import tempfile
import warnings
from pathlib import Path

import pytest
import torch

from stylelab.benchmark.artfid import ArtInception, art_fid, frechet_distance, resolve_inception
from stylelab.data.image_io import load_image, save_image
from stylelab.metrics import LPIPSNet

art_fid_package = pytest.importorskip("art_fid.art_fid")


def _random_inception(path: Path) -> None:
    from art_fid.inception import Inception3

    torch.manual_seed(3)
    model = Inception3()  # the package's architecture, locally made weights (never downloaded)
    with torch.no_grad():  # He-scaled convolutions keep the 2048-d features O(1) through the depth
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)


def _lpips_like(ours: LPIPSNet):  # noqa: ANN202 - returns the package's LPIPS class replacement
    import lpips as lpips_package

    original = lpips_package.LPIPS  # captured before the test patches the module attribute

    def build(net: str = "alex", **_: object) -> lpips_package.LPIPS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = original(net=net, pretrained=True, pnet_rand=True, verbose=False)
        model = copy.deepcopy(model)
        with torch.no_grad():
            for name, param in model.net.named_parameters():
                param.copy_(ours.backbone.state_dict()[name.split(".", 1)[1]])
            for k, lin in enumerate(model.lins):
                lin.model[1].weight.copy_(ours.heads[k])
        return model.eval()

    return build


def test_frechet_distance_matches_the_sqrtm_formula() -> None:
    from scipy import linalg

    g = torch.Generator().manual_seed(0)
    a, b = (
        torch.randn(7, 5, generator=g, dtype=torch.float64),
        torch.randn(9, 5, generator=g, dtype=torch.float64) + 0.3,
    )
    s1, s2 = torch.cov(a.T).numpy(), torch.cov(b.T).numpy()
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum().item() + s1.trace() + s2.trace()
    expected -= 2 * linalg.sqrtm(s1 @ s2).real.trace()
    assert frechet_distance(a, b) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)


def test_art_fid_equals_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    _random_inception(tmp_path / "tmp" / "art_fid" / "art_inception.pth")
    ours_lpips = LPIPSNet("alex", seed=5)
    monkeypatch.setattr("art_fid.image_metrics.lpips.LPIPS", _lpips_like(ours_lpips))
    g = torch.Generator().manual_seed(1)
    folders = {name: tmp_path / name for name in ("stylized", "style", "content")}
    for folder in folders.values():
        folder.mkdir()
    for i in range(4):  # equal sizes within a folder: the package batches them
        for name, folder in folders.items():
            image = torch.rand(3, 96, 112, generator=g)
            if name == "stylized":
                image = image * 0.5 + 0.25
            save_image(image, folder / f"{i}.png")
    expected = art_fid_package.compute_art_fid(
        str(folders["stylized"]), str(folders["style"]), str(folders["content"]), 4, "cpu", mode="art_fid"
    )
    inception = ArtInception(resolve_inception())
    read = {
        name: [load_image(folder / f"{i}.png")[None] for i in range(4)] for name, folder in folders.items()
    }
    got = art_fid(read["stylized"], read["content"], read["style"], inception, lpips_net=ours_lpips)
    assert got["artfid"] == pytest.approx(expected, rel=1e-4)
