"""Shared network modules (decoders, residual blocks, discriminators)."""

from stylelab.nn.vgg_decoder import MirroredVGGDecoder

__all__ = ["MirroredVGGDecoder"]
