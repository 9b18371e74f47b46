"""Iterative feature transformation (IFT, Chiu & Gurari, ECCV 2020)."""

from stylelab.methods.ift.cli import stylize_padded
from stylelab.methods.ift.model import DecoderBlock, IFTNet
from stylelab.methods.ift.module import IFT
from stylelab.methods.ift.presets import (
    DEFAULT_PRESET,
    LEVELS,
    PRESETS,
    LevelSetting,
    network_of,
    resolve_levels,
)
from stylelab.methods.ift.pretrained import IFTR31Net

__all__ = [
    "DEFAULT_PRESET",
    "IFT",
    "IFTR31Net",
    "LEVELS",
    "PRESETS",
    "DecoderBlock",
    "IFTNet",
    "LevelSetting",
    "network_of",
    "resolve_levels",
    "stylize_padded",
]
