r"""Style Kernel Generation (SKG) and the per-position separable dynamic convolution (paper Eq. 6).

SKG maps the content-style aligned feature ``Z_cs`` to, at every position ``(i, j)`` and channel ``c``,
a vertical filter ``F1[c, :, i, j]`` (``k x 1``), a horizontal filter ``F2[c, :, i, j]`` (``1 x k``) and
a bias ``B[c, i, j]``. The dynamic convolution applies them depthwise to a feature ``x`` (SK: the
instance-normalised, group-shuffled content feature)::

    y[c, i, j] = sum_t F1[c, t, i, j] * x[c, i + t - p, j]          (vertical pass,   p = k // 2)
    z[c, i, j] = sum_t F2[c, t, i, j] * y[c, i, j + t - p] + B[c, i, j]   (horizontal pass)

with ``x`` and ``y`` padded by ``p`` (reflect [proposal], falling back to replicate when the map is too
small to reflect). Cost: ``H W C (2k + 1)`` multiply-adds, the paper's count.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from stylelab.ops import instance_normalize

PaddingMode = Literal["reflect", "replicate", "zeros"]


def _pad(x: Tensor, pads: tuple[int, int, int, int], mode: PaddingMode) -> Tensor:
    if mode == "zeros":
        return F.pad(x, pads)
    if mode == "reflect" and (x.shape[-1] <= max(pads[:2]) or x.shape[-2] <= max(pads[2:])):
        mode = "replicate"  # reflect needs pad < size
    return F.pad(x, pads, mode=mode)


def dynamic_separable_conv(
    x: Tensor,
    vertical: Tensor,
    horizontal: Tensor,
    bias: Tensor | None = None,
    padding_mode: PaddingMode = "reflect",
) -> Tensor:
    r"""Per-position, per-channel separable convolution: a ``k x 1`` pass, then a ``1 x k`` pass, plus bias.

    Args:
        x: Features ``(B, C, H, W)``.
        vertical: ``F1`` ``(B, C, k, H, W)``; tap ``t`` weighs row offset ``t - k // 2``.
        horizontal: ``F2`` ``(B, C, k, H, W)``; tap ``t`` weighs column offset ``t - k // 2``.
        bias: ``B`` ``(B, C, H, W)`` or None.
        padding_mode: ``"reflect"``, ``"replicate"`` or ``"zeros"``.

    Returns:
        ``(B, C, H, W)``.

    Raises:
        ValueError: On an even ``k`` or shapes that do not match ``x``.
    """
    if x.dim() != 4:
        raise ValueError(f"x must be (B, C, H, W); got shape {tuple(x.shape)}")
    b, c, h, w = x.shape
    k = vertical.shape[2] if vertical.dim() == 5 else -1
    for name, f in (("vertical", vertical), ("horizontal", horizontal)):
        if f.dim() != 5 or f.shape[:2] != (b, c) or f.shape[3:] != (h, w) or f.shape[2] != k:
            raise ValueError(
                f"{name} filters must be (B, C, k, H, W) = ({b}, {c}, k, {h}, {w}) with the same k for both "
                f"passes; got {tuple(f.shape)}"
            )
    if k % 2 == 0:
        raise ValueError(f"the kernel size k must be odd; got {k}")
    if bias is not None and bias.shape != x.shape:
        raise ValueError(f"bias must have the shape of x {tuple(x.shape)}; got {tuple(bias.shape)}")
    p = k // 2
    padded = _pad(x, (0, 0, p, p), padding_mode)
    y = vertical[:, :, 0] * padded[:, :, 0:h]
    for t in range(1, k):
        y = y + vertical[:, :, t] * padded[:, :, t : t + h]
    padded = _pad(y, (p, p, 0, 0), padding_mode)
    z = horizontal[:, :, 0] * padded[..., 0:w]
    for t in range(1, k):
        z = z + horizontal[:, :, t] * padded[..., t : t + w]
    return z if bias is None else z + bias


class StyleKernelGenerator(nn.Module):
    """SKG: two conv layers on ``Z_cs`` predicting ``F1``, ``F2`` and ``B`` at every position.

    ``conv3x3(C -> hidden) - ReLU - conv1x1(hidden -> C (2k + 1))`` [proposal; the paper says "two
    convolution layers"]. The output bias starts at the identity filter (centre taps 1, others 0, ``B = 0``)
    so the dynamic convolution initially passes its input through [proposal].

    ``moment_skip=True`` (stylelab option, not in the paper) makes the two convs predict *residuals* on top
    of given style moments ``(mu, sigma)`` (``StyleKernelNet``'s ``kernel_skip``: the style feature's
    channel mean and standard deviation, or their attention-weighted, per-position versions): the convs see
    the instance-normalised ``IN(Z_cs)`` and their outputs ``(dF1, dF2, dB)`` are scale-free, the kernels
    being ``F1 = delta + dF1``, ``F2 = sigma (delta + dF2)``, ``B = mu + sigma dB``. The output conv's weights
    start at zero and its bias at ``F1``'s centre tap 1 (everything else 0), so at initialisation the dynamic
    convolution of the instance-normalised content is ``sigma * x + mu``: AdaIN (global moments) or an
    AdaAttN-like per-position AdaIN, which a pretrained decoder already turns into a stylised image. (On the
    raw ``Z_cs`` of a VGG layer, O(10-100) activations make one Adam step of the zero-initialised output conv
    move the kernels by O(1): the normalisation keeps the first steps small.)

    Args:
        channels: ``C`` (channels of ``Z_cs`` and of the convolved feature).
        kernel_size: ``k`` (odd; paper 3).
        hidden: Width of the first conv (default ``C``).
        identity_init: Start from identity filters (otherwise PyTorch's default bias init).
        moment_skip: Predict residuals on the moment skip above (``forward`` then needs ``moments``).

    Shapes:
        ``(B, C, H, W)`` → ``F1, F2``: ``(B, C, k, H, W)``, ``B``: ``(B, C, H, W)``.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 3,
        hidden: int | None = None,
        identity_init: bool = True,
        moment_skip: bool = False,
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number; got {kernel_size}")
        hidden = hidden or channels
        self.channels, self.kernel_size, self.moment_skip = channels, kernel_size, moment_skip
        self.net = nn.Sequential(
            nn.Conv2d(channels, hidden, 3, padding=1, padding_mode="reflect"),
            nn.ReLU(),
            nn.Conv2d(hidden, channels * (2 * kernel_size + 1), 1),
        )
        if identity_init:
            last = self.net[-1]
            assert isinstance(last, nn.Conv2d)
            init = torch.zeros(channels, 2 * kernel_size + 1)
            init[:, kernel_size // 2] = 1.0
            if not moment_skip:  # with the skip, F2's centre comes from sigma
                init[:, kernel_size + kernel_size // 2] = 1.0
            with torch.no_grad():
                last.bias.copy_(init.flatten())
                if moment_skip:
                    last.weight.zero_()

    def forward(
        self, aligned: Tensor, moments: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor, Tensor]:
        """``(F1, F2, B)`` for ``Z_cs`` ``(B, C, H, W)``.

        Args:
            aligned: ``Z_cs`` ``(B, C, H, W)``.
            moments: With ``moment_skip`` only (required): ``(mu, sigma)``, each ``(B, C, H, W)`` or
                ``(B, C, 1, 1)``.

        Raises:
            ValueError: ``moments`` missing with ``moment_skip`` or given without it.
        """
        if self.moment_skip != (moments is not None):
            raise ValueError("moments must be given exactly when the generator has moment_skip=True")
        b, _, h, w = aligned.shape
        k = self.kernel_size
        source = aligned if moments is None else instance_normalize(aligned, unbiased=False)
        out = self.net(source).view(b, self.channels, 2 * k + 1, h, w)
        vertical, horizontal, bias = out[:, :, :k], out[:, :, k : 2 * k], out[:, :, 2 * k]
        if moments is not None:
            mean, spread = moments
            centre = torch.zeros(k, dtype=out.dtype, device=out.device)
            centre[k // 2] = 1.0
            horizontal = spread.unsqueeze(2) * (horizontal + centre.view(1, 1, k, 1, 1))
            bias = mean + spread * bias
        return vertical, horizontal, bias
