from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from stylelab.methods import load_method
from stylelab.methods.base import METHODS
from stylelab.methods.stylekernel import StyleKernel, StyleKernelNet
from stylelab.methods.stylekernel.objective import ObjectiveConfig, generator_objective
from stylelab.ops import group_unshuffle, instance_normalize


@pytest.fixture(scope="module")
def images() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.rand(2, 3, 32, 40, generator=g), torch.rand(1, 3, 48, 32, generator=g)


def test_registered_and_stylize_shape_range(images: tuple[torch.Tensor, torch.Tensor]) -> None:
    assert METHODS["stylekernel"] is StyleKernel
    content, style = images
    out = StyleKernel(encoder_weights=None).stylize(content, style)
    assert out.shape == (2, 3, 32, 40) and out.min() >= 0 and out.max() <= 1


def test_chunk_size_does_not_change_the_output(images: tuple[torch.Tensor, torch.Tensor]) -> None:
    model = StyleKernel(encoder_weights=None, threshold_stat="column_mean")
    content, style = images
    torch.testing.assert_close(
        model.stylize(content, style, chunk_elements=24), model.stylize(content, style)
    )
    assert model.net.chunk_elements == 2**24  # restored after the call


def test_content_preparation_is_instance_norm_then_group_shuffle() -> None:
    net = StyleKernelNet(encoder_weights=None, encoder_last_tap="relu4_1", shuffle_groups=8)
    feat = torch.rand(1, 512, 3, 3) * 5
    prepared = net.prepare_content(feat)
    torch.testing.assert_close(group_unshuffle(prepared, 8), instance_normalize(feat, unbiased=False))
    assert not torch.equal(prepared, instance_normalize(feat, unbiased=False))
    no_gs = StyleKernelNet(encoder_weights=None, encoder_last_tap="relu4_1", group_shuffle=False)
    torch.testing.assert_close(no_gs.prepare_content(feat), instance_normalize(feat, unbiased=False))


@pytest.mark.parametrize(
    "options",
    [{"cgm": False}, {"kernel_size": 1}, {"kernel_size": 5}, {"architecture": "sanet"},
     {"architecture": "sanet", "cgm": False}, {"gate": "soft", "threshold_stat": "similarity_row_mean"}],
)  # fmt: skip
def test_ablation_variants_run(options: dict, images: tuple[torch.Tensor, torch.Tensor]) -> None:
    net = StyleKernelNet(encoder_weights=None, encoder_last_tap="relu4_1", **options)
    content, style = images
    assert net(content, style).shape == (2, 3, 32, 40)
    assert (net.gate is None) == (options.get("cgm") is False)


def test_objective_terms_and_remd_operands(images: tuple[torch.Tensor, torch.Tensor]) -> None:
    net = StyleKernelNet(encoder_weights=None)
    content, style = images
    style = style.expand(2, -1, -1, -1)
    config = ObjectiveConfig()
    step = generator_objective(net, content, style, config, discriminator=lambda x: [x.mean((1, 2, 3))])
    assert {"content", "style", "rec_pixel", "rec_feature", "rec", "remd", "adv", "loss"} <= set(step.terms)
    w = config.weights
    expected = (w.content * step.terms["content"] + w.style * step.terms["style"]
                + w.rec * (w.rec_pixel * step.terms["rec_pixel"] + w.rec_feature * step.terms["rec_feature"])
                + w.remd * step.terms["remd"] + w.adv * step.terms["adv"])  # fmt: skip
    torch.testing.assert_close(step.total, expected)
    # the paper's literal REMD operands (Z_cs vs Z_s) never reach the decoder
    aligned = ObjectiveConfig(remd_operands="aligned", style_loss="mean_std")
    aligned.weights.content = aligned.weights.style = aligned.weights.rec = 0.0
    step = generator_objective(net, content, style, aligned)
    net.zero_grad()
    step.total.backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in net.decoder.parameters())
    assert net.gate is not None and net.gate.net[0].weight.grad.abs().sum() > 0


class _Pairs(torch.utils.data.Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        g = torch.Generator().manual_seed(index)
        return {"content": torch.rand(3, 32, 32, generator=g), "style": torch.rand(3, 32, 32, generator=g)}


def _collate(items: list[dict]) -> dict:
    return {key: torch.stack([item[key] for item in items]) for key in items[0]} | {"skipped": []}


def test_manual_optimisation_updates_d_once_per_two_g_steps(tmp_path: Path) -> None:
    model = StyleKernel(encoder_weights=None, lr=1e-3, remd_samples=64, disc_width=8)  # small D: fast
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    enc_before = [p.detach().clone() for p in model.net.encoder.parameters()]
    d_steps = []
    original = model.discriminator.forward

    def counting_forward(x: torch.Tensor) -> list[torch.Tensor]:
        d_steps.append(torch.is_grad_enabled() and next(model.discriminator.parameters()).requires_grad)
        return original(x)

    model.discriminator.forward = counting_forward  # type: ignore[method-assign]
    trainer = L.Trainer(
        max_steps=4,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
    )
    trainer.fit(model, DataLoader(_Pairs(), batch_size=2, collate_fn=_collate))
    # global_step counts optimizer steps: G, G, D, G -> 3 generator updates, 1 discriminator update
    assert int(model.generator_steps) == 3
    # the generator calls D 3 times with D frozen; the single D update calls it twice with D trainable
    assert d_steps.count(True) == 2 and d_steps.count(False) == 3
    assert any(not torch.equal(a, b) for a, b in zip(d_before, model.discriminator.parameters(), strict=True))
    assert all(torch.equal(a, b) for a, b in zip(enc_before, model.net.encoder.parameters(), strict=True))

    path = tmp_path / "sk.ckpt"
    trainer.save_checkpoint(path)
    loaded = load_method(path)
    assert isinstance(loaded, StyleKernel) and int(loaded.generator_steps) == 3
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    torch.testing.assert_close(loaded.stylize(content, style), model.eval().stylize(content, style))


def test_literal_l2_identity_distance(images: tuple[torch.Tensor, torch.Tensor]) -> None:
    net = StyleKernelNet(encoder_weights=None)
    content, _ = images
    config = ObjectiveConfig(rec_distance="l2", remd_samples=16)
    step = generator_objective(net, content, content.flip(0), config)
    layer = net.feature_layer
    with torch.no_grad():
        feats = net.encoder(content, ["relu2_1", "relu3_1", "relu4_1", "relu5_1"])
        out_cc = net.decoder(net.transfer(feats[layer], feats[layer]).feature)
        expected_pixel = torch.linalg.vector_norm((out_cc - content).flatten(1), dim=1).mean()
    # I_ss uses the flipped batch: the same images, so its distance equals I_cc's
    torch.testing.assert_close(step.terms["rec_pixel"], 2 * expected_pixel)
    mse = generator_objective(net, content, content.flip(0), ObjectiveConfig(remd_samples=16))
    torch.testing.assert_close(mse.terms["rec_pixel"], 2 * F.mse_loss(out_cc, content))
    with pytest.raises(ValueError, match="rec_distance"):
        ObjectiveConfig(rec_distance="l1")  # type: ignore[arg-type]


@pytest.mark.parametrize("gate", ["ste", "soft"])
def test_fully_masked_model_stays_finite(gate: str, images: tuple[torch.Tensor, torch.Tensor]) -> None:
    # beta = 1e4 (units of the uniform weight) closes every row: each keeps its argmax, nothing is NaN
    net = StyleKernelNet(encoder_weights=None, gate=gate, beta_init=1e4)
    content, style = images
    feats_c, feats_s = net.encoder(content, ["relu4_1"]), net.encoder(style, ["relu4_1"])
    transfer = net.transfer(feats_c["relu4_1"], feats_s["relu4_1"])
    rows = content.shape[0] * (32 // 8) * (40 // 8)
    assert transfer.stats.empty_rows == rows
    out = net.decoder(transfer.feature)
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    grads = [p.grad for p in net.trainable_parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
