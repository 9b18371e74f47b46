"""Batch collation for the dict samples of the style-transfer datasets."""

from __future__ import annotations

from typing import Any

import torch


def collate_samples(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge samples into a batch dict.

    Tensors are stacked (``(3, h, w)`` -> ``(B, 3, h, w)``, masks ``(h, w)`` -> ``(B, h, w)``), strings
    become lists, and the per-sample ``"skipped"`` lists are concatenated (duplicates removed, order
    kept) so the batch reports every unreadable file met while building it.

    Args:
        samples: Dicts with identical keys.

    Returns:
        The batch dict.

    Raises:
        ValueError: Tensors of different shapes under one key (e.g. evaluation images of different
            aspect ratios with a batch size above 1).
    """
    if not samples:
        raise ValueError("cannot collate an empty list of samples")
    batch: dict[str, Any] = {}
    for key in samples[0]:
        values = [sample[key] for sample in samples]
        if key == "skipped":
            batch[key] = list(dict.fromkeys(path for value in values for path in value))
        elif isinstance(values[0], torch.Tensor):
            shapes = {tuple(v.shape) for v in values}
            if len(shapes) > 1:
                raise ValueError(
                    f"cannot batch {key!r} tensors of different shapes {sorted(shapes)}; use batch "
                    "size 1 for evaluation (eval_batch_size=1) or a fixed-size transform"
                )
            batch[key] = torch.stack(values)
        else:
            batch[key] = values
    return batch
