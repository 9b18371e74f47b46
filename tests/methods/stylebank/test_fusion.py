"""Linear (Eq. 5) and region (Eq. 6) fusion, K-means regions, style selection at inference."""

from __future__ import annotations

import pytest
import torch

from stylelab.methods.stylebank import StyleBank, check_fusion_weights
from stylelab.methods.stylebank.model import StyleBankLayer
from stylelab.methods.stylebank.regions import kmeans, kmeans_regions, labels_to_masks


def trained_like(num_styles: int = 3) -> StyleBank:
    """A StyleBank with random banks and distinct style thumbnails (no training needed for fusion maths)."""
    torch.manual_seed(0)
    model = StyleBank(
        loss_network=None, c_max=16, num_styles=num_styles, style_names=["a/x.jpg", "b.png", "c"][:num_styles]
    )
    model.style_thumbnails.copy_(torch.rand_like(model.style_thumbnails))
    return model.eval()


def test_fusion_weights_are_validated() -> None:
    assert check_fusion_weights([0.25, 0.75], 2) == [0.25, 0.75]
    with pytest.raises(ValueError, match="sum to 1"):
        check_fusion_weights([0.5, 0.6], 2)
    with pytest.raises(ValueError, match="one weight per style"):
        check_fusion_weights([1.0], 2)
    with pytest.raises(ValueError, match="finite"):
        check_fusion_weights([float("nan"), 1.0], 2)
    model = trained_like()
    with pytest.raises(ValueError, match="sum to 1"):
        model.stylize(torch.rand(1, 3, 16, 16), styles=[0, 1], weights=[0.7, 0.7])


def test_weight_one_on_a_style_is_that_style() -> None:
    model = trained_like()
    content = torch.rand(2, 3, 22, 30)
    single = model.stylize(content, styles=[1])
    assert torch.equal(model.stylize(content, styles=[1, 2], weights=[1.0, 0.0]), single)
    assert torch.equal(model.stylize(content, styles=[0, 1], weights=[0.0, 1.0]), single)
    assert not torch.equal(model.stylize(content, styles=[0, 1], weights=[0.5, 0.5]), single)


def test_linear_fusion_is_the_weighted_sum_of_bank_outputs() -> None:
    layer = StyleBankLayer(3, 8)
    feature = torch.randn(2, 8, 7, 9)
    weight, bias = layer.fused_kernel([0, 2], [0.3, 0.7])
    fused = layer.convolve(feature, weight, bias)
    expected = 0.3 * layer(feature, 0) + 0.7 * layer(feature, 2)
    torch.testing.assert_close(fused, expected, atol=1e-5, rtol=1e-5)


def test_region_fusion_equals_each_style_inside_its_region() -> None:
    layer = StyleBankLayer(3, 8, kernel_size=3)
    feature = torch.randn(1, 8, 10, 12)
    full = torch.ones(1, 1, 10, 12)
    torch.testing.assert_close(layer.region_fusion(feature, [2], full), layer(feature, 2))
    labels = torch.zeros(1, 10, 12, dtype=torch.long)
    labels[..., 6:] = 1  # left: region 0 -> style 0, right: region 1 -> style 2
    masks = labels_to_masks(labels, 2)
    fused = layer.region_fusion(feature, [0, 2], masks)
    torch.testing.assert_close(fused[..., :5], layer(feature, 0)[..., :5])  # 1 column from the border
    torch.testing.assert_close(fused[..., 7:], layer(feature, 2)[..., 7:])
    assert not torch.allclose(fused[..., 5:7], layer(feature, 0)[..., 5:7])  # border leakage (k x k support)


def test_kmeans_recovers_separated_clusters_and_is_a_fixed_point() -> None:
    generator = torch.Generator().manual_seed(1)
    centres = torch.tensor([[0.0, 0.0, 0.0], [5.0, 5.0, 0.0], [0.0, 5.0, 5.0]])
    truth = torch.arange(3).repeat_interleave(40)
    points = centres[truth] + 0.3 * torch.randn(120, 3, generator=generator)
    labels, centroids = kmeans(points, 3, seed=0)
    # same partition as the truth (up to a relabelling)
    mapping = {int(t): int(labels[truth == t][0]) for t in range(3)}
    assert len(set(mapping.values())) == 3
    assert torch.equal(labels, torch.tensor([mapping[int(t)] for t in truth]))
    # Lloyd fixed point: every point at its nearest centroid, every centroid the mean of its points
    assert torch.equal(torch.cdist(points, centroids).argmin(1), labels)
    for j in range(3):
        torch.testing.assert_close(centroids[j], points[labels == j].mean(0))
    assert torch.equal(kmeans(points, 3, seed=0)[0], labels)  # deterministic
    with pytest.raises(ValueError, match="k must be"):
        kmeans(points, 0)


def test_kmeans_regions_use_direction_not_length_and_order_by_area() -> None:
    a, b = torch.tensor([1.0, 0.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0, 0.0])
    feature = a.view(4, 1, 1).repeat(1, 6, 8)
    feature[:, :, 5:] = b.view(4, 1, 1)  # 3 columns of b, 5 columns of a
    feature = feature * torch.linspace(0.5, 3.0, 6 * 8).view(1, 6, 8)  # lengths vary, directions do not
    labels = kmeans_regions(feature, 2)
    assert (labels[:, :5] == 0).all() and (labels[:, 5:] == 1).all()  # region 0 = the larger one


def test_label_masks() -> None:
    labels = torch.tensor([[3, 3, 7], [7, 7, 3]])
    masks = labels_to_masks(labels, 2)
    assert masks.shape == (1, 2, 2, 3) and torch.equal(masks.sum(1), torch.ones(1, 2, 3))
    assert torch.equal(masks[0, 1], (labels == 7).float())
    with pytest.raises(ValueError, match="one style per region"):
        labels_to_masks(labels, 3)


def test_stylize_selects_banks_by_name_index_or_image() -> None:
    model = trained_like()
    content = torch.rand(1, 3, 18, 26)
    by_index = model.stylize(content, styles=[0])
    assert by_index.shape == content.shape and 0 <= by_index.min() and by_index.max() <= 1
    assert torch.equal(model.stylize(content, styles=["a/x.jpg"]), by_index)
    assert torch.equal(model.stylize(content, styles=["x"]), by_index)  # file stem
    assert torch.equal(model.stylize(content, styles=["0"]), by_index)
    with pytest.raises(KeyError, match="unknown style"):
        model.stylize(content, styles=["nope"])
    # a style image selects the bank whose thumbnail it matches
    image = torch.nn.functional.interpolate(model.style_thumbnails[2:3], size=(64, 48), mode="nearest")
    assert model.match_styles(image) == [2]
    assert torch.equal(model.stylize(content, image), model.stylize(content, styles=[2]))
    with pytest.raises(ValueError, match="weights= .* or regions="):
        model.stylize(content, styles=[0, 1])


def test_stylize_regions_kmeans_and_masks() -> None:
    model = trained_like()
    content = torch.rand(1, 3, 21, 30)
    out = model.stylize(content, styles=[0, 2], regions="kmeans")
    assert out.shape == content.shape
    single = model.stylize(content, styles=[1])
    one_region = model.stylize(content, styles=[1], regions=torch.zeros(1, 21, 30, dtype=torch.long))
    torch.testing.assert_close(one_region, single)
    labels = torch.zeros(1, 21, 30, dtype=torch.long)
    labels[..., 15:] = 5
    assert model.stylize(content, styles=[0, 2], regions=labels).shape == content.shape
    with pytest.raises(ValueError, match="one style per region"):
        model.stylize(content, styles=[0, 1, 2], regions=labels)
