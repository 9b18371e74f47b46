"""Algorithm 1: (T+1) alternation, sampled banks only, rescaled auto-encoder gradient, cached Grams."""

from __future__ import annotations

import warnings
from typing import Any

import lightning as L
import pytest
import torch

from stylelab.backbones import WeightsNotFoundError
from stylelab.losses import gram_style_loss
from stylelab.methods.stylebank import StyleBank, StyleBankCriterion
from stylelab.methods.stylebank import criterion as criterion_module
from stylelab.methods.stylebank.schedule import branch_at, gradient_size, reference_size, rescale_gradients


class StepRecorder(L.Callback):
    """Records, at every optimizer step, the E/D gradient norm, which banks hold a gradient, and
    which banks the step changed (hooks on the torch optimizer itself, independent of the module)."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        optimizer = trainer.optimizers[0]
        net = pl_module.net

        def before(opt: Any, args: Any, kwargs: Any) -> None:
            ed = [p.grad.flatten() for p in net.autoencoder_parameters() if p.grad is not None]
            self.steps.append({
                "ed_norm": torch.linalg.vector_norm(torch.cat(ed).double()).item() if ed else 0.0,
                "with_grad": {i for i, b in enumerate(net.bank.banks) if b.weight.grad is not None},
                "before": [b.weight.detach().clone() for b in net.bank.banks],
                "sampled": set(pl_module.last_style_index.tolist()) if pl_module.last_style_index is not None
                else set(),
                "branch": pl_module.current_branch(),
            })  # fmt: skip

        def after(opt: Any, args: Any, kwargs: Any) -> None:
            step = self.steps[-1]
            step["changed"] = {
                i for i, b in enumerate(net.bank.banks) if not torch.equal(b.weight, step["before"][i])
            }

        optimizer.register_step_pre_hook(before)
        optimizer.register_step_post_hook(after)


def test_algorithm1_two_cycles(make_datamodule, make_trainer) -> None:
    recorder = StepRecorder()
    model = StyleBank(
        loss_network=None, c_max=16, ae_lambda=0.5, lr=1e-3, lr_decay_every=2, lr_decay_gamma=0.5
    )
    trainer = make_trainer(6, [recorder])
    trainer.fit(model, datamodule=make_datamodule(styles=4))

    assert list(model.recent_branches) == ["stylize", "stylize", "autoencoder"] * 2
    assert [s["branch"] for s in recorder.steps] == list(model.recent_branches)
    assert model.hparams.num_styles == 4 and len(model.style_names) == 4
    for i, step in enumerate(recorder.steps):
        if step["branch"] == "stylize":
            # only the sampled banks get a gradient, and only they move
            assert step["with_grad"] == step["sampled"]
            assert step["changed"] <= step["sampled"]
        else:
            assert step["with_grad"] == set() and step["changed"] == set()
            # ||Δ_I|| after rescaling = λ · ||Δ_K|| of the last stylising step (global L2 over E, D)
            assert step["ed_norm"] == pytest.approx(0.5 * recorder.steps[i - 1]["ed_norm"], rel=1e-5)
            assert recorder.steps[i - 1]["ed_norm"] > 0
    # style Grams were computed once per style, not per step
    assert model.criterion.style_encodings == 4
    # StepLR: x0.5 every 2 steps, 6 steps
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5**3)


def test_schedules_and_rescale_options() -> None:
    paper = StyleBank(loss_network=None, c_max=8, num_styles=1).configure_optimizers()
    ports = StyleBank(loss_network=None, c_max=8, num_styles=1, schedule="ports").configure_optimizers()
    assert (
        paper["optimizer"].param_groups[0]["lr"] == 1e-2
        and paper["lr_scheduler"]["scheduler"].step_size == 30_000
    )
    assert (
        ports["optimizer"].param_groups[0]["lr"] == 1e-3
        and ports["lr_scheduler"]["scheduler"].step_size == 10_000
    )
    assert paper["lr_scheduler"]["scheduler"].gamma == 0.8
    with pytest.raises(ValueError, match="style_steps"):
        StyleBank(style_steps=0)


def test_branch_schedule() -> None:
    assert [branch_at(s, 2) for s in range(6)] == ["stylize", "stylize", "autoencoder"] * 2
    assert [branch_at(s, 3) for s in range(4)] == ["stylize"] * 3 + ["autoencoder"]
    assert {branch_at(s, 2, autoencoder_branch=False) for s in range(9)} == {"stylize"}


@pytest.mark.parametrize("mode", ["l2", "mean_abs"])
def test_rescale_gradients_hits_the_target(mode: str) -> None:
    params = [torch.nn.Parameter(torch.randn(5, 3)), torch.nn.Parameter(torch.randn(7))]
    frozen = torch.nn.Parameter(torch.randn(2))  # grad None: ignored
    for p in params:
        p.grad = torch.randn_like(p) * 3
    direction = [p.grad.clone() for p in params]
    factor = rescale_gradients([*params, frozen], 0.25, mode)
    assert float(gradient_size(params, mode)) == pytest.approx(0.25, rel=1e-6)
    for p, d in zip(params, direction, strict=True):  # same direction, scaled
        torch.testing.assert_close(p.grad, d * factor)
    if mode == "l2":
        norm = torch.linalg.vector_norm(torch.cat([p.grad.flatten() for p in params]))
        assert norm.item() == pytest.approx(0.25, rel=1e-6)
    assert rescale_gradients(params, 9.0, "none") == 1.0
    assert reference_size([1.0, 3.0], "mean") == 2.0 and reference_size([1.0, 3.0], "last") == 3.0
    with pytest.raises(RuntimeError, match="stylising step"):
        reference_size([])


def test_cached_style_loss_is_the_per_sample_gram_loss() -> None:
    torch.manual_seed(0)
    criterion = StyleBankCriterion(None)
    styles = [torch.rand(3, 40, 32), torch.rand(3, 24, 36)]
    criterion.cache_styles(styles)
    output, content = torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32)
    index = torch.tensor([1, 0, 1])
    terms = criterion.per_sample_terms(output, content, index)
    out_feats = criterion.vgg(output, criterion.style_layers)
    for b, i in enumerate(index.tolist()):
        style_feats = criterion.vgg(styles[i][None], criterion.style_layers)
        one = {k: v[b : b + 1] for k, v in out_feats.items()}
        expected = gram_style_loss(one, style_feats, criterion.style_layers)
        torch.testing.assert_close(terms["style"][b], expected, rtol=1e-4, atol=0)
    # per sample: sample 0's loss does not depend on the other samples of the batch
    alone = criterion.per_sample_terms(output[:1], content[:1], index[:1])
    torch.testing.assert_close(alone["style"][0], terms["style"][0], rtol=1e-5, atol=0)
    torch.testing.assert_close(alone["content"][0], terms["content"][0], rtol=1e-5, atol=0)


def test_loss_network_auto_prefers_vgg16(shared_weights, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STYLELAB_WEIGHTS", str(shared_weights))
    criterion = StyleBankCriterion("auto")
    assert criterion.arch == "vgg16" and "VGG-16" in criterion.description


def test_loss_network_auto_falls_back_to_caffe_vgg19(monkeypatch: pytest.MonkeyPatch) -> None:
    real = criterion_module.VGGEncoder

    def no_vgg16(arch: str, weights: str | None, *args: Any, **kwargs: Any) -> Any:
        if weights == "vgg16_torchvision":
            raise WeightsNotFoundError("vgg16_torchvision: not here")
        return real(arch, weights, *args, **kwargs)

    monkeypatch.setattr(criterion_module, "VGGEncoder", no_vgg16)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        criterion = StyleBankCriterion("auto")
    assert criterion.arch == "vgg19" and "fallback" in criterion.description
    assert any("VGG-16" in str(w.message) for w in caught)
