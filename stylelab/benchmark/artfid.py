r"""ArtFID (Wright & Ommer, GCPR 2022): ``(1 + LPIPS) · (1 + FID)``, as the ``art-fid`` package defines it.

Restated from the package (``art_fid.compute_art_fid(..., mode="art_fid")``, version 0.0.2):

* **FID** between the stylised outputs and the style images: 2048-d features after the global average
  pool of an Inception-v3 fine-tuned on art (``art_inception.pth``; torchvision's Inception-v3 layout,
  its input is the image in ``[0, 1]`` as read from the file, no resize and no normalisation),
  ``FID = |mu_o - mu_s|^2 + tr S_o + tr S_s - 2 tr (S_o S_s)^{1/2}`` with unbiased covariances;
* **content distance**: the mean LPIPS v0.1 alex between each output and its content (images in
  ``[0, 1]`` mapped to ``[-1, 1]``);
* ``ArtFID = (1 + content distance) · (1 + FID)``.

The package computes ``(S_o S_s)^{1/2}`` with ``scipy.linalg.sqrtm`` on 2048 x 2048 matrices. With
centred features ``A`` (``n_o x 2048``) and ``B`` (``n_s x 2048``), the non-zero eigenvalues of
``S_o S_s`` are the squared singular values of ``A B^T / sqrt((n_o - 1)(n_s - 1))``, so
``tr (S_o S_s)^{1/2}`` is that matrix's nuclear norm: exact and cheap for benchmark-sized sets (here
``n`` is tens of images, far below the 2048 dimensions, so FID is biased upwards: compare methods on
the same set only). The style set has one style image per output (repeats included), as the package's
FID-infinity mode requires. Images are compared as 8-bit files would be (values rounded to 1/255).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

INCEPTION_FILE = "art_inception.pth"


def inception_candidates(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where ArtFID's Inception weights are looked for, in order.

    The explicit ``path``, ``$STYLELAB_WEIGHTS/art_inception.pth``, then the ``art-fid`` package's own
    download location (``<tempdir>/art_fid/art_inception.pth``).
    """
    places = [Path(path)] if path else []
    if os.environ.get("STYLELAB_WEIGHTS"):
        places.append(Path(os.environ["STYLELAB_WEIGHTS"]) / INCEPTION_FILE)
    places.append(Path(tempfile.gettempdir()) / "art_fid" / INCEPTION_FILE)
    return places


def resolve_inception(path: str | os.PathLike[str] | None = None) -> Path:
    """The first existing file of :func:`inception_candidates`.

    Raises:
        FileNotFoundError: None exists (the message lists where it looked; one line).
    """
    places = inception_candidates(path)
    for place in places:
        if place.is_file():
            return place
    raise FileNotFoundError(
        f"ArtFID's Inception weights ({INCEPTION_FILE}) not found in {', '.join(map(str, places))}"
    )


class ArtInception(nn.Module):
    """Inception-v3 up to the 2048-d global average pool, loaded from an ``art_inception.pth`` state dict.

    Args:
        weights: The state dict file (read with ``weights_only=True``); its classifier heads are unused.

    Raises:
        ValueError: The file lacks tensors of the feature layers.
    """

    def __init__(self, weights: str | os.PathLike[str]) -> None:
        super().__init__()
        from torchvision.models import inception_v3

        net = inception_v3(weights=None, aux_logits=False, init_weights=False, transform_input=False)
        state = torch.load(weights, map_location="cpu", weights_only=True)
        wanted = {k: v for k, v in net.state_dict().items() if not k.startswith("fc.")}
        missing = sorted(k for k in wanted if k not in state)
        if missing:
            raise ValueError(f"{weights}: not an Inception-v3 state dict (missing {missing[:3]} ...)")
        net.load_state_dict({k: state[k] for k in wanted}, strict=False)
        names = (
            "Conv2d_1a_3x3 Conv2d_2a_3x3 Conv2d_2b_3x3 maxpool1 Conv2d_3b_1x1 Conv2d_4a_3x3 maxpool2 "
            "Mixed_5b Mixed_5c Mixed_5d Mixed_6a Mixed_6b Mixed_6c Mixed_6d Mixed_6e Mixed_7a Mixed_7b "
            "Mixed_7c"
        ).split()
        self.layers = nn.Sequential(*(getattr(net, n) for n in names))
        self.eval()

    @torch.no_grad()
    def forward(self, images: Tensor) -> Tensor:
        """``(B, 3, H, W)`` RGB [0, 1] (H, W >= 75) -> ``(B, 2048)`` float64 pooled features."""
        return self.layers(images).mean(dim=(2, 3)).double()


def frechet_distance(features_a: Tensor, features_b: Tensor) -> float:
    """FID between two feature sets ``(n_a, d)`` and ``(n_b, d)`` (unbiased covariances; module docstring).

    Raises:
        ValueError: Fewer than two samples in a set, or different feature sizes.
    """
    if features_a.shape[0] < 2 or features_b.shape[0] < 2 or features_a.shape[1] != features_b.shape[1]:
        raise ValueError(
            f"FID needs >= 2 samples per set of equal width; got {tuple(features_a.shape)}, "
            f"{tuple(features_b.shape)}"
        )
    a, b = features_a.double(), features_b.double()
    mean_a, mean_b = a.mean(0), b.mean(0)
    centred_a, centred_b = a - mean_a, b - mean_b
    trace_a = centred_a.pow(2).sum() / (a.shape[0] - 1)
    trace_b = centred_b.pow(2).sum() / (b.shape[0] - 1)
    cross = centred_a @ centred_b.T / ((a.shape[0] - 1) * (b.shape[0] - 1)) ** 0.5
    trace_sqrt = torch.linalg.svdvals(cross).sum()
    return float((mean_a - mean_b).pow(2).sum() + trace_a + trace_b - 2 * trace_sqrt)


def quantise(image: Tensor) -> Tensor:
    """Round ``[0, 1]`` values to the 8-bit grid (what saving to PNG and reading back gives)."""
    return (image.clamp(0, 1) * 255).round() / 255


@torch.no_grad()
def art_fid(
    outputs: Sequence[Tensor],
    contents: Sequence[Tensor],
    styles: Sequence[Tensor],
    inception: nn.Module,
    lpips_net: nn.Module | None = None,
) -> dict[str, float]:
    """ArtFID of a set of stylisations (module docstring).

    Args:
        outputs: ``(1, 3, H_i, W_i)`` stylised images, RGB [0, 1] (any sizes; rounded to 8 bits).
        contents: Their contents, each the size of its output.
        styles: One style image per output (any size).
        inception: Feature network, ``(1, 3, H, W) -> (1, 2048)`` (:class:`ArtInception`).
        lpips_net: LPIPS network (default: pretrained v0.1 alex).

    Returns:
        ``{"artfid", "fid", "lpips"}``.
    """
    from stylelab.metrics import lpips

    if not (len(outputs) == len(contents) == len(styles)):
        raise ValueError("ArtFID needs one content and one style per output")
    out_feats = torch.cat([inception(quantise(o)) for o in outputs])
    style_feats = torch.cat([inception(quantise(s)) for s in styles])
    fid = frechet_distance(out_feats, style_feats)
    distances = [
        float(lpips(quantise(o), quantise(c), lpips_net=lpips_net))
        for o, c in zip(outputs, contents, strict=True)
    ]
    content_distance = sum(distances) / len(distances)
    return {"artfid": (1 + content_distance) * (1 + fid), "fid": fid, "lpips": content_distance}
