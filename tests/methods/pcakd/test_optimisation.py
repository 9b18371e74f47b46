"""The distillation-budget options: data-dependent block initialisation and L-BFGS blocks."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from stylelab.methods.base import NonFiniteLossError
from stylelab.methods.pcakd.data_init import (
    block_convolutions,
    init_block_from_data,
    least_squares_block_init,
)
from stylelab.methods.pcakd.eigenbases import centre

from .test_module import _data, _model, _snapshot, _trainer


def _pre_activations(block: nn.Sequential, x: torch.Tensor) -> list[torch.Tensor]:
    outputs = []
    for layer in block:
        x = layer(x)
        if isinstance(layer, nn.Conv2d):
            outputs.append(x)
    return outputs


def test_data_init_sets_every_channel_mean_and_spread_and_revives_dead_channels() -> None:
    torch.manual_seed(0)
    block = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.Conv2d(6, 5, 3), nn.ReLU())
    with torch.no_grad():
        block[2].bias[:2] = -1e3  # two dead channels: their ReLU never fires
    x = torch.rand(4, 3, 20, 20) * 255
    assert int((block(x).amax(dim=(0, 2, 3)) <= 0).sum()) == 2
    convs = block_convolutions(list(block.parameters()), block)
    init_block_from_data(lambda: block(x), list(reversed(convs)), target_std=3.0, active_margin=1.0)
    for out in _pre_activations(block, x):  # later convs see the already rescaled earlier ones
        torch.testing.assert_close(
            out.mean(dim=(0, 2, 3)), torch.full((out.shape[1],), 3.0), rtol=1e-4, atol=1e-4
        )
        torch.testing.assert_close(
            out.std(dim=(0, 2, 3)), torch.full((out.shape[1],), 3.0), rtol=1e-4, atol=1e-4
        )
    assert int((block(x).amax(dim=(0, 2, 3)) <= 0).sum()) == 0
    with pytest.raises(ValueError, match="target_std"):
        init_block_from_data(lambda: block(x), convs, target_std=0.0)
    with pytest.raises(ValueError, match="not run"):
        init_block_from_data(lambda: block[0](x), convs, target_std=1.0)


def test_block_init_matches_the_projected_teacher_spread_once_and_survives_resume(tmp_path: Path) -> None:
    schedule = [0, 1, 1, 1, 1]
    model = _model(stage_steps=schedule, eigen_solver="exact", block_init="data", lr=0.0)
    images = torch.rand(2, 3, 32, 32)
    for n in range(1, 5):
        model.init_block_from_data(images, n)
    ae = model.net.autoencoder
    h = images
    for n in range(1, 5):
        h, _ = ae.encoder.forward_block(n, h)
        teacher = centre(model.net.teacher().features(images, n)[n - 1])
        target = float((ae.eigenbases[n].T @ teacher).std(dim=(0, 2)).mean())
        # the last conv is followed by a ReLU: its pre-activation has mean = std = target
        spread = centre(h).std(dim=(0, 2))
        assert 0.3 * target < float(spread.mean()) < 1.2 * target, n
    assert bool(model.blocks_initialised.all())

    # in a fit, each block is initialised once, before its first step; a resume does not re-initialise
    fresh = _model(stage_steps=schedule, eigen_solver="exact", block_init="data", lr=0.0)
    _trainer(2, tmp_path / "a", checkpoint=True).fit(fresh, datamodule=_data())
    assert fresh.blocks_initialised.tolist() == [True, True, False, False]
    saved = _snapshot(fresh)
    resumed = _model(stage_steps=schedule, eigen_solver="exact", block_init="data", lr=0.0)
    _trainer(3, tmp_path / "b").fit(resumed, datamodule=_data(), ckpt_path=str(tmp_path / "a" / "last.ckpt"))
    after = _snapshot(resumed)
    ids = {id(p) for n in (1, 2) for p in resumed.net.autoencoder.block_parameters(n)}
    names = {k for k, p in resumed.net.autoencoder.named_parameters() if id(p) in ids}
    assert all(torch.equal(after[k], saved[k]) for k in names)  # lr 0: only an init could move them
    assert resumed.blocks_initialised.tolist() == [True, True, True, False]


def _relative_loss_after(name: str, images: torch.Tensor, evaluations: int) -> tuple[float, int]:
    """Block-1 loss after one L-BFGS step (or as many Adam steps as evaluations), over the initial loss."""
    model = _model(stage_steps=[0, 3, 1, 1, 1], eigen_solver="exact")
    model.init_block_from_data(images, 1)
    params = model.net.autoencoder.block_parameters(1)
    before = float(sum(model.net.block_losses(images, 1).values()))
    if name == "lbfgs":
        optimiser: torch.optim.Optimizer = torch.optim.LBFGS(
            params, max_iter=20, line_search_fn="strong_wolfe"
        )
    else:
        optimiser = torch.optim.Adam(params, lr=1e-3)

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.stack(list(model.net.block_losses(images, 1).values())).sum()
        loss.backward()
        return loss

    if name == "lbfgs":
        optimiser.step(closure)
        evaluations = int(optimiser.state[params[0]]["func_evals"])
    else:
        for _ in range(evaluations):
            closure()
            optimiser.step()
    return float(sum(model.net.block_losses(images, 1).values())) / before, evaluations


def test_lbfgs_beats_adam_at_equal_evaluations_and_checkpoints_its_state(tmp_path: Path) -> None:
    torch.manual_seed(0)
    images = torch.rand(2, 3, 32, 32)
    lbfgs, evaluations = _relative_loss_after("lbfgs", images, 0)
    adam, _ = _relative_loss_after("adam", images, evaluations)
    assert lbfgs < 0.7 < adam  # measured: 0.59 vs 0.84 after 22 evaluations of a 2-image batch

    fitted = _model(stage_steps=[0, 2, 1, 1, 1], eigen_solver="exact", block_optimizer="lbfgs")
    _trainer(5, tmp_path, checkpoint=True).fit(fitted, datamodule=_data())
    saved = torch.load(tmp_path / "last.ckpt", weights_only=True)
    states = [o["state"] for o in saved["optimizer_states"]]
    assert len(states) == 4
    assert all(state and state[0]["func_evals"] >= 1 for state in states)  # every block took L-BFGS steps
    with pytest.raises(ValueError, match="block_optimizer"):
        _model(block_optimizer="sgd")
    with pytest.raises(ValueError, match="block_init"):
        _model(block_init="xavier")


@pytest.mark.parametrize("policy", ["skip", "raise"])
def test_a_non_finite_line_search_trial_rejects_the_lbfgs_step(tmp_path: Path, policy: str) -> None:
    model = _model(
        stage_steps=[0, 2, 0, 0, 0], eigen_solver="exact", block_optimizer="lbfgs", on_nonfinite=policy
    )
    losses = model.net.block_losses
    calls = 0

    def overflowing(images: torch.Tensor, n: int) -> dict[str, torch.Tensor]:
        nonlocal calls
        calls += 1
        terms = losses(images, n)
        return {k: v * float("inf") for k, v in terms.items()} if calls == 2 else terms  # a trial point

    model.net.block_losses = overflowing  # type: ignore[method-assign]
    snapshots: list[dict[str, torch.Tensor]] = []
    states: list[int] = []

    class Recorder(L.Callback):
        def on_train_batch_start(self, *args: object) -> None:
            snapshots.append(_snapshot(model))

        def on_train_batch_end(self, trainer: L.Trainer, *args: object) -> None:
            snapshots.append(_snapshot(model))
            states.append(len(trainer.optimizers[0].state))

    trainer = _trainer(2, tmp_path)
    trainer.callbacks.append(Recorder())
    if policy == "raise":
        with pytest.raises(NonFiniteLossError, match="lbfgs_trial_loss"):
            trainer.fit(model, datamodule=_data())
        return
    trainer.fit(model, datamodule=_data())
    # the rejected step is undone and not counted (Lightning counts completed optimiser steps): 3 batches
    assert len(snapshots) == 6 and trainer.global_step == 2
    first_before, first_after = snapshots[0], snapshots[1]
    assert all(torch.equal(first_before[k], first_after[k]) for k in first_before)
    assert states == [0, 1, 1]  # curvature history dropped after the rejected step, rebuilt by the next
    assert any(not torch.equal(snapshots[2][k], snapshots[3][k]) for k in snapshots[2])


def _pooled_block() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(4, 4, 3, padding=1, padding_mode="reflect"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect"),
        nn.ReLU(),
    )


def test_least_squares_init_recovers_a_linear_target_exactly() -> None:
    torch.manual_seed(0)
    block = _pooled_block()
    known = nn.Conv2d(4, 6, 3, padding=1, padding_mode="reflect")
    inputs = [torch.rand(3, 4, 16, 16) for _ in range(3)]  # non-negative, like ReLU features
    with torch.no_grad():
        pairs = [(x, known(F.max_pool2d(x, 2))) for x in inputs]
    convs = block_convolutions(list(block.parameters()), block)
    residual = least_squares_block_init(block, convs, pairs, active_margin=6.0, ridge=1e-10)
    assert residual < 1e-6
    torch.testing.assert_close(block[3].weight, known.weight, rtol=1e-3, atol=1e-3)
    with torch.no_grad():  # output = target + a per-channel constant (the ReLU is linear here)
        out, target = block(inputs[0]), pairs[0][1]
        torch.testing.assert_close(
            out - out.mean(dim=(0, 2, 3), keepdim=True),
            target - target.mean(dim=(0, 2, 3), keepdim=True),
            rtol=1e-3,
            atol=1e-3,
        )
    # the batches' normal equations add up: one concatenated batch gives the same residual
    one = _pooled_block()
    noisy = [(x, y + 0.3 * torch.randn_like(y)) for x, y in pairs]
    split_residual = least_squares_block_init(block, convs, noisy)
    noisy_concatenated = [(torch.cat([x for x, _ in noisy]), torch.cat([y for _, y in noisy]))]
    joined = least_squares_block_init(
        one, block_convolutions(list(one.parameters()), one), noisy_concatenated
    )
    assert split_residual == pytest.approx(joined, rel=1e-6) and split_residual > 1e-3
    with pytest.raises(ValueError, match="square"):
        wide = nn.Sequential(nn.Conv2d(4, 5, 3, padding=1), nn.ReLU(), nn.Conv2d(5, 6, 3, padding=1))
        least_squares_block_init(wide, list(wide.modules())[1::2], [(inputs[0], torch.rand(3, 6, 16, 16))])


def test_least_squares_block_init_beats_the_default_init_on_the_distillation_loss() -> None:
    torch.manual_seed(0)
    images = [torch.rand(2, 3, 32, 32) for _ in range(4)]
    default = _model(eigen_solver="exact")
    lsq = _model(eigen_solver="exact", block_init="least_squares")
    for model in (default, lsq):
        model.fit_exact_eigenbases([{"content": x, "style": x} for x in images])
    for n in range(1, 5):
        lsq.init_block_from_data(images[0], n, images[1:])
        assert float(lsq.net.block_losses(images[0], n)["distill"]) < float(
            default.net.block_losses(images[0], n)["distill"]
        ), n
    assert bool(lsq.blocks_initialised.all())
    # the teacher pipeline: only its decoder is fitted (block 1: the image from relu1_1 + HFR)
    teacher_default = _model(backbone="vgg_teacher")
    teacher_lsq = _model(backbone="vgg_teacher", block_init="least_squares")
    residuals = teacher_lsq.init_block_from_data(images[0], 1, images[1:])
    assert len(residuals) == 1 and residuals[0] < 0.05
    assert float(teacher_lsq.net.block_losses(images[0], 1)["image"]) < 0.1 * float(
        teacher_default.net.block_losses(images[0], 1)["image"]
    )
    with pytest.raises(ValueError, match="VGG student"):
        _model(backbone="mobilenet", block_init="least_squares")


def test_least_squares_decoder_fit_keeps_earlier_convs_and_fits_the_values() -> None:
    torch.manual_seed(1)
    block = nn.Sequential(nn.Conv2d(4, 3, 3, padding=1), nn.ReLU(), nn.Conv2d(3, 2, 3, padding=1))
    known = nn.Conv2d(3, 2, 3, padding=1)
    first = block[0].weight.detach().clone()
    inputs = [torch.randn(2, 4, 12, 12) for _ in range(2)]
    with torch.no_grad():
        pairs = [(x, known(block[1](block[0](x))) + 5.0) for x in inputs]  # values, not just variations
    convs = block_convolutions(list(block.parameters()), block)
    residual = least_squares_block_init(
        block, convs, pairs, ridge=1e-10, identity_before=False, fit_intercept=True
    )
    assert residual < 1e-6
    assert torch.equal(block[0].weight, first)
    with torch.no_grad():
        torch.testing.assert_close(block(inputs[1]), pairs[1][1], rtol=1e-3, atol=1e-3)
