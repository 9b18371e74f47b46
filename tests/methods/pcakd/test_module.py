from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from stylelab.data import GeneratedTextures, StyleTransferDataModule
from stylelab.methods import load_method
from stylelab.methods.base import METHODS
from stylelab.methods.pcakd import PCAKD
from stylelab.methods.pcakd.eigenbases import centre, covariance_sum, principal_angles, top_eigenvectors
from stylelab.methods.pcakd.module import split_steps


def _data() -> StyleTransferDataModule:
    # small generated images (no file decoding); 2 steps per epoch (4 samples, batch 2)
    return StyleTransferDataModule(
        content=GeneratedTextures(count=10, size=40, seed=1),
        style=GeneratedTextures(count=10, size=40, seed=2),
        load_size=None,
        crop_size=32,
        eval_size=32,
        batch_size=2,
        samples_per_epoch=4,
    )


def _trainer(max_steps: int, root: Path, checkpoint: bool = False) -> L.Trainer:
    callbacks = [ModelCheckpoint(dirpath=root, save_last=True, every_n_epochs=1)] if checkpoint else []
    return L.Trainer(
        max_steps=max_steps,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=checkpoint,
        callbacks=callbacks,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=0,
        default_root_dir=root,
    )


def _model(**kwargs: object) -> PCAKD:
    defaults: dict[str, object] = {"teacher_weights": None, "pretrained": None, "lr": 1e-3, "eigen_lr": 1e-2}
    return PCAKD(**(defaults | kwargs))  # type: ignore[arg-type]


def _snapshot(model: PCAKD) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.net.autoencoder.state_dict().items()}


def test_registered_and_stage_split() -> None:
    assert METHODS["pcakd"] is PCAKD
    assert split_steps(5500, [10, 15, 10, 10, 10]) == [1000, 1500, 1000, 1000, 1000]
    assert split_steps(7, [10, 15, 10, 10, 10]) == [2, 2, 1, 1, 1]  # largest remainders, ties first
    assert split_steps(4, [0, 1, 1, 1, 1]) == [0, 1, 1, 1, 1]
    model = _model(stage_steps=[2, 1, 1, 1, 1])
    assert [model.stage_at(s) for s in range(7)] == [0, 0, 1, 2, 3, 4, 4]
    exact = _model(stage_steps=[2, 1, 1, 1, 1], eigen_solver="exact")
    assert exact.stage_ends() == [0, 1, 2, 3, 4]  # no gradient stage for the exact solver


def test_one_fit_runs_every_stage_and_each_stage_moves_only_its_parameters(tmp_path: Path) -> None:
    model = _model(stage_steps=[1, 1, 1, 1, 1])
    ae = model.net.autoencoder
    groups = {"eigenbases": [n for n, _ in ae.named_parameters() if n.startswith("eigenbases")]}
    for n in range(1, 5):
        ids = {id(p) for p in ae.block_parameters(n)}
        groups[f"block{n}"] = [name for name, p in ae.named_parameters() if id(p) in ids]
    changed_per_stage: list[set[str]] = []

    class Recorder(L.Callback):
        def __init__(self) -> None:
            self.previous = _snapshot(model)

        def on_train_batch_end(self, *args: object) -> None:
            now = _snapshot(model)
            changed_per_stage.append({k for k in now if not torch.equal(now[k], self.previous[k])})
            self.previous = now

    trainer = _trainer(5, tmp_path)
    trainer.callbacks.append(Recorder())
    trainer.fit(model, datamodule=_data())
    for stage, changed in zip(
        ("eigenbases", "block1", "block2", "block3", "block4"), changed_per_stage, strict=True
    ):
        assert changed == set(groups[stage]), stage
    assert "preprocess.weight" not in {k.split("encoder.")[-1] for c in changed_per_stage for k in c}


def test_resume_from_checkpoint_continues_in_the_right_stage(tmp_path: Path) -> None:
    schedule = [2, 1, 1, 1, 1]  # eigenbases 0-1, block1 2, block2 3, block3 4, block4 5
    first = _model(stage_steps=schedule)
    _trainer(4, tmp_path / "b", checkpoint=True).fit(first, datamodule=_data())  # stops after block2
    checkpoint = tmp_path / "b" / "last.ckpt"
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["global_step"] == 4
    adam_steps = [[float(s["step"]) for s in o["state"].values()] for o in saved["optimizer_states"]]
    assert [set(steps) for steps in adam_steps] == [{2.0}, {1.0}, {1.0}, set(), set()]

    resumed = _model(stage_steps=schedule)
    trainer = _trainer(6, tmp_path / "c")
    trainer.fit(resumed, datamodule=_data(), ckpt_path=str(checkpoint))
    assert resumed.global_step == 6
    before = {k.removeprefix("net.autoencoder."): v for k, v in saved["state_dict"].items()}
    after = _snapshot(resumed)
    moved = {k for k in after if not torch.equal(after[k], before[k])}
    ae = resumed.net.autoencoder
    later = {id(p) for n in (3, 4) for p in ae.block_parameters(n)}
    assert moved == {name for name, p in ae.named_parameters() if id(p) in later}
    # every optimiser state was restored, not reset: earlier stages keep their Adam step counts
    resumed_steps = [{float(s["step"]) for s in o.state.values()} for o in trainer.optimizers]
    assert resumed_steps == [{2.0}, {1.0}, {1.0}, {1.0}, {1.0}]
    # and the checkpoint rebuilds without pickle
    restored = load_method(checkpoint)
    assert isinstance(restored, PCAKD) and restored.stage_at(4) == 3
    torch.testing.assert_close(
        restored.net.autoencoder.state_dict()["eigenbases.bases.0"], before["eigenbases.bases.0"]
    )


def test_exact_solver_sets_the_averaged_covariance_eigenvectors(tmp_path: Path) -> None:
    model = _model(eigen_solver="exact", eigen_batches=2, stage_steps=[0, 1, 0, 0, 0])
    data = _data()
    _trainer(1, tmp_path).fit(model, datamodule=data)
    assert bool(model.eigen_fitted)
    # same images, closed form
    batches = list(data.train_dataloader())[:2]
    images = torch.cat([b["content"] for b in batches])
    feats = model.net.teacher().features(images, 4)
    for n in range(1, 5):
        basis = model.net.autoencoder.eigenbases[n]
        torch.testing.assert_close(basis.T @ basis, torch.eye(basis.shape[1]), atol=1e-5, rtol=0)
        if n == 4:
            continue  # 4 images x 4x4 positions: relu4_1's covariance has rank 60 < 64, no unique subspace
        exact, values = top_eigenvectors(
            covariance_sum(centre(feats[n - 1])) / images.shape[0], basis.shape[1]
        )
        assert values[basis.shape[1] - 1] > 1.01 * values[basis.shape[1]]  # an eigen-gap: unique subspace
        assert principal_angles(basis, exact).max() < 1e-3


def test_stylize_any_size_masks_and_guided_filter() -> None:
    model = _model()
    content, style = torch.rand(1, 3, 37, 45), torch.rand(1, 3, 29, 31)
    out = model.stylize(content, style)
    assert out.shape == content.shape and 0 <= out.min() and out.max() <= 1
    mask_c, mask_s = torch.zeros(1, 37, 45, dtype=torch.long), torch.zeros(1, 29, 31, dtype=torch.long)
    torch.testing.assert_close(model.stylize(content, style, content_mask=mask_c, style_mask=mask_s), out)
    filtered = model.stylize(content, style, guided_filter=True)
    assert filtered.shape == out.shape and not torch.allclose(filtered, out)
    with pytest.raises(TypeError, match="unknown"):
        model.stylize(content, style, alpha=0.5)
    mobile = _model(backbone="mobilenet")
    assert mobile.stylize(content, style).shape == content.shape  # padded to a multiple of 16 inside


def test_variant_names_every_choice() -> None:
    text = _model(widths=[16, 32, 64, 128], eigen_solver="exact").variant()
    assert "[16, 32, 64, 128]" in text and "exact" in text and "guided filter off" in text
    assert "caffe input map, blocks by adam" in text
    assert (
        "random input map, blocks by lbfgs, data init"
        in _model(student_preprocess="random", block_optimizer="lbfgs", block_init="data").variant()
    )
    assert "no eigenbases" in _model(backbone="vgg_teacher").variant()
