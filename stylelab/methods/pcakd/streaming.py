r"""Streamed PCA-KD stylisation: 8K on a CPU in a few GiB, equal to the whole-image pass.

The whole-image pass (:meth:`.model.PCAKDNet.stylize`) holds every full-resolution activation of every
layer at once and runs ZCA in float64 on whole feature maps; at 7680x4320 that needs more than 24 GiB.
Here every encoder and decoder block runs over **horizontal bands** of its input (full width), each
band read with an exact halo of ``halo`` rows on both sides (more than the block's receptive-field
radius, in the block's input rows) and only its interior kept, so each output row equals the whole-image
one (the block's own reflect/replicate paddings are only wrong near a band's edge, inside the halo; at
the image's true top and bottom the band's padding *is* the image's). Band starts are multiples of the
block's stride, so pooling and stride-2 grids stay aligned.

ZCA needs the mean and covariance of a whole feature map. They are accumulated in float64 while the
bands of that map are written (``sum f`` and ``sum f f^T`` over every position), and the transform,
``out = M f + (mu_s - M mu_c)`` with ``M = (Cov_s + r_s I)^(1/2) (Cov_c + r_c I)^(-1/2)`` (the same
eigenvalue rule as :func:`stylelab.ops.zca_transform`), is then applied band by band in float64 right
before the next decoder block. Kept in memory: the content's skips (HFRs, one per level), the level being
decoded and its successor; the style keeps only its statistics. Everything runs under
``torch.no_grad`` (no autograd state).

Shapes: content ``(1, 3, H, W)`` and style ``(1, 3, H_s, W_s)``, both multiples of the student's
stride (8 VGG, 16 MobileNet); output ``(1, 3, H, W)``, unclamped (as the whole-image pass).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from stylelab.methods.pcakd.transfer import ZCAConfig

#: Default band height, in rows of the full-resolution image (each level uses its share of it).
DEFAULT_BAND_ROWS = 512
#: Default halo, in input rows of each block (the largest receptive-field radius of a student block is 6).
DEFAULT_HALO = 8


class FeatureStats:
    """Running float64 sums of a ``(1, C, h, w)`` feature map, band by band.

    Args:
        channels: ``C``.
        device: Where the sums live.
    """

    def __init__(self, channels: int, device: torch.device) -> None:
        self.count = 0
        self.total = torch.zeros(channels, dtype=torch.float64, device=device)
        self.outer = torch.zeros(channels, channels, dtype=torch.float64, device=device)

    def add(self, band: Tensor) -> None:
        """Accumulate one band ``(1, C, rows, w)``."""
        f = band[0].reshape(band.shape[1], -1).to(torch.float64)
        self.count += f.shape[1]
        self.total += f.sum(dim=1)
        self.outer += f @ f.T

    def mean_and_covariance(self, normalizer: str) -> tuple[Tensor, Tensor]:
        """``(mu (C,), Cov (C, C))`` with ``Cov = sum (f - mu)(f - mu)^T / d``, ``d = N`` or ``N - 1``."""
        if self.count == 0:
            raise ValueError("no band was accumulated")
        n = self.count
        mean = self.total / n
        scatter = self.outer - n * torch.outer(mean, mean)
        divisor = n - 1 if (normalizer == "N-1" and n > 1) else n
        return mean, scatter / divisor


def _matrix_power(cov: Tensor, power: float, threshold: float, eps: float = 1e-5) -> Tensor:
    """``cov^power`` over eigenvalues ``>= threshold`` (the rule of :func:`stylelab.ops.zca_transform`)."""
    evals, evecs = torch.linalg.eigh(cov)
    keep = evals >= threshold
    d = torch.where(keep, evals.clamp_min(eps).pow(power), torch.zeros_like(evals))
    return (evecs * d) @ evecs.T


def zca_affine(content: FeatureStats, style: FeatureStats, config: ZCAConfig) -> tuple[Tensor, Tensor]:
    """ZCA as an affine map ``f -> M f + b`` from whole-map statistics.

    Args:
        content: Statistics of the content feature ``(C channels)``.
        style: Statistics of the style feature.
        config: ZCA settings (regulariser, where it applies, normaliser, eigenvalue threshold).

    Returns:
        ``(M (C, C), b (C,))`` in float64.
    """
    mu_c, cov_c = content.mean_and_covariance(config.normalizer)
    mu_s, cov_s = style.mean_and_covariance(config.normalizer)
    eye = torch.eye(cov_c.shape[0], dtype=cov_c.dtype, device=cov_c.device)
    whiten = _matrix_power(cov_c + config.regularizer * eye, -0.5, config.eig_threshold)
    r_s = config.regularizer if config.reg_on == "both" else 0.0
    colour = _matrix_power(cov_s + r_s * eye, 0.5, config.eig_threshold)
    matrix = colour @ whiten
    return matrix, mu_s - matrix @ mu_c


def _apply_affine(x: Tensor, affine: tuple[Tensor, Tensor]) -> Tensor:
    matrix, offset = affine
    f = x[0].reshape(x.shape[1], -1).to(torch.float64)
    return (matrix @ f + offset[:, None]).to(x.dtype).reshape(x.shape)


def _bands(rows: int, band: int) -> list[tuple[int, int]]:
    return [(start, min(rows, start + band)) for start in range(0, rows, band)]


def _band_rows(image_rows: int, input_stride: int, block_stride: int) -> int:
    """Band height in a block's input rows: its share of ``image_rows``, a multiple of the block stride."""
    rows = max(block_stride, image_rows // input_stride)
    return rows - rows % block_stride


def encode_streamed(
    encoder: nn.Module,
    image: Tensor,
    strides: tuple[int, int, int, int],
    band_rows: int = DEFAULT_BAND_ROWS,
    halo: int = DEFAULT_HALO,
    keep: bool = True,
) -> tuple[list[Tensor], list[FeatureStats]]:
    """Run the four encoder blocks band by band.

    Args:
        encoder: A student encoder (``forward_block(n, x) -> (feature, skip)``).
        image: ``(1, 3, H, W)`` RGB, ``H, W`` multiples of ``strides[-1]``.
        strides: Output stride of each block w.r.t. the image (VGG ``(1, 2, 4, 8)``).
        band_rows: Band height in image rows.
        halo: Halo in each block's input rows (a multiple of 2).
        keep: Keep the skips and the last feature (content); ``False`` keeps statistics only (style).

    Returns:
        ``([skip_1..skip_4, feature_4], [stats of feature_1..feature_4])``; the list is empty when
        ``keep`` is false.
    """
    x = image
    kept: list[Tensor] = []
    stats: list[FeatureStats] = []
    previous = 1
    for n in range(1, 5):
        step = strides[n - 1] // previous  # 1 or 2
        rows = x.shape[-2]
        feature: Tensor | None = None
        skip: Tensor | None = None
        for start, end in _bands(rows, _band_rows(band_rows, previous, step)):
            top, bottom = max(0, start - halo), min(rows, end + halo)
            f, s = encoder.forward_block(n, x[..., top:bottom, :])
            f = f[..., (start - top) // step : (end - top) // step, :]
            if feature is None:
                feature = f.new_empty(1, f.shape[1], rows // step, f.shape[-1])
                stats.append(FeatureStats(f.shape[1], f.device))
                if keep:
                    skip = s.new_empty(1, s.shape[1], rows, s.shape[-1])
            feature[..., start // step : end // step, :] = f
            stats[-1].add(f)
            if skip is not None:
                skip[..., start:end, :] = s[..., start - top : end - top, :]
        if skip is not None:
            kept.append(skip)
        assert feature is not None  # at least one band
        x, previous = feature, strides[n - 1]
    if keep:
        kept.append(x)
    return kept, stats


def decode_block_streamed(
    decode: Callable[[Tensor, Tensor], Tensor],
    x: Tensor,
    skip: Tensor,
    affine: tuple[Tensor, Tensor] | None,
    band: int,
    halo: int = DEFAULT_HALO,
    stats: bool = True,
) -> tuple[Tensor, FeatureStats | None]:
    """One decoder block, band by band, with the (optional) ZCA affine map applied to each input band.

    Args:
        decode: ``(x band, skip band) -> output band`` (the decoder's ``forward_block(n, ...)``).
        x: ``(1, C, h, w)`` block input (before ZCA).
        skip: ``(1, C', u h, u w)``, ``u`` the block's upsampling factor (1 or 2).
        affine: ``(M, b)`` of :func:`zca_affine`, or ``None`` (no transform at this level).
        band: Band height in rows of ``x``.
        halo: Halo in rows of ``x``.
        stats: Accumulate the output's statistics (for the next level's ZCA).

    Returns:
        ``(output (1, C_out, u h, u w), its statistics or None)``.
    """
    rows = x.shape[-2]
    up = skip.shape[-2] // rows
    out: Tensor | None = None
    out_stats: FeatureStats | None = None
    for start, end in _bands(rows, max(1, band)):
        top, bottom = max(0, start - halo), min(rows, end + halo)
        xb = x[..., top:bottom, :]
        if affine is not None:
            xb = _apply_affine(xb, affine)
        y = decode(xb, skip[..., top * up : bottom * up, :])
        y = y[..., (start - top) * up : (end - top) * up, :]
        if out is None:
            out = y.new_empty(1, y.shape[1], rows * up, y.shape[-1])
            out_stats = FeatureStats(y.shape[1], y.device) if stats else None
        out[..., start * up : end * up, :] = y
        if out_stats is not None:
            out_stats.add(y)
    assert out is not None
    return out, out_stats


def stylize_streamed(
    autoencoder: nn.Module,
    content: Tensor,
    style: Tensor,
    strides: tuple[int, int, int, int],
    zca: ZCAConfig,
    transform_levels: tuple[int, ...] = (4, 3, 2, 1),
    band_rows: int = DEFAULT_BAND_ROWS,
    halo: int = DEFAULT_HALO,
) -> Tensor:
    """Coarse-to-fine ZCA stylisation of one content image, streamed (see the module docstring).

    Args:
        autoencoder: A :class:`~.model.BlockAutoencoder` (encoder and decoder with ``forward_block``).
        content: ``(1, 3, H, W)`` RGB [0, 1], ``H, W`` multiples of ``strides[-1]``.
        style: ``(1, 3, H_s, W_s)``, same constraint.
        strides: Output stride of each encoder block w.r.t. the image.
        zca: Transform settings.
        transform_levels: Levels where ZCA is applied.
        band_rows: Band height in image rows (memory vs halo overhead).
        halo: Halo in each block's input rows (multiple of 2, > the receptive-field radius).

    Returns:
        ``(1, 3, H, W)``, unclamped.

    Raises:
        ValueError: Batch size other than 1, or an odd halo.
    """
    if content.shape[0] != 1 or style.shape[0] != 1:
        raise ValueError("the streamed pass takes one content and one style image")
    if halo % 2:
        raise ValueError(f"halo must be even (stride-2 alignment), got {halo}")
    with torch.no_grad():
        _, style_stats = encode_streamed(autoencoder.encoder, style, strides, band_rows, halo, keep=False)
        kept, content_stats = encode_streamed(autoencoder.encoder, content, strides, band_rows, halo)
        skips, x = kept[:4], kept[4]
        del kept
        current = content_stats[3]
        for n in range(4, 0, -1):
            affine = zca_affine(current, style_stats[n - 1], zca) if n in transform_levels else None
            band = _band_rows(band_rows, strides[n - 1], 1)

            def decode(xb: Tensor, sb: Tensor, level: int = n) -> Tensor:
                return autoencoder.decoder.forward_block(level, xb, sb)

            x, stats = decode_block_streamed(decode, x, skips[n - 1], affine, band, halo, stats=n > 1)
            skips[n - 1] = x.new_empty(0)  # free the level's skip
            if stats is not None:
                current = stats
        return x
