from __future__ import annotations

import pytest
import torch

from stylelab.methods.pcakd import PCAKDNet
from stylelab.methods.pcakd.architectures import (
    TEACHER_CHANNELS,
    WIDTHS,
    MobileNetStudentDecoder,
    MobileNetStudentEncoder,
    VGGStudentDecoder,
    VGGStudentEncoder,
    build_student,
    center_crop_or_pad,
)
from stylelab.methods.pcakd.eigenbases import Eigenbases
from stylelab.methods.pcakd.model import BlockAutoencoder
from stylelab.metrics import count_parameters, parameter_counts
from stylelab.ops import hfr_box, hfr_pool


def _reference_autoencoder(backbone: str, widths: tuple[int, ...]) -> BlockAutoencoder:
    encoder, decoder = build_student(backbone, widths)  # type: ignore[arg-type]
    return BlockAutoencoder(encoder, decoder, Eigenbases(TEACHER_CHANNELS[backbone], widths))


@pytest.mark.parametrize(
    ("backbone", "preset", "without", "with_bases"),
    [
        ("vgg", "vgg", 283_236, 283_236 + 50_816),  # paper "283K" (eigenbases not counted)
        ("vgg", "vgg_ckd", 439_552, 439_552 + 64 * 16 + 128 * 32 + 256 * 64 + 512 * 128),  # "440K"
        ("mobilenet", "mobilenet", 52_742, 72_838),  # paper "73K" counts the eigenbases
    ],
)
def test_paper_parameter_counts(backbone: str, preset: str, without: int, with_bases: int) -> None:
    counts = parameter_counts(_reference_autoencoder(backbone, WIDTHS[preset]), auxiliary=("eigenbases",))
    assert counts.without_auxiliary == without
    assert counts.with_auxiliary == with_bases


def test_encoder_decoder_split_and_teacher_pipeline_size() -> None:
    assert count_parameters(VGGStudentEncoder()) == 141_614  # includes the frozen 1x1 preprocess conv
    assert count_parameters(VGGStudentDecoder()) == 141_622
    assert count_parameters(MobileNetStudentEncoder()) == 9_767
    assert count_parameters(MobileNetStudentDecoder()) == 42_975
    # full-width decoders on the VGG-19 teacher: 7.01M ~ PhotoWCT2's 7.05M
    teacher = PCAKDNet("vgg_teacher", teacher_weights=None)
    assert parameter_counts(teacher.autoencoder).without_auxiliary == 3_505_728 + 3_505_300


def test_preprocess_conv_is_frozen_and_outside_every_block() -> None:
    encoder = VGGStudentEncoder()
    assert not encoder.preprocess.weight.requires_grad
    block_params = {id(p) for n in range(1, 5) for p in encoder.block_parameters(n)}
    assert id(encoder.preprocess.weight) not in block_params
    assert count_parameters(encoder, trainable_only=True) == 141_614 - 12


@pytest.mark.parametrize(("backbone", "strides"), [("vgg", (1, 2, 4, 8)), ("mobilenet", (2, 4, 8, 16))])
def test_block_shapes_and_round_trip(backbone: str, strides: tuple[int, ...]) -> None:
    encoder, decoder = build_student(backbone)  # type: ignore[arg-type]
    x = torch.rand(2, 3, 64, 48)
    feats, skips = encoder(x)
    for feat, width, stride in zip(feats, encoder.widths, strides, strict=True):
        assert feat.shape == (2, width, 64 // stride, 48 // stride)
    h = feats[3]
    for n in (4, 3, 2):
        h = decoder.forward_block(n, h, skips[n - 1])
        assert h.shape == feats[n - 2].shape
    assert decoder.forward_block(1, h, skips[0]).shape == x.shape


def test_box_skips_are_hfr_of_block_inputs() -> None:
    encoder = VGGStudentEncoder()
    x = torch.rand(1, 3, 32, 32)
    feats, skips = encoder(x)
    torch.testing.assert_close(skips[0], hfr_box(x))
    for n in (2, 3, 4):
        torch.testing.assert_close(skips[n - 1], hfr_box(feats[n - 2]))


def test_pool_skips_are_photowct2_residuals_before_pooling() -> None:
    encoder = VGGStudentEncoder(hfr="pool")
    x = torch.rand(1, 3, 32, 32)
    feats, skips = encoder(x)
    relu1_2 = encoder.block2_pre(feats[0])
    torch.testing.assert_close(skips[1], hfr_pool(relu1_2))
    assert skips[1].shape == (1, 10, 32, 32)
    # the decoder adds it right after the upsampling: same parameter count, other layer order
    assert count_parameters(VGGStudentDecoder(hfr="pool")) == 141_622
    with pytest.raises(ValueError, match="box"):
        MobileNetStudentEncoder(hfr="pool")


def test_decoder_skip_changes_output_only_where_it_enters() -> None:
    # dec_1 concatenates the image skip: a zero skip vs a random one must change the output
    decoder = VGGStudentDecoder()
    h = torch.rand(1, 10, 16, 16)
    a = decoder.forward_block(1, h, torch.zeros(1, 3, 16, 16))
    b = decoder.forward_block(1, h, torch.rand(1, 3, 16, 16))
    assert not torch.allclose(a, b)


def test_center_crop_or_pad_matches_tf_semantics() -> None:
    x = torch.arange(30.0).view(1, 1, 5, 6)
    cropped = center_crop_or_pad(x, 3, 4)
    torch.testing.assert_close(cropped, x[..., 1:4, 1:5])
    padded = center_crop_or_pad(x, 7, 8)
    torch.testing.assert_close(padded[..., 1:6, 1:7], x)
    assert padded[..., 0, :].abs().sum() == 0 and padded[..., :, -1].abs().sum() == 0


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="four positive"):
        VGGStudentEncoder((10, 20, 58))
    with pytest.raises(ValueError, match="backbone"):
        build_student("resnet")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="block index"):
        VGGStudentEncoder().forward_block(5, torch.rand(1, 3, 8, 8))


def test_caffe_preprocess_is_the_teacher_input_map_and_never_shipped() -> None:
    from stylelab.backbones import VGGEncoder
    from stylelab.methods.pcakd import PCAKD

    x = torch.rand(2, 3, 8, 8)
    encoder = VGGStudentEncoder(preprocess="caffe")
    teacher = VGGEncoder("vgg19", weights=None, last_tap="relu1_1", input_norm="caffe")
    torch.testing.assert_close(encoder.preprocess(x), teacher.preprocess(x), rtol=1e-6, atol=1e-4)
    assert not any(p.requires_grad for p in encoder.preprocess.parameters())
    with pytest.raises(ValueError, match="VGG student only"):
        build_student("mobilenet", preprocess="caffe")
    # the shipped student was trained behind the caffe map: it is not loaded under another one
    assert PCAKD(teacher_weights=None, student_preprocess="random").weights_source == "random init"
