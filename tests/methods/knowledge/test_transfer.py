from __future__ import annotations

import pytest
import torch

from stylelab.methods.knowledge.index import ExactIndex
from stylelab.methods.knowledge.model import KnowledgeTransferNet, KTDecoder, padded_size
from stylelab.methods.knowledge.transfer import geometric_swap, statistics_swap, swap_patches
from stylelab.ops import unfold_patches

from .conftest import RANDOM


def test_statistics_swap_gives_the_match_its_per_channel_moments() -> None:
    content, matched = torch.randn(7, 5, 4, 4) * 3 + 1, torch.randn(7, 5, 4, 4) * 0.5 - 2
    out = statistics_swap(content, matched, eps=0.0)
    torch.testing.assert_close(out.mean(dim=(2, 3)), matched.mean(dim=(2, 3)), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out.std(dim=(2, 3)), matched.std(dim=(2, 3)), atol=1e-5, rtol=1e-5)
    # the normalised shape is the content's (Eq. 7 keeps the content pattern)
    z = lambda x: (x - x.mean(dim=(2, 3), keepdim=True)) / x.std(dim=(2, 3), keepdim=True)  # noqa: E731
    torch.testing.assert_close(z(out), z(content), atol=1e-4, rtol=1e-4)
    # the code's eps: + 2e-5 on the unbiased std
    c = content.flatten(2)
    expected = (c - c.mean(2, keepdim=True)) / (c.std(2, keepdim=True) + 2e-5) * matched.flatten(2).std(
        2, keepdim=True
    ) + matched.flatten(2).mean(2, keepdim=True)
    torch.testing.assert_close(statistics_swap(content, matched), expected.view_as(content))
    assert geometric_swap(content, matched) is matched
    with pytest.raises(ValueError, match="swap"):
        swap_patches(content, matched, "magic")  # type: ignore[arg-type]


def test_decoder_matches_the_reference_layout() -> None:
    decoder = KTDecoder(256)
    # 5 x 2 x (256*256*9 + 256) + 256*128*9 + 128*64*9 + 64*3*9 + (3*3*9 + 3)
    assert sum(p.numel() for p in decoder.parameters()) == 6_271_252
    assert decoder.upsample[0].conv.bias is None and decoder.output.bias is not None
    y = decoder.eval()(torch.randn(2, 256, 6, 5))
    assert y.shape == (2, 3, 24, 20) and y.min() >= 0 and y.max() <= 1
    raw = decoder.train()(torch.randn(2, 256, 6, 5))  # training sees the unclamped output
    assert raw.min() < 0 or raw.max() > 1


def test_library_of_the_content_itself_reconstructs_its_features() -> None:
    """Geometric swap against a library holding the content's own windows is the identity (fold averages)."""
    net = KnowledgeTransferNet(RANDOM)
    content = torch.rand(1, 3, 64, 48)
    feat = net.encode(content)
    own = unfold_patches(feat, 4, 2)[0]
    folded, indices, similarity, grid = net.translate(feat, ExactIndex().build(own), own, "geometric")
    torch.testing.assert_close(folded, feat)
    torch.testing.assert_close(similarity, torch.ones_like(similarity))
    assert grid == (7, 5) and indices.shape == (1, 35)
    folded, *_ = net.translate(feat, ExactIndex().build(own), own, "statistics")
    torch.testing.assert_close(folded, feat, atol=1e-3, rtol=1e-3)


def test_any_size_and_batch_gives_the_per_image_result() -> None:
    net = KnowledgeTransferNet(RANDOM, swap="geometric")
    library = unfold_patches(net.encode(torch.rand(1, 3, 40, 40)), 4, 1)[0]
    index = ExactIndex().build(library)
    batch = torch.rand(3, 3, 37, 53)
    out, matches = net(batch, index, library)
    assert out.shape == (3, 3, 37, 53)
    assert matches.image_size == (padded_size(37, 4, 4, 2), padded_size(53, 4, 4, 2)) == (40, 56)
    single, single_matches = net(batch[1:2], index, library)
    torch.testing.assert_close(out[1:2], single, atol=1e-5, rtol=1e-5)
    assert torch.equal(matches.indices[1], single_matches.indices[0])
