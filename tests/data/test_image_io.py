from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile

from stylelab.data import UnreadableImageError, decode_image, load_image, save_image


def test_rgb_png_is_exact(images):
    path = images.rgb("a.png", 7, 5)
    x = load_image(path)
    expected = torch.from_numpy(np.array(Image.open(path))).permute(2, 0, 1).float() / 255
    assert x.shape == (3, 5, 7) and x.dtype == torch.float32
    assert torch.equal(x, expected)


def test_truncated_jpeg_raises(images):
    path = images.truncated_jpeg("cut.jpg")
    with pytest.raises(UnreadableImageError) as info:
        load_image(path)
    assert info.value.path == str(path)
    assert "truncated" in info.value.reason.lower()


def test_truncation_detected_even_if_pillow_flag_is_on(images, monkeypatch):
    path = images.truncated_jpeg("cut.jpg")
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(UnreadableImageError):
        load_image(path)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # restored afterwards


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("text.jpg", b"this is not an image\n"),
        ("empty.png", b""),
        ("junk.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40),
    ],
)
def test_non_images_raise(images, name, content):
    with pytest.raises(UnreadableImageError) as info:
        load_image(images.text(name, content))
    assert name in str(info.value)


def test_missing_file_raises(tmp_path):
    with pytest.raises(UnreadableImageError, match="not found"):
        load_image(tmp_path / "nope.jpg")


def test_cmyk_jpeg_matches_pillow_conversion(images):
    rgb = np.zeros((16, 16, 3), np.uint8)
    rgb[:, :8] = (200, 30, 40)
    rgb[:, 8:] = (20, 120, 220)
    path = images.root / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(path, quality=100)
    assert Image.open(path).mode == "CMYK"
    x = load_image(path)
    assert x.shape == (3, 16, 16)
    assert (x * 255 - torch.tensor(rgb).permute(2, 0, 1).float()).abs().mean() < 6


def test_grayscale_becomes_three_equal_channels(images):
    gray = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    x = load_image(images.array("g.png", gray))
    assert x.shape == (3, 6, 8)
    assert torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])
    assert torch.allclose(x[0], torch.tensor(gray, dtype=torch.float32) / 255)


def test_bilevel_image(images):
    bits = np.zeros((4, 4), bool)
    bits[0] = True
    path = images.root / "b.png"
    Image.fromarray(bits).save(path)
    x = load_image(path)
    assert x[:, 0].eq(1).all() and x[:, 1:].eq(0).all()


def test_rgba_is_composited_over_white(images):
    rgba = np.zeros((2, 3, 4), np.uint8)
    rgba[..., :3] = (255, 0, 0)
    rgba[0, :, 3] = (0, 255, 128)
    rgba[1, :, 3] = 255
    x = load_image(images.array("t.png", rgba))
    assert torch.allclose(x[:, 0, 0], torch.ones(3))  # transparent -> white
    assert torch.allclose(x[:, 0, 1], torch.tensor([1.0, 0.0, 0.0]))  # opaque -> colour
    a = 128 / 255
    assert torch.allclose(x[:, 0, 2], torch.tensor([1.0, 1 - a, 1 - a]), atol=1e-6)


def test_la_and_transparent_palette(images):
    la = np.zeros((2, 2, 2), np.uint8)
    la[..., 1] = ((0, 255), (255, 0))
    x = load_image(images.array("la.png", la, mode="LA"))
    assert torch.allclose(x[:, 0, 0], torch.ones(3)) and torch.allclose(x[:, 0, 1], torch.zeros(3))
    palette = Image.new("P", (2, 1))
    palette.putpalette([0, 0, 255, 0, 255, 0] + [0] * 762)
    palette.putpixel((0, 0), 0)
    palette.putpixel((1, 0), 1)
    path = images.root / "p.png"
    palette.save(path, transparency=0)
    x = load_image(path)
    assert torch.allclose(x[:, 0, 0], torch.ones(3)) and torch.allclose(
        x[:, 0, 1], torch.tensor([0.0, 1.0, 0.0])
    )


def test_16bit_grayscale_png_scaled_not_clipped(images):
    values = np.array([[0, 257, 1000, 32768, 65535]], dtype=np.uint16)
    path = images.png16("g16.png", values)
    assert Image.open(path).mode.startswith("I")
    x = load_image(path)
    assert torch.allclose(x[0, 0], torch.tensor(values[0] / 65535, dtype=torch.float32))
    assert x[0, 0, -1] == 1.0 and x[0, 0, 2] < 0.02  # 1000 is dark, not clipped to white


def test_16bit_tiff_and_int_and_float_modes(images):
    values = np.array([[0, 4096, 65535]], dtype=np.uint16)
    x = load_image(images.array("g16.tif", values))
    assert torch.allclose(x[1, 0], torch.tensor(values[0] / 65535, dtype=torch.float32))
    ints = np.array([[0, 30000, 65535, 70000]], dtype=np.int32)
    x = load_image(images.array("i.tif", ints, mode="I"))
    assert torch.allclose(x[0, 0], torch.tensor([0, 30000 / 65535, 1.0, 1.0]))
    floats = np.array([[0.25, 2.0, -1.0, np.nan]], dtype=np.float32)
    x = load_image(images.array("f.tif", floats, mode="F"))
    assert torch.allclose(x[2, 0], torch.tensor([0.25, 1.0, 0.0, 0.0]))


def test_16bit_colour_png_keeps_scale(images):
    rgb = np.random.default_rng(0).integers(0, 65536, (4, 5, 3), dtype=np.uint16)
    path = images.png16("rgb16.png", rgb)
    x = load_image(path)
    expected = torch.from_numpy(rgb.astype(np.float32) / 65535).permute(2, 0, 1)
    assert (x - expected).abs().max() <= 1 / 255 + 1e-6


def test_exif_orientation_6_rotates_clockwise(images):
    array = np.zeros((32, 48, 3), np.uint8)  # H=32, W=48
    array[...] = (0, 0, 255)
    array[:16, :16] = (255, 0, 0)  # red block top-left
    plain = images.array("plain.jpg", array, quality=95)
    exif = Image.Exif()
    exif[0x0112] = 6
    tagged = images.array("tagged.jpg", array, quality=95, exif=exif.tobytes())
    x_plain, x_tagged = load_image(plain), load_image(tagged)
    assert x_plain.shape == (3, 32, 48) and x_tagged.shape == (3, 48, 32)
    assert torch.equal(x_tagged, torch.rot90(x_plain, k=-1, dims=(1, 2)))
    top_right = x_tagged[:, 2:14, 18:30].mean(dim=(1, 2))  # the red block moved to the top-right
    assert top_right[0] > 0.9 and top_right[2] < 0.1
    assert x_tagged[0, 2:14, 2:14].mean() < 0.1


def test_tiny_image_loads(images):
    x = load_image(images.rgb("tiny.png", 4, 4))
    assert x.shape == (3, 4, 4)


def test_max_pixels_guard(images):
    path = images.rgb("big.png", 100, 100)
    assert load_image(path, max_pixels=10_000).shape == (3, 100, 100)
    with pytest.raises(UnreadableImageError, match="max_pixels"):
        load_image(path, max_pixels=9_999)


def test_pillow_bomb_limit_becomes_unreadable(images, monkeypatch):
    path = images.rgb("big.png", 100, 100)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(UnreadableImageError, match="MAX_IMAGE_PIXELS"):
        load_image(path, max_pixels=10**9)


def test_decode_image_from_bytes(images):
    path = images.rgb("a.png")
    assert torch.equal(decode_image(path.read_bytes(), name="a"), load_image(path))
    with pytest.raises(UnreadableImageError, match="'row 3'"):
        decode_image(b"garbage", name="row 3")


def test_save_image_roundtrip_and_atomic(tmp_path):
    x = torch.rand(3, 9, 11)
    out = save_image(x, tmp_path / "sub" / "out.png")
    assert out.is_file() and sorted(p.name for p in out.parent.iterdir()) == ["out.png"]
    assert (load_image(out) - x).abs().max() <= 0.5 / 255 + 1e-6
    save_image(x[None], tmp_path / "batched.png")
    assert torch.equal(load_image(tmp_path / "batched.png"), load_image(out))


def test_save_image_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="NaN"):
        save_image(torch.full((3, 4, 4), float("nan")), tmp_path / "nan.png")
    with pytest.raises(ValueError, match="shape"):
        save_image(torch.rand(2, 3, 4, 4), tmp_path / "batch.png")
    assert not any(tmp_path.iterdir())


def test_save_image_jpeg_by_suffix(tmp_path):
    save_image(torch.rand(3, 8, 8), tmp_path / "x.jpg")
    assert Image.open(io.BytesIO((tmp_path / "x.jpg").read_bytes())).format == "JPEG"
