"""IFT network and method: architecture, pipelines, calibration, training stages, presets."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylelab.methods import load_method
from stylelab.methods.base import METHODS
from stylelab.methods.ift import IFT, LEVELS, PRESETS, DecoderBlock, IFTNet, resolve_levels
from stylelab.methods.ift.presets import parse_level_values
from stylelab.ops import zca_transform


@pytest.fixture(scope="module")
def model() -> IFT:
    m = IFT(encoder_weights=None)
    m.net.calibrate([torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))])
    return m


def test_registered_and_decoder_matches_the_reference_architecture() -> None:
    assert METHODS["ift"] is IFT
    # conv widths of the released decoder (utils/model.py DecoderBlock 3, 2, 1, 0): 3x3 convs with bias
    expected = sum(
        9 * cin * cout + cout
        for cin, cout in [(512, 512), (512, 256), (256, 256), (256, 256), (256, 256), (256, 128), (128, 128),
                          (128, 64), (64, 3)]
    )  # fmt: skip
    net = IFTNet(encoder_weights=None)
    assert sum(p.numel() for p in net.decoder.parameters()) == expected == 5_828_099
    block = DecoderBlock("relu3_1")
    x, skip = torch.rand(1, 256, 4, 4), torch.rand(1, 128, 8, 8)
    assert block(x, skip).shape == (1, 128, 8, 8)
    assert not torch.equal(block(x, skip), block(x, skip + 1))  # the skip is added after upsampling
    with pytest.raises(ValueError, match="skip"):
        block(x)


def test_encoder_steps_return_the_pre_pool_skips() -> None:
    net = IFTNet(encoder_weights=None)
    image = torch.rand(1, 3, 32, 32)
    feats, skips = net.encode(image)
    full = net.encoder(image, ["relu1_2", "relu2_2", "relu3_4", *LEVELS])
    for level in LEVELS:
        torch.testing.assert_close(feats[level], full[level])
    skip = full["relu3_4"]
    mean, std = skip.mean(dim=(2, 3), keepdim=True), skip.var(dim=(2, 3), keepdim=True, unbiased=False)
    torch.testing.assert_close(skips["relu4_1"], (skip - mean) / (std + 1e-8).sqrt())
    assert set(skips) == {"relu2_1", "relu3_1", "relu4_1"}


def test_calibration_is_the_mean_activation_and_survives_checkpoints(tmp_path: Path) -> None:
    m = IFT(encoder_weights=None)
    images = [torch.rand(2, 3, 32, 32), torch.rand(3, 3, 32, 32)]
    m.net.calibrate(images)
    feats = [m.net.encode(x)[0] for x in images]
    for level in LEVELS:
        expected = torch.cat([f[level].mean(dim=(2, 3)) for f in feats]).mean(dim=0)
        torch.testing.assert_close(getattr(m.net, f"scale_{level}"), expected)
    assert m.net.calibration_images.item() == 5
    path = tmp_path / "ift.ckpt"
    checkpoint = {"state_dict": m.state_dict(), "hyper_parameters": dict(m.hparams)}
    m.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    restored = load_method(path)
    assert isinstance(restored, IFT) and restored.net.calibrated
    x, s = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24)
    kw = {"lam": 1.0, "n_upd": 2, "step_rule": "line_search"}
    torch.testing.assert_close(restored.stylize(x, s, **kw), m.stylize(x, s, **kw))


def test_zero_lambda_decodes_the_content_whatever_the_style(model: IFT) -> None:
    content = torch.rand(2, 3, 32, 40)
    a = model.stylize(content, torch.rand(1, 3, 32, 32), lam=0.0)
    b = model.stylize(content, torch.rand(1, 3, 48, 24), lam=0.0)
    torch.testing.assert_close(a, b)
    feats, skips = model.net.encode(content)
    bottleneck = feats["relu4_1"] / model.net.level_scale("relu4_1", feats["relu4_1"]).view(1, -1, 1, 1)
    torch.testing.assert_close(a, model.net.decode(bottleneck, "relu4_1", skips).clamp(0, 1))
    assert a.shape == content.shape


def test_pipelines_transform_the_documented_levels(model: IFT) -> None:
    content, style = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24)
    only41 = {"relu1_1": 0, "relu2_1": 0, "relu3_1": 0, "relu4_1": 3}
    kw = {"lam": 1.0, "step_rule": "line_search"}
    c2f = model.stylize(content, style, pipeline="coarse_to_fine", n_upd=only41, **kw)
    f2c = model.stylize(content, style, pipeline="fine_to_coarse", n_upd=only41, **kw)
    torch.testing.assert_close(c2f, f2c)  # relu4_1 is the last encoder and the first decoder transform
    fine = {"relu1_1": 3, "relu2_1": 0, "relu3_1": 0, "relu4_1": 0}
    c2f = model.stylize(content, style, pipeline="coarse_to_fine", n_upd=fine, **kw)
    f2c = model.stylize(content, style, pipeline="fine_to_coarse", n_upd=fine, **kw)
    assert not torch.allclose(c2f, f2c)  # relu1_1: decoder-side vs encoder-side feature


def test_multi_style_weights_and_comparisons(model: IFT) -> None:
    content, s1, s2 = torch.rand(1, 3, 24, 24), torch.rand(1, 3, 24, 24), torch.rand(1, 3, 16, 32)
    kw = {"lam": 0.5, "step_rule": "line_search", "n_upd": 2}
    torch.testing.assert_close(
        model.stylize(content, [s1, s2], style_weights=[1.0, 0.0], **kw), model.stylize(content, s1, **kw)
    )
    assert not torch.allclose(model.stylize(content, [s1, s2], **kw), model.stylize(content, s1, **kw))
    out = model.stylize(content, [s1, s2], transform="adain")
    assert out.shape == content.shape and torch.isfinite(out).all()
    # the comparisons blend single-style results linearly, in channel-scale units (supplement Eq. 30)
    feat, sa, sb = torch.rand(1, 128, 8, 8), torch.rand(1, 128, 8, 8), torch.rand(1, 128, 6, 6)
    setting = resolve_levels("photorealistic")["relu2_1"]
    blend = model.net.transform_level("relu2_1", feat, [sa, sb], [3.0, 1.0], setting, transform="zca")
    zca = [zca_transform(feat, s, regularizer=1.0, reg_on="both", normalizer="N") for s in (sa, sb)]
    torch.testing.assert_close(blend, 0.75 * zca[0] + 0.25 * zca[1])
    with pytest.raises(ValueError, match="one weight per style"):
        model.stylize(content, [s1, s2], style_weights=[1.0])


def test_masks_are_checked_and_matched_at_image_resolution(model: IFT) -> None:
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 48)
    c_mask = torch.zeros(32, 32, dtype=torch.long)
    c_mask[:, 16:] = 1
    s_mask = torch.zeros(40, 48, dtype=torch.long)
    s_mask[20:] = 1
    kw = {"lam": 1.0, "n_upd": 3, "step_rule": "line_search"}
    out = model.stylize(content, style, content_mask=c_mask, style_masks=s_mask, **kw)
    assert out.shape == content.shape and torch.isfinite(out).all()
    # masks whose labels never match (thresholds: > 150 positions) leave every level untouched
    tiny = torch.zeros(32, 32, dtype=torch.long)
    tiny[:12, :12] = 3  # 144 positions
    other = torch.full((40, 48), 3, dtype=torch.long)
    other[0, 0] = 9
    untouched = model.stylize(
        content, style, content_mask=tiny + 3 * (tiny == 0), style_masks=other - 3, **kw
    )
    torch.testing.assert_close(untouched, model.stylize(content, style, lam=0.0))
    with pytest.raises(ValueError, match="aspect ratio"):
        model.stylize(content, style, content_mask=torch.zeros(32, 64, dtype=torch.long), style_masks=s_mask)
    with pytest.raises(ValueError, match="one per style"):
        model.stylize(content, [style, style], content_mask=c_mask, style_masks=[s_mask])


def test_presets_and_overrides() -> None:
    assert resolve_levels("photorealistic")["relu4_1"].lam == 25.0
    assert {s.n_upd for s in PRESETS["photorealistic"].values()} == {15}
    assert [PRESETS["reference"][lv].lam for lv in LEVELS] == [1e4, 1e3, 1e2, 1e2]
    table = resolve_levels("demo", lam="relu4_1=50,relu3_1=7", n_upd="1,2,3,4")
    assert table["relu4_1"].lam == 50 and table["relu3_1"].lam == 7 and table["relu1_1"].lam == 1e4
    assert [table[lv].n_upd for lv in LEVELS] == [1, 2, 3, 4]
    assert parse_level_values(3) == dict.fromkeys(LEVELS, 3.0)
    for bad, match in (("relu9_1=3", "unknown level"), ("1,2", "give 1 or 4"), ("x", "cannot read")):
        with pytest.raises(ValueError, match=match):
            parse_level_values(bad)
    with pytest.raises(ValueError, match="unknown IFT preset"):
        IFT(encoder_weights=None, preset="nope")
    m = IFT(encoder_weights=None, preset="demo", lam={"relu4_1": 5.0})
    assert m._levels(None, None, None)["relu4_1"].lam == 5.0
    assert m._levels(None, "relu3_1=9", None)["relu4_1"].lam == 5.0
    assert m._levels("reference", None, None)["relu4_1"].lam == 100.0


def test_blockwise_training_updates_the_current_block_only() -> None:
    m = IFT(encoder_weights=None, stage_steps=[1, 1, 1, 1], lr=1e-2)
    m.log = lambda *a, **k: None  # type: ignore[method-assign]
    optimizer = m.configure_optimizers()
    batch = {"content": torch.rand(2, 3, 32, 32), "style": torch.rand(2, 3, 32, 32), "skipped": []}
    before = {k: v.clone() for k, v in m.net.state_dict().items()}
    assert m.current_stage() == "relu1_1"
    optimizer.zero_grad(set_to_none=True)
    loss = m.training_step(batch, 0)
    assert loss is not None and torch.isfinite(loss)
    loss.backward()
    optimizer.step()
    changed = {k for k, v in m.net.state_dict().items() if not torch.equal(v, before[k])}
    allowed = ("decoder.relu1_1", "scale_", "calibration_images")
    assert changed and all(k.startswith(allowed) for k in changed)
    assert any(k.startswith("scale_") for k in changed)  # channel scales fitted on the training images


def test_ae_loss_is_the_supplement_eq28() -> None:
    net = IFTNet(encoder_weights=None)
    image = torch.rand(2, 3, 32, 32)
    terms = net.ae_losses(image, "relu2_1")
    feats, skips = net.encode(image, "relu2_1")
    scale = net.level_scale("relu2_1", feats["relu2_1"]).view(1, -1, 1, 1)  # uncalibrated: batch mean
    out = net.decode(feats["relu2_1"] / scale, "relu2_1", skips)
    torch.testing.assert_close(terms["pixel"], ((out - image) ** 2).sum() / 2)
    reproduced = net.encode(out, "relu2_1")[0]["relu2_1"]
    torch.testing.assert_close(terms["feature"], (((reproduced - feats["relu2_1"]) / scale) ** 2).sum() / 2)
