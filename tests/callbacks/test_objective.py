"""The sweep objective ranks a stylisation above both trivial outputs (content copy, style copy, noise)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.callbacks import StyleEvaluation, SweepObjective
from stylelab.data import StyleTransferDataModule
from stylelab.metrics.quality import SSIM_FLOOR, quality_scores


class _Fixed(nn.Module):
    """A "method" whose output is a fixed function of its content and style."""

    def __init__(self, make: Callable[[Tensor, Tensor], Tensor]) -> None:
        super().__init__()
        self.make = make

    def stylize(self, content: Tensor, style: Tensor) -> Tensor:
        return self.make(
            content, F.interpolate(style, size=content.shape[-2:], mode="bilinear", antialias=True)
        )


OUTPUTS = {
    "content copy": lambda c, s: c,
    "style copy": lambda c, s: s,
    "noise": lambda c, s: torch.rand(c.shape, generator=torch.Generator().manual_seed(0)),
    "blend": lambda c, s: 0.6 * c + 0.4 * s,  # takes some style, keeps SSIM ≈ 0.6 on the embedded pair
}


def test_hinge_closed_form() -> None:
    objective = SweepObjective(ssim_floor=0.3, penalty=10.0)
    assert objective.pair(style_ratio=0.6, ssim=0.7) == pytest.approx(0.6)  # constraint met: the ratio
    assert objective.pair(style_ratio=0.6, ssim=0.3) == pytest.approx(0.6)
    assert objective.pair(style_ratio=0.6, ssim=0.25) == pytest.approx(0.6 + 10 * 0.05)
    assert objective.pair(style_ratio=0.0, ssim=0.1) == pytest.approx(2.0)  # a style copy
    assert objective.pair(style_ratio=1.0, ssim=1.0) == pytest.approx(1.0)  # a content copy


@pytest.mark.parametrize(("floor", "penalty"), [(0.0, 10.0), (1.5, 10.0), (0.3, 3.0), (0.3, -1.0)])
def test_rejects_constants_that_let_a_style_copy_win(floor: float, penalty: float) -> None:
    with pytest.raises(ValueError, match="ssim_floor"):
        SweepObjective(ssim_floor=floor, penalty=penalty)


def test_prefers_a_stylisation_to_ignoring_content_or_style() -> None:
    datamodule = StyleTransferDataModule(eval_size=64, num_val_pairs=2)
    datamodule.setup("fit")
    pairs = [
        (datamodule.load_eval_image(c), datamodule.load_eval_image(s))
        for c, s in datamodule.eval_pairs("val")
    ]
    callback = StyleEvaluation(
        metrics=["style_gram", "ssim"], encoder_weights="vgg19_caffe_q8", log_images=False
    )
    results = {name: callback.evaluate(_Fixed(make), pairs).values for name, make in OUTPUTS.items()}
    objective = {name: values["objective"] for name, values in results.items()}
    # closed form: a copy of the content has style ratio exactly 1 and SSIM 1
    assert objective["content copy"] == pytest.approx(1.0, abs=1e-5)
    # the blend takes style while keeping the content above the floor ...
    assert results["blend"]["ssim"] > SSIM_FLOOR and objective["blend"] < 1.0
    # ... so it beats both extremes, although a pure style loss ranks the style copy first
    assert results["style copy"]["style_gram"] < results["blend"]["style_gram"]
    assert objective["blend"] < min(objective["content copy"], objective["style copy"], objective["noise"])
    assert (
        objective["style copy"] > objective["content copy"] and objective["noise"] > objective["content copy"]
    )


def test_name_and_constants_are_options_of_the_callback() -> None:
    content, style = torch.rand(3, 40, 56), torch.rand(3, 48, 48)
    blend = _Fixed(OUTPUTS["blend"])
    callback = StyleEvaluation(
        metrics=["ssim"], encoder_weights="vgg19_caffe_q8", objective="score", objective_penalty=20.0
    )
    values = callback.evaluate(blend, [(content, style)]).values
    # recomputed independently: the floor's scores at the content's shorter side, then the hinge
    (scores,) = quality_scores(blend.stylize(content[None], style[None]), content[None], style[None], size=40)
    expected = scores.style_ratio + 20.0 * max(0.0, SSIM_FLOOR - scores.ssim)
    assert "objective" not in values and values["score"] == pytest.approx(expected, rel=1e-5)
    off = StyleEvaluation(metrics=["ssim"], encoder_weights=None, objective=None)
    assert set(off.evaluate(blend, [(content, style)]).values) == {"ssim"}
    with pytest.raises(ValueError, match="not a metric name"):
        StyleEvaluation(objective="ssim")
