"""The PCA-KD authors' own trained students (registry ``pcakd_vgg_official``, ``pcakd_mobilenet_official``).

The checkpoints of ``chiutaiyin/PCA-Knowledge-Distillation`` (converted to safetensors, shipped in
``weights/``, MIT) use the reference code's layer names (``encoder.conv1_1``, ``decoder.block3.conv2``,
``encoder.eigenbases.{0..3}``). This module maps them onto the stylelab student modules, which follow the
reference forward pass layer by layer (golden test: ``tests/methods/pcakd/test_official.py`` against the
authors' TensorFlow outputs):

* VGG: :class:`~.architectures.VGGStudentEncoder` / ``VGGStudentDecoder`` with widths ``(10, 20, 58, 64)``
  and box HFR. The authors' frozen *random* 1x1 "preprocess" conv is part of the checkpoint and loaded.
* MobileNet: :class:`~.architectures.MobileNetStudentEncoder` / ``MobileNetStudentDecoder``, the Keras
  MobileNet **v1** layer sequence to ``conv_dw_6_relu`` (BatchNorm dropped, plain ReLU, biases, reflect
  padding), widths ``(10, 19, 37, 54)``. Its eigenbases are sized for the v1 teacher taps
  (32 / 64 / 128 / 256 channels), not for stylelab's MobileNetV2 stand-in teacher.

Key layouts are the manifest record's: conv weights OIHW, depthwise ``(C, 1, 3, 3)``, eigenbases
``(teacher channels, student channels)`` = stylelab's ``E``.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor

OfficialBackbone = Literal["vgg", "mobilenet"]

#: Registry entry of each official student.
REGISTRY_NAMES: dict[str, str] = {"vgg": "pcakd_vgg_official", "mobilenet": "pcakd_mobilenet_official"}

#: Widths of the official students (the paper's).
OFFICIAL_WIDTHS: dict[str, tuple[int, int, int, int]] = {
    "vgg": (10, 20, 58, 64),
    "mobilenet": (10, 19, 37, 54),
}

#: Teacher channels of the official eigenbases (VGG-19 relu1_1..4_1; Keras MobileNet v1 taps).
OFFICIAL_TEACHER_CHANNELS: dict[str, tuple[int, int, int, int]] = {
    "vgg": (64, 128, 256, 512),
    "mobilenet": (32, 64, 128, 256),
}

# reference-code layer name -> stylelab module path (``encoder.`` / ``decoder.`` prefixes added below)
_VGG_ENCODER = {
    "preprocess": "preprocess",
    "conv1_1": "block1.0",
    "conv1_2": "block2_pre.0",
    "conv2_1": "block2_post.1",  # after the max pool
    "conv2_2": "block3_pre.0",
    "conv3_1": "block3_post.1",
    "conv3_2": "block4_pre.0",
    "conv3_3": "block4_pre.2",
    "conv3_4": "block4_pre.4",
    "conv4_1": "block4_post.1",
}
_VGG_DECODER = {
    "block0.conv0": "block1.0",
    "block1.conv0": "block2_pre.0",
    "block1.conv1": "block2_post.0",
    "block2.conv0": "block3_pre.0",
    "block2.conv1": "block3_post.0",
    "block3.conv0": "block4_pre.0",
    "block3.conv1": "block4_pre.3",
    "block3.conv2": "block4_pre.5",
    "block3.conv3": "block4_post.0",  # the box HFR is added right before it
}
_MOBILENET_ENCODER = {
    "conv1": "block1.1",
    "conv_dw_1": "block2.0",
    "conv_pw_1": "block2.2",
    "conv_dw_2": "block2.5",
    "conv_pw_2": "block3.0",
    "conv_dw_3": "block3.2",
    "conv_pw_3": "block3.4",
    "conv_dw_4": "block3.7",
    "conv_pw_4": "block4.0",
    "conv_dw_5": "block4.2",
    "conv_pw_5": "block4.4",
    "conv_dw_6": "block4.7",
}
_MOBILENET_DECODER = {
    "block0.conv0": "block1.0",
    "block1.conv0": "block2_pre.1",  # after the leading bilinear upsampling
    "block1.conv1": "block2_post.0",
    "block2.conv0": "block3_pre.1",
    "block2.conv1": "block3_post.0",
    "block3.conv0": "block4_pre.1",
    "block3.conv1": "block4_post.0",
}
_MAPS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "vgg": (_VGG_ENCODER, _VGG_DECODER),
    "mobilenet": (_MOBILENET_ENCODER, _MOBILENET_DECODER),
}


def convert_official(raw: dict[str, Tensor], backbone: OfficialBackbone) -> dict[str, Tensor]:
    """Rename an official checkpoint into a :class:`~.model.BlockAutoencoder` state dict.

    Args:
        raw: The safetensors tensors (``encoder.conv1_1.weight`` ..., ``encoder.eigenbases.0`` ...).
        backbone: ``"vgg"`` or ``"mobilenet"``.

    Returns:
        ``{"encoder.block1.0.weight": ..., "decoder.block4_post.0.bias": ..., "eigenbases.bases.0": ...}``.

    Raises:
        ValueError: Unknown backbone, or a missing or unexpected key (another checkpoint).
    """
    if backbone not in _MAPS:
        raise ValueError(f"backbone must be 'vgg' or 'mobilenet', got {backbone!r}")
    encoder_map, decoder_map = _MAPS[backbone]
    state: dict[str, Tensor] = {}
    expected = set()
    for part, mapping in (("encoder", encoder_map), ("decoder", decoder_map)):
        for theirs, ours in mapping.items():
            for suffix in ("weight", "bias"):
                key = f"{part}.{theirs}.{suffix}"
                expected.add(key)
                if key not in raw:
                    raise ValueError(f"the official {backbone} checkpoint lacks {key}")
                state[f"{part}.{ours}.{suffix}"] = raw[key]
    for n in range(4):
        key = f"encoder.eigenbases.{n}"
        expected.add(key)
        if key not in raw:
            raise ValueError(f"the official {backbone} checkpoint lacks {key}")
        state[f"eigenbases.bases.{n}"] = raw[key]
    unexpected = sorted(set(raw) - expected)
    if unexpected:
        raise ValueError(f"unexpected keys in the official {backbone} checkpoint: {unexpected[:5]}")
    return state


def load_official_state(backbone: OfficialBackbone) -> dict[str, Tensor]:
    """The official student's autoencoder state dict, resolved through the weight registry.

    The registry finds the file shipped with the package first (no network, no ``STYLELAB_WEIGHTS``).

    Raises:
        FileNotFoundError: The registry cannot find the file (see ``stylelab weights list``).
    """
    from stylelab.backbones import load_weights

    return convert_official(dict(load_weights(REGISTRY_NAMES[backbone])), backbone)
