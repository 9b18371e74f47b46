"""Iterative feature transformation (IFT, Chiu & Gurari, ECCV 2020)."""

from stylelab.methods.ift.model import DecoderBlock, IFTNet
from stylelab.methods.ift.module import IFT, stylize_padded
from stylelab.methods.ift.presets import DEFAULT_PRESET, LEVELS, PRESETS, LevelSetting, resolve_levels

__all__ = [
    "DEFAULT_PRESET",
    "IFT",
    "LEVELS",
    "PRESETS",
    "DecoderBlock",
    "IFTNet",
    "LevelSetting",
    "resolve_levels",
    "stylize_padded",
]
