"""The PCA-KD demo's input resizing, reproduced (``stylelab stylize --method pcakd --demo-resize 384``).

The authors' demo (and the golden ``reference_outputs/pcakd``) feeds the networks images prepared as:
PIL bicubic resize so the longer side is ``N`` (the shorter one rounded to the nearest integer, 8-bit
result), then ``cv2.resize`` (bilinear, half-pixel centres, float) to both sides rounded *down* to
multiples of 8 (VGG) or 16 (MobileNet), in [0, 1]. On the three golden pairs this reproduces their inputs
to <= 5e-5 (max abs; the bicubic step bit-exactly).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor


def demo_resize(image: Tensor, longer_side: int = 384, multiple: int = 8) -> Tensor:
    """Resize like the PCA-KD demo.

    Args:
        image: ``(1, 3, H, W)`` RGB in [0, 1] from an 8-bit file (values ``k / 255``).
        longer_side: Target of the longer side (the demo: 384).
        multiple: 8 (VGG) or 16 (MobileNet).

    Returns:
        ``(1, 3, h, w)`` float32 in [0, 1], ``h, w`` multiples of ``multiple``, on ``image``'s device.

    Raises:
        ValueError: Not one RGB image, or a target smaller than ``multiple``.
    """
    if image.dim() != 4 or image.shape[:2] != (1, 3):
        raise ValueError(f"expected one RGB image (1, 3, H, W), got {tuple(image.shape)}")
    if longer_side < multiple:
        raise ValueError(f"longer_side {longer_side} is smaller than the multiple {multiple}")
    h, w = image.shape[-2:]
    scale = longer_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # PIL: (width, height)
    pixels = (image[0].detach().cpu().permute(1, 2, 0) * 255).round().clamp(0, 255).to(torch.uint8).numpy()
    resized = Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC)
    x = torch.from_numpy(np.array(resized, dtype=np.float32)).permute(2, 0, 1)[None] / 255.0
    target = (
        max(multiple, x.shape[-2] // multiple * multiple),
        max(multiple, x.shape[-1] // multiple * multiple),
    )
    if target != tuple(x.shape[-2:]):
        x = F.interpolate(x, size=target, mode="bilinear", align_corners=False)
    return x.to(image.device)
