"""The sweep objective: the quality floor's style ratio under a content-SSIM constraint.

One number to minimise per evaluation, built from the two halves of the quality floor
(:mod:`stylelab.metrics.quality`) of each (output, content, style) triple ``i``:

* ``r_i``: style ratio, the Gram style loss of the output to the style over that of the content to the
  style (1: no style taken; 0: the style's Gram statistics exactly);
* ``s_i``: SSIM of the output to the content (1: the content's structure; ≈ 0.1: a copy of the style or
  noise).

The objective is the mean over triples of ``J_i = r_i + penalty · max(0, ssim_floor - s_i)``: the style
ratio wherever the content survives (``s_i >= ssim_floor``), plus a hinge penalty where it does not.
The hinge keeps the surface continuous for a Bayesian sweep instead of a hard reject.

Neither half can be ignored:

* ignoring the style: a copy of the content has ``r = 1`` exactly and ``s = 1``, so ``J = 1``;
* ignoring the content: ``r >= 0``, so any output with ``s <= ssim_floor - 1 / penalty`` (0.2 with the
  defaults) scores ``J >= 1``; a copy of the style (``r = 0``, ``s ≈ 0.1``) scores ``J ≈ 2``;
* a stylisation with ``s >= ssim_floor`` and ``r < 1`` scores ``J = r < 1`` and beats both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stylelab.metrics.quality import SSIM_FLOOR, QualityScores

#: Default hinge slope: 0.1 of SSIM below the floor costs as much as the whole style ratio range (1 → 0).
DEFAULT_PENALTY = 10.0


@dataclass(frozen=True)
class SweepObjective:
    """``mean_i [style_ratio_i + penalty · max(0, ssim_floor - ssim_i)]``, lower is better.

    Args:
        ssim_floor: SSIM to the content below which the penalty starts (default: the quality floor's 0.3).
        penalty: Hinge slope, in style-ratio units per unit of SSIM.

    Raises:
        ValueError: ``ssim_floor`` outside ``(0, 1]`` or ``ssim_floor * penalty <= 1``: the latter would let
            an output that ignores its content (SSIM ≈ 0, style ratio 0) reach the score of a copy of the
            content.
    """

    ssim_floor: float = SSIM_FLOOR
    penalty: float = DEFAULT_PENALTY

    def __post_init__(self) -> None:
        if not 0.0 < self.ssim_floor <= 1.0:
            raise ValueError(f"ssim_floor must be in (0, 1]; got {self.ssim_floor}")
        if self.ssim_floor * self.penalty <= 1.0:
            raise ValueError(
                f"ssim_floor * penalty must exceed 1 (got {self.ssim_floor} * {self.penalty}): otherwise "
                "a copy of the style (style ratio 0, SSIM ≈ 0) scores at least as well as a copy of the "
                "content (ratio 1); raise the penalty"
            )

    def pair(self, style_ratio: float, ssim: float) -> float:
        """``J`` of one triple from its style ratio and its SSIM to the content."""
        return style_ratio + self.penalty * max(0.0, self.ssim_floor - ssim)

    def __call__(self, scores: Sequence[QualityScores]) -> float:
        """Mean ``J`` over the floor scores of several triples.

        Raises:
            ValueError: ``scores`` is empty.
        """
        if not scores:
            raise ValueError("the sweep objective needs at least one scored triple")
        return sum(self.pair(s.style_ratio, s.ssim) for s in scores) / len(scores)

    def describe(self) -> str:
        """The formula with its constants, for metric tables."""
        hinge = f"{self.penalty:g} * max(0, {self.ssim_floor:g} - SSIM to content)"
        return f"mean over pairs of style_ratio + {hinge}"
