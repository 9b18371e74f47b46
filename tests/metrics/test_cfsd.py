from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from stylelab.backbones import WeightsNotFoundError
from stylelab.metrics import CFSD, cfsd, cfsd_from_features
from stylelab.metrics.encoder import default_vgg_encoder

from ._helpers import TinyEncoder, random_images


def authors_formulation(output_feat: torch.Tensor, content_feat: torch.Tensor) -> torch.Tensor:
    """StyleID's computation restated: per image, kl_div(log softmax(out), softmax(content), 'batchmean')."""
    values = []
    for fo, fc in zip(output_feat, content_feat, strict=True):
        c = fo.shape[0]
        so = (fo.flatten(1).T / c) @ (fo.flatten(1) / c)
        sc = (fc.flatten(1).T / c) @ (fc.flatten(1) / c)
        log_q = F.log_softmax(so, dim=-1).reshape(1, -1)
        p = F.softmax(sc, dim=-1).reshape(1, -1)
        values.append(F.kl_div(log_q, p, reduction="batchmean"))
    return torch.stack(values)


def test_matches_the_authors_formulation_and_chunking_is_exact() -> None:
    g = torch.Generator().manual_seed(0)
    fo = torch.rand(2, 16, 6, 5, generator=g, dtype=torch.float64) * 20
    fc = torch.rand(2, 16, 6, 5, generator=g, dtype=torch.float64) * 20
    expected = authors_formulation(fo, fc)
    torch.testing.assert_close(cfsd_from_features(fo, fc, chunk_size=None), expected)
    torch.testing.assert_close(cfsd_from_features(fo, fc, chunk_size=7), expected)


def test_closed_form_properties() -> None:
    g = torch.Generator().manual_seed(1)
    f = torch.rand(3, 8, 5, 5, generator=g) * 30
    assert torch.all(cfsd_from_features(f, f) == 0)
    other = torch.rand(3, 8, 5, 5, generator=g) * 30
    assert torch.all(cfsd_from_features(other, f) > 0)
    # Spatially constant features give uniform rows: any two such maps are at distance 0.
    flat_a, flat_b = torch.ones(1, 8, 4, 4), 3 * torch.ones(1, 8, 4, 4)
    torch.testing.assert_close(cfsd_from_features(flat_a, flat_b), torch.zeros(1))
    # KL(content || output) is not symmetric.
    assert not torch.allclose(cfsd_from_features(other, f), cfsd_from_features(f, other))


def test_functional_and_metric_with_an_injected_encoder() -> None:
    encoder = TinyEncoder(seed=4)
    out, cnt = random_images(4, seed=1), random_images(4, seed=2)
    values = cfsd(out, cnt, encoder=encoder, reduction="none")
    assert values.shape == (4,) and torch.all(values >= 0)
    assert cfsd(cnt, cnt, encoder=encoder).item() == 0
    metric = CFSD(encoder=encoder)
    metric.update(out[:3], cnt[:3])
    metric.update(out[3:], cnt[3:])
    torch.testing.assert_close(metric.compute().float(), values.mean())
    assert metric.variant == (
        "CFSD (StyleID): relu3_1 features / C, row-softmax of F F^T, sum over positions of "
        "KL(content || output), tiny random encoder"
    )


def test_default_encoder_is_lazy_and_reports_missing_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYLELAB_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    default_vgg_encoder.cache_clear()
    metric = CFSD()  # constructing never touches weight files
    assert metric.variant.endswith("torchvision VGG-19")
    with pytest.raises(WeightsNotFoundError, match="vgg19_torchvision"):
        metric.update(random_images(1), random_images(1, seed=2))
    default_vgg_encoder.cache_clear()
