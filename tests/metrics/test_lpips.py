from __future__ import annotations

import copy
import functools
import warnings
from pathlib import Path

import lpips as lpips_package
import pytest
import torch

from stylelab.metrics import LPIPS, LPIPSNet, lpips, lpips_temporal

from ._helpers import load_image, random_images

# Documented LPIPS v0.1 distances to ex_ref (PerceptualSimilarity README / MANIFEST.md).
DOCUMENTED = {"alex": {"p0": 0.722, "p1": 0.138}, "vgg": {"p0": 0.569, "p1": 0.422}}
BACKBONE_FILES = {
    "alex": "alexnet_imagenet_torchvision_features.pth",
    "vgg": "vgg16_imagenet_torchvision_features.pth",
}


@functools.cache
def _package_model(net: str) -> lpips_package.LPIPS:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's 'pretrained' deprecation inside lpips
        return lpips_package.LPIPS(net=net, version="0.1", pretrained=True, pnet_rand=True, verbose=False)


def reference_lpips(
    net: str, backbone: dict[str, torch.Tensor], heads: dict[str, torch.Tensor]
) -> lpips_package.LPIPS:
    """The `lpips` package with a random trunk (no download) into which the same backbone is copied."""
    model = copy.deepcopy(_package_model(net))  # built once: torchvision inits the whole VGG-16
    with torch.no_grad():
        for name, param in model.net.named_parameters():  # slice{k}.{index}.{weight|bias}
            param.copy_(backbone[name.split(".", 1)[1]])
        for k, lin in enumerate(model.lins):
            lin.model[1].weight.copy_(heads[f"lin{k}.model.1.weight"])
    return model.eval()


def reference_distance(model: lpips_package.LPIPS, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x, y, normalize=True).flatten()


@pytest.fixture(scope="module", params=["alex", "vgg"])
def random_pair(request: pytest.FixtureRequest) -> tuple[LPIPSNet, lpips_package.LPIPS]:
    ours = LPIPSNet(request.param, seed=11)
    backbone = ours.backbone.state_dict()
    heads = {f"lin{k}.model.1.weight": h.detach().clone() for k, h in enumerate(ours.heads)}
    return ours, reference_lpips(request.param, backbone, heads)


def test_random_weights_match_the_lpips_package(random_pair: tuple[LPIPSNet, lpips_package.LPIPS]) -> None:
    ours, reference = random_pair
    x, y = random_images(3, size=40, seed=1), random_images(3, size=40, seed=2)
    with torch.no_grad():
        got = ours(x, y)
    expected = reference_distance(reference, x, y)
    assert got.shape == (3,)
    assert (got - expected).abs().max().item() <= 1e-5
    # `net` is inferred from the injected network
    torch.testing.assert_close(lpips(x, y, lpips_net=ours), expected.mean(), atol=1e-5, rtol=0)


@pytest.fixture(scope="module", params=["alex", "vgg"])
def pretrained_pair(
    request: pytest.FixtureRequest, shared_weights: Path
) -> tuple[LPIPSNet, lpips_package.LPIPS]:
    net = request.param
    backbone = torch.load(shared_weights / BACKBONE_FILES[net], map_location="cpu", weights_only=True)
    backbone = {k.removeprefix("features."): v for k, v in backbone.items()}
    heads = torch.load(shared_weights / "lpips_v0.1" / f"{net}.pth", map_location="cpu", weights_only=True)
    # Ours through the weights registry (the default path), the package from the files directly.
    mp = pytest.MonkeyPatch()
    mp.setenv("STYLELAB_WEIGHTS", str(shared_weights))
    mp.setenv("STYLELAB_OFFLINE", "1")
    try:
        ours = LPIPSNet.pretrained(net)
    finally:
        mp.undo()
    return ours, reference_lpips(net, backbone, heads)


@pytest.mark.shared_data
def test_pretrained_reproduces_documented_distances_and_the_package(
    pretrained_pair: tuple[LPIPSNet, lpips_package.LPIPS], shared_images: Path
) -> None:
    ours, reference = pretrained_pair
    folder = shared_images / "lpips_examples"
    ref = load_image(folder / "ex_ref.png")
    distorted = torch.cat([load_image(folder / "ex_p0.png"), load_image(folder / "ex_p1.png")])
    with torch.no_grad():
        got = ours(ref.expand(2, -1, -1, -1), distorted)
    expected = reference_distance(reference, ref.expand(2, -1, -1, -1), distorted)
    assert (got - expected).abs().max().item() <= 1e-5
    documented = DOCUMENTED[ours.net]
    assert round(got[0].item(), 3) == documented["p0"]
    assert round(got[1].item(), 3) == documented["p1"]


@pytest.mark.shared_data
def test_pretrained_matches_the_package_on_real_photos(
    pretrained_pair: tuple[LPIPSNet, lpips_package.LPIPS], shared_images: Path
) -> None:
    ours, reference = pretrained_pair
    names = ["skimage_chelsea.png", "coral_cat.jpg", "skimage_coffee.png", "coral_parrot.jpg"]
    photos = torch.cat([load_image(shared_images / "content" / n, size=96) for n in names])
    x, y = photos[:2], photos[2:]
    with torch.no_grad():
        got = ours(x, y)
    expected = reference_distance(reference, x, y)
    assert (got - expected).abs().max().item() <= 1e-5
    assert torch.all(got > 0.1)  # different photos are far apart


def test_temporal_mode_is_mean_over_consecutive_pairs() -> None:
    net = LPIPSNet("alex", seed=5)
    clip = random_images(4, size=48, seed=3)  # (T, 3, H, W)
    with torch.no_grad():
        pairs = net(clip[:-1], clip[1:])
    torch.testing.assert_close(lpips_temporal(clip, lpips_net=net), pairs.mean())
    clips = torch.stack([clip, clip.flip(0)])  # (B, T, 3, H, W)
    assert lpips_temporal(clips, lpips_net=net, reduction="none").shape == (2,)

    metric = LPIPS(mode="temporal", lpips_net=net)
    metric.update(clip)
    metric.update(clip[:2])  # a 2-frame clip adds one pair
    with torch.no_grad():
        expected = torch.cat([pairs, net(clip[:1], clip[1:2])]).mean()
    torch.testing.assert_close(metric.compute().float(), expected)
    assert metric.count == 4
    assert (
        metric.variant
        == "LPIPS v0.1 alex, temporal (consecutive frames), mean over all frame pairs, RGB [0,1] -> [-1,1]"
    )


def test_pairwise_metric_and_errors() -> None:
    net = LPIPSNet("alex", seed=5)
    x, y = random_images(4, size=48, seed=1), random_images(4, size=48, seed=2)
    metric = LPIPS(lpips_net=net)
    metric.update(x[:1], y[:1])
    metric.update(x[1:], y[1:])
    torch.testing.assert_close(metric.compute().float(), lpips(x, y, lpips_net=net))
    assert lpips(x, x, lpips_net=net).item() == 0
    assert (
        metric.variant == "LPIPS v0.1 alex, pairwise (img1 vs img2), mean over samples, RGB [0,1] -> [-1,1]"
    )
    assert not list(metric.parameters())  # the network is not part of the metric's state
    with pytest.raises(ValueError, match="img2"):
        metric.update(x)
    with pytest.raises(ValueError, match="at least 2 frames"):
        LPIPS(mode="temporal", lpips_net=net).update(x[:1])
    with pytest.raises(ValueError, match="backbone"):
        LPIPS("vgg", lpips_net=net)
    with pytest.raises(ValueError, match="squeeze"):
        LPIPSNet("squeeze")  # type: ignore[arg-type]
