r"""StyleBank (Chen, Yuan, Liao, Yu, Hua, CVPR 2017): one auto-encoder, one conv filter bank per style.

Stylisation ``O_i = D(K_i ⊗ E(I))`` and reconstruction ``O = D(E(I))`` (paper Fig. 1, Eq. 1):

* encoder ``E`` (after Johnson et al., residual blocks removed): conv 9×9 s1 ``3 → C/4``,
  conv 3×3 s2 ``C/4 → C/2``, conv 3×3 s2 ``C/2 → C``, each followed by instance norm and ReLU;
  ``(B, 3, H, W) → (B, C, H/4, W/4)`` with ``C = C_max`` (128 in the paper, 64/32 in Fig. 5);
* StyleBank layer ``K``: per style ``i`` one convolution ``K_i ∈ R^{C × C × k × k}`` (+ bias), no
  norm, no activation; ``k = 3`` by default, 7 in Fig. 3;
* decoder ``D``: two stride-1/2 (fractionally strided, i.e. transposed) 3×3 convs ``C → C/2 → C/4``
  with instance norm and ReLU, then a 9×9 conv ``C/4 → 3`` with no norm or activation. The ports'
  nearest ×2 upsampling followed by a 3×3 conv is the ``upsample="nearest"`` option.

Fusion (paper §4.2): linear ``K = Σ_i w_i K_i`` with ``Σ_i w_i = 1`` (Eq. 5; biases fused alike) and
region-specific ``F̃ = Σ_i K_i ⊗ (M_i · F)`` (Eq. 6; each bias is added inside its own region).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

Padding = Literal["reflect", "zero"]
Upsample = Literal["transposed", "nearest"]
BankInit = Literal["conv", "identity"]
Backbone = Literal["own", "vgg_r31"]

#: The encoder divides the spatial size by this factor (two stride-2 convs).
DOWNSCALE = 4


def _conv(cin: int, cout: int, kernel: int, stride: int, padding: Padding) -> nn.Conv2d:
    mode = "reflect" if padding == "reflect" else "zeros"
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, padding_mode=mode)


def _widths(c_max: int) -> tuple[int, int, int]:
    if c_max < 4 or c_max % 4:
        raise ValueError(f"c_max must be a positive multiple of 4 (paper: 128, 64 or 32), got {c_max}")
    return c_max // 4, c_max // 2, c_max


class StyleBankEncoder(nn.Module):
    """``E``: 9×9 s1, 3×3 s2, 3×3 s2 convolutions, each with instance norm (affine) and ReLU.

    Args:
        c_max: Output channels ``C`` (the widths are ``C/4, C/2, C``).
        padding: ``"reflect"`` (ports; the paper does not say) or ``"zero"``.

    Shapes:
        ``(B, 3, H, W)`` RGB in [0, 1] → ``(B, C, ceil(H/4), ceil(W/4))``.
    """

    def __init__(self, c_max: int = 128, padding: Padding = "reflect") -> None:
        super().__init__()
        w1, w2, w3 = _widths(c_max)
        layers: list[nn.Module] = []
        for cin, cout, kernel, stride in ((3, w1, 9, 1), (w1, w2, 3, 2), (w2, w3, 3, 2)):
            layers += [
                _conv(cin, cout, kernel, stride, padding),
                nn.InstanceNorm2d(cout, affine=True),
                nn.ReLU(),
            ]
        self.net = nn.Sequential(*layers)

    def forward(self, image: Tensor) -> Tensor:
        """Encode ``(B, 3, H, W)`` images into ``(B, C, H/4, W/4)`` features."""
        return self.net(image)


class StyleBankDecoder(nn.Module):
    """``D``: two ×2 up-convolutions (instance norm + ReLU) and a 9×9 output conv.

    Args:
        c_max: Input channels ``C``.
        upsample: ``"transposed"`` (paper: fractionally strided 3×3 convs, stride 1/2) or
            ``"nearest"`` (ports: nearest ×2 then a 3×3 conv).
        padding: Padding of the ordinary convs (``"reflect"`` or ``"zero"``); transposed convs pad
            implicitly.

    Shapes:
        ``(B, C, h, w)`` → ``(B, 3, 4h, 4w)``, unbounded (clamp to [0, 1] to view).
    """

    def __init__(
        self, c_max: int = 128, upsample: Upsample = "transposed", padding: Padding = "reflect"
    ) -> None:
        super().__init__()
        if upsample not in ("transposed", "nearest"):
            raise ValueError(f"upsample must be 'transposed' or 'nearest', got {upsample!r}")
        w1, w2, w3 = _widths(c_max)
        layers: list[nn.Module] = []
        for cin, cout in ((w3, w2), (w2, w1)):
            if upsample == "transposed":
                layers.append(nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1))
            else:
                layers += [nn.Upsample(scale_factor=2, mode="nearest"), _conv(cin, cout, 3, 1, padding)]
            layers += [nn.InstanceNorm2d(cout, affine=True), nn.ReLU()]
        layers.append(_conv(w1, 3, 9, 1, padding))
        self.net = nn.Sequential(*layers)

    def forward(self, feature: Tensor) -> Tensor:
        """Decode ``(B, C, h, w)`` features into ``(B, 3, 4h, 4w)`` images."""
        return self.net(feature)


class FilterBank(nn.Module):
    """One style's filter bank ``K_i``: a ``k×k`` convolution ``C → C`` with bias.

    Args:
        channels: ``C``.
        kernel_size: ``k`` (odd).
        init: ``"conv"`` (PyTorch's conv init, the paper's random banks) or ``"identity"`` (centre tap
            ``I``, every other tap and the bias 0: ``K ⊗ F = F`` exactly, so training starts from the
            auto-encoder's reconstruction).
    """

    def __init__(self, channels: int, kernel_size: int, init: BankInit = "conv") -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(channels, channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(channels))
        if init == "identity":
            with torch.no_grad():
                self.weight.zero_()
                self.weight[:, :, kernel_size // 2, kernel_size // 2] = torch.eye(channels)
                self.bias.zero_()
        elif init == "conv":
            nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # what nn.Conv2d does
            bound = 1.0 / math.sqrt(channels * kernel_size * kernel_size)
            nn.init.uniform_(self.bias, -bound, bound)
        else:
            raise ValueError(f"bank init must be 'conv' or 'identity', got {init!r}")


class StyleBankLayer(nn.Module):
    """The StyleBank layer: ``n`` filter banks applied to encoder features (Eq. 1, 5, 6).

    Each bank is its own pair of parameters (``banks.<i>.weight``, ``banks.<i>.bias``), so a bank
    whose style is not in a batch gets no gradient at all (``grad is None``) and an optimizer leaves
    it untouched, as Algorithm 1 prescribes ("update ``K_j, j ∈ Y``").

    Args:
        num_styles: ``n`` (may be 0; grow with :meth:`resize`).
        channels: ``C``.
        kernel_size: ``k`` (odd; 3 default, 7 in Fig. 3).
        padding: Spatial padding of the bank convolution, ``"reflect"`` or ``"zero"``.
        init: Initialisation of every new bank, ``"conv"`` or ``"identity"`` (see :class:`FilterBank`).
    """

    def __init__(
        self,
        num_styles: int,
        channels: int,
        kernel_size: int = 3,
        padding: Padding = "reflect",
        init: BankInit = "conv",
    ) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (3 or 7 in the paper), got {kernel_size}")
        if num_styles < 0:
            raise ValueError(f"num_styles must be >= 0, got {num_styles}")
        self.channels, self.kernel_size, self.padding, self.init = channels, kernel_size, padding, init
        self.banks = nn.ModuleList(FilterBank(channels, kernel_size, init) for _ in range(num_styles))

    @property
    def num_styles(self) -> int:
        """Number of filter banks ``n``."""
        return len(self.banks)

    def resize(self, num_styles: int) -> None:
        """Keep the first ``min(n, num_styles)`` banks; add freshly initialised ones up to ``num_styles``."""
        if num_styles < 0:
            raise ValueError(f"num_styles must be >= 0, got {num_styles}")
        kept = list(self.banks)[:num_styles]
        device = kept[0].weight.device if kept else None
        fresh = [
            FilterBank(self.channels, self.kernel_size, self.init) for _ in range(num_styles - len(kept))
        ]
        self.banks = nn.ModuleList(kept + [bank.to(device) if device else bank for bank in fresh])

    def check_index(self, index: int) -> int:
        """Return ``index`` if it names a bank, else raise ``IndexError`` naming the valid range."""
        if not 0 <= index < self.num_styles:
            raise IndexError(
                f"style index {index} out of range: the StyleBank has {self.num_styles} style(s)"
            )
        return index

    # ------------------------------------------------------------------ convolution
    def _pad(self, feature: Tensor) -> Tensor:
        p = self.kernel_size // 2
        if p == 0:
            return feature
        mode = "reflect" if self.padding == "reflect" else "constant"
        if mode == "reflect" and min(feature.shape[-2:]) <= p:
            mode = "replicate"  # reflection needs more than p rows/columns
        return F.pad(feature, (p, p, p, p), mode=mode)

    def convolve(self, feature: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """``weight ⊗ feature + bias`` with the layer's padding.

        Args:
            feature: ``(B, C, h, w)``.
            weight: ``(C, C, k, k)``.
            bias: ``(C,)`` or ``None``.

        Returns:
            ``(B, C, h, w)``.
        """
        return F.conv2d(self._pad(feature), weight, bias)

    def forward(self, feature: Tensor, style_index: Tensor | Sequence[int] | int) -> Tensor:
        """Apply bank ``style_index[b]`` to sample ``b`` (Eq. 1), one grouped convolution for the batch.

        Args:
            feature: ``(B, C, h, w)`` encoder features.
            style_index: ``(B,)`` integer style per sample, or one int for the whole batch.

        Returns:
            ``(B, C, h, w)`` transferred features ``F̃``.
        """
        batch = feature.shape[0]
        indices = self._indices(style_index, batch)
        if len(set(indices)) == 1:
            bank = self.banks[indices[0]]
            return self.convolve(feature, bank.weight, bank.bias)
        weight = torch.stack([self.banks[i].weight for i in indices])  # (B, C, C, k, k)
        bias = torch.stack([self.banks[i].bias for i in indices])  # (B, C)
        padded = self._pad(feature)
        c, k = self.channels, self.kernel_size
        out = F.conv2d(
            padded.reshape(1, batch * c, *padded.shape[-2:]),
            weight.reshape(batch * c, c, k, k),
            bias.reshape(batch * c),
            groups=batch,
        )
        return out.reshape(batch, c, *feature.shape[-2:])

    def _indices(self, style_index: Tensor | Sequence[int] | int, batch: int) -> list[int]:
        if isinstance(style_index, int):
            indices = [style_index] * batch
        elif isinstance(style_index, Tensor):
            indices = [int(i) for i in style_index.reshape(-1).tolist()]
        else:
            indices = [int(i) for i in style_index]
        if len(indices) == 1 and batch > 1:
            indices = indices * batch
        if len(indices) != batch:
            raise ValueError(f"got {len(indices)} style indices for a batch of {batch}")
        for i in indices:
            self.check_index(i)
        return indices

    # ------------------------------------------------------------------ fusion
    def fused_kernel(self, indices: Sequence[int], weights: Sequence[float]) -> tuple[Tensor, Tensor]:
        """Linear fusion of banks (Eq. 5): ``(Σ_i w_i W_i, Σ_i w_i b_i)``.

        Args:
            indices: Styles to fuse.
            weights: Their weights; must sum to 1 (see :func:`check_fusion_weights`).

        Returns:
            ``weight (C, C, k, k)`` and ``bias (C,)``.
        """
        weights = check_fusion_weights(weights, len(indices))
        banks = [self.banks[self.check_index(i)] for i in indices]
        weight, bias = weights[0] * banks[0].weight, weights[0] * banks[0].bias
        for w, bank in zip(weights[1:], banks[1:], strict=True):
            weight = weight + w * bank.weight
            bias = bias + w * bank.bias
        return weight, bias

    def region_fusion(self, feature: Tensor, indices: Sequence[int], masks: Tensor) -> Tensor:
        """Region-specific fusion (Eq. 6): ``Σ_i (W_i ⊗ (M_i · F) + M_i b_i)``.

        Masks that sum to 1 at every position give each region its own style; features near a region
        border also see the neighbouring region through the ``k×k`` support of the convolution (the
        paper's inherent border leakage).

        Args:
            feature: ``(B, C, h, w)`` encoder features.
            indices: One style per region, ``m`` of them.
            masks: ``(B or 1, m, h, w)`` region weights at feature resolution.

        Returns:
            ``(B, C, h, w)``.
        """
        if masks.dim() != 4 or masks.shape[1] != len(indices) or masks.shape[-2:] != feature.shape[-2:]:
            raise ValueError(
                f"masks must be (B, {len(indices)}, {feature.shape[-2]}, {feature.shape[-1]}) "
                f"(one per style, at feature resolution); got {tuple(masks.shape)}"
            )
        masks = masks.to(feature.dtype)
        out = torch.zeros_like(feature)
        for region, index in enumerate(indices):
            bank = self.banks[self.check_index(index)]
            mask = masks[:, region : region + 1]
            out = out + self.convolve(feature * mask, bank.weight, None) + mask * bank.bias.view(1, -1, 1, 1)
        return out


def check_fusion_weights(weights: Sequence[float], count: int, tolerance: float = 1e-6) -> list[float]:
    """Validate linear-fusion weights (Eq. 5): one per style, finite, summing to 1.

    Args:
        weights: ``w_i``.
        count: Number of styles being fused.
        tolerance: Allowed ``|Σ w_i − 1|``.

    Returns:
        The weights as floats.

    Raises:
        ValueError: Wrong count, non-finite value, or a sum other than 1.
    """
    values = [float(w) for w in weights]
    if len(values) != count:
        raise ValueError(
            f"linear fusion needs one weight per style: {count} style(s), {len(values)} weight(s)"
        )
    if count == 0:
        raise ValueError("linear fusion needs at least one style")
    if not all(math.isfinite(w) for w in values):
        raise ValueError(f"fusion weights must be finite, got {values}")
    total = math.fsum(values)
    if abs(total - 1.0) > tolerance:
        raise ValueError(f"fusion weights must sum to 1 (Eq. 5), got {values} (sum {total:.6g})")
    return values


class StyleBankNet(nn.Module):
    """Encoder, StyleBank layer and decoder (paper Fig. 1).

    Args:
        num_styles: Number of filter banks ``n``.
        c_max: Widest channel count ``C_max`` (128, 64 or 32; ``backbone="own"`` only).
        kernel_size: Bank kernel size ``k`` (3 or 7).
        upsample: Decoder up-sampling, ``"transposed"`` (paper) or ``"nearest"`` (ports); ``"own"`` only.
        padding: ``"reflect"`` (ports; paper silent) or ``"zero"`` (own encoder/decoder and the banks).
        backbone: ``"own"`` (the paper's encoder/decoder, trained from scratch, banks with conv init) or
            ``"vgg_r31"`` (a CPU-trainable deviation, see :mod:`.backbone`: the frozen vgg_normalised
            encoder to relu3_1, ``C = 256``, the pretrained relu3_1 decoder, identity-initialised banks).

    Shapes:
        images ``(B, 3, H, W)`` RGB in [0, 1] with ``H, W`` multiples of 4 (see
        :meth:`pad_to_multiple`); features ``(B, C, H/4, W/4)``; outputs unbounded ``(B, 3, H, W)``.
    """

    def __init__(
        self,
        num_styles: int = 0,
        c_max: int = 128,
        kernel_size: int = 3,
        upsample: Upsample = "transposed",
        padding: Padding = "reflect",
        backbone: Backbone = "own",
    ) -> None:
        super().__init__()
        if padding not in ("reflect", "zero"):
            raise ValueError(f"padding must be 'reflect' or 'zero', got {padding!r}")
        self.encoder: nn.Module
        self.decoder: nn.Module
        if backbone == "own":
            self.encoder = StyleBankEncoder(c_max, padding)
            self.bank = StyleBankLayer(num_styles, c_max, kernel_size, padding)
            self.decoder = StyleBankDecoder(c_max, upsample, padding)
        elif backbone == "vgg_r31":
            from stylelab.methods.stylebank.backbone import R31_CHANNELS, R31Encoder, r31_stylebank_decoder

            self.encoder = R31Encoder()
            self.bank = StyleBankLayer(num_styles, R31_CHANNELS, kernel_size, padding, init="identity")
            self.decoder = r31_stylebank_decoder()
        else:
            raise ValueError(f"backbone must be 'own' or 'vgg_r31', got {backbone!r}")
        self.backbone = backbone

    @property
    def num_styles(self) -> int:
        """Number of filter banks."""
        return self.bank.num_styles

    def autoencoder_parameters(self) -> list[nn.Parameter]:
        """Parameters of ``E`` and ``D`` (what the auto-encoder branch updates; a frozen ``E`` has none)."""
        return [*self.encoder.parameters(), *self.decoder.parameters()]

    def reconstruct(self, image: Tensor) -> Tensor:
        """Auto-encoder branch ``D(E(I))``."""
        return self.decoder(self.encoder(image))

    def forward(self, image: Tensor, style_index: Tensor | Sequence[int] | int) -> Tensor:
        """Stylising branch ``D(K_{y_b} ⊗ E(I_b))`` with one style per sample."""
        return self.decoder(self.bank(self.encoder(image), style_index))

    def stylize_linear(self, image: Tensor, indices: Sequence[int], weights: Sequence[float]) -> Tensor:
        """Linear fusion (Eq. 5) of the banks ``indices`` with ``weights`` (summing to 1)."""
        weight, bias = self.bank.fused_kernel(indices, weights)
        return self.decoder(self.bank.convolve(self.encoder(image), weight, bias))

    def stylize_regions(self, image: Tensor, indices: Sequence[int], masks: Tensor) -> Tensor:
        """Region fusion (Eq. 6); ``masks`` ``(B or 1, m, H/4, W/4)`` at feature resolution."""
        return self.decoder(self.bank.region_fusion(self.encoder(image), indices, masks))

    @staticmethod
    def pad_to_multiple(image: Tensor, multiple: int = DOWNSCALE) -> tuple[Tensor, tuple[int, int]]:
        """Pad ``(B, C, H, W)`` on the bottom/right (reflect, or replicate when too small) to multiples.

        Returns:
            The padded tensor and the original ``(H, W)`` to crop back to.
        """
        h, w = image.shape[-2:]
        ph, pw = (-h) % multiple, (-w) % multiple
        if ph or pw:
            mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
            image = F.pad(image, (0, pw, 0, ph), mode=mode)
        return image, (h, w)
