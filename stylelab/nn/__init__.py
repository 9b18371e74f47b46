"""Shared network modules (decoders, residual blocks, discriminators)."""

from stylelab.nn.discriminator import (
    MultiScaleDiscriminator,
    PatchDiscriminator,
    lsgan_discriminator_loss,
    lsgan_generator_loss,
    lsgan_loss,
)
from stylelab.nn.pretrained_r31 import PretrainedR31, r31_decoder, r31_encoder
from stylelab.nn.vgg_decoder import MirroredVGGDecoder

__all__ = [
    "MirroredVGGDecoder",
    "MultiScaleDiscriminator",
    "PatchDiscriminator",
    "PretrainedR31",
    "lsgan_discriminator_loss",
    "lsgan_generator_loss",
    "lsgan_loss",
    "r31_decoder",
    "r31_encoder",
]
