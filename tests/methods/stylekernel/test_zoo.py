"""The zoo CPU recipe of SK: relu3_1, pretrained decoder, moment-skip kernels, no D, stylize default."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

import stylelab.zoo
from stylelab.cli import main, run_lightning_cli
from stylelab.methods.stylekernel import StyleKernel, StyleKernelNet
from stylelab.methods.stylekernel.objective import generator_objective
from stylelab.nn.pretrained_r31 import r31_decoder, r31_encoder
from stylelab.ops import adain, instance_normalize
from stylelab.zoo.checkpoint import export_zoo_checkpoint, load_zoo_checkpoint

from ..trainer_flags import QUIET_CPU_TRAINER

ZOO_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "zoo" / "stylekernel.yaml"
R31 = {"encoder_arch": "vgg19", "encoder_weights": "vgg19_normalised_r31", "feature_layer": "relu3_1"}


def _net(**options: object) -> StyleKernelNet:
    return StyleKernelNet(**R31, encoder_last_tap="relu3_1", decoder_init="pretrained_r31", **options)  # type: ignore[arg-type]


@pytest.fixture
def pair() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    content = F.avg_pool2d(torch.rand(2, 3, 48, 48, generator=g), 3, 1, 1)  # smooth-ish, like photos
    return content, torch.rand(2, 3, 40, 32, generator=g)


def test_pretrained_decoder_init_reproduces_the_shipped_pair() -> None:
    net = _net()
    shipped = r31_decoder(pretrained=True).state_dict()
    assert net.decoder.state_dict().keys() == shipped.keys()
    for key, value in shipped.items():
        assert torch.equal(net.decoder.state_dict()[key], value), key
    assert all(p.requires_grad for p in net.decoder.parameters())  # fine-tuned, not frozen
    for key, value in r31_encoder().state_dict().items():  # the encoder the decoder was trained on
        assert torch.equal(net.encoder.state_dict()[key], value), key
    assert net.encoder.padding == "reflect"
    random = StyleKernelNet(**R31, encoder_last_tap="relu3_1")  # type: ignore[arg-type]
    assert not torch.equal(random.decoder.net[0].weight, shipped["net.0.weight"])


def test_pretrained_decoder_rejects_another_encoder_and_unknown_options() -> None:
    with pytest.raises(ValueError, match="inverts relu3_1"):
        StyleKernelNet(encoder_weights=None, decoder_init="pretrained_r31")
    with pytest.raises(ValueError, match="decoder_init"):
        StyleKernelNet(encoder_weights=None, decoder_init="imagenet")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kernel_skip"):
        StyleKernelNet(encoder_weights=None, kernel_skip="adain")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="architecture='style_kernel'"):
        StyleKernelNet(encoder_weights=None, architecture="sanet", kernel_skip="style_moments")
    with pytest.raises(ValueError, match="stops at relu3_1"):
        StyleKernel(**R31, decoder_init="pretrained_r31")  # paper loss taps go to relu5_1


def test_style_moment_skip_starts_as_adain_and_reconstructs_itself(
    pair: tuple[torch.Tensor, torch.Tensor],
) -> None:
    """At init the output is decode(AdaIN(Z_c, Z_s)) exactly, and transfer(Z_c, Z_c) = Z_c."""
    content, style = pair
    net = _net(kernel_skip="style_moments", group_shuffle=False).eval()
    with torch.no_grad():
        zc, zs = net.encode(content), net.encode(style)
        expected = net.decoder(adain(zc, zs, eps=1e-5, unbiased=False))
        torch.testing.assert_close(net(content, style), expected, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(net.transfer(zc, zc).feature, zc, atol=1e-4, rtol=1e-4)
        assert (expected - net.decoder(zc)).abs().max() > 0.05  # stylised, not the content's reconstruction


def test_attention_moment_skip_starts_as_attention_weighted_adain(
    pair: tuple[torch.Tensor, torch.Tensor],
) -> None:
    """At init ``Zbar = sigma_A IN(Z_c) + mu_A`` with the attention's weighted mean and std (explicit)."""
    content, style = pair
    net = _net(kernel_skip="attention_moments", group_shuffle=False, cgm=False, alpha=7.0).eval()
    with torch.no_grad():
        zc, zs = net.encode(content), net.encode(style)
        q, k = F.normalize(zc.flatten(2), dim=1), F.normalize(zs.flatten(2), dim=1)
        attn = torch.softmax(7.0 * q.transpose(1, 2) @ k, dim=-1)  # (B, N_c, N_s)
        values = zs.flatten(2)
        mean = (values @ attn.transpose(1, 2)).view_as(zc)
        second = (values.square() @ attn.transpose(1, 2)).view_as(zc)
        std = (second - mean.square()).clamp_min(0).add(1e-5).sqrt()
        expected = std * instance_normalize(zc, eps=1e-5, unbiased=False) + mean
        transfer = net.transfer(zc, zs)
        torch.testing.assert_close(transfer.feature, expected, atol=1e-3, rtol=1e-4)
        torch.testing.assert_close(transfer.aligned, mean, atol=1e-4, rtol=1e-4)
        assert (std - zs.std(dim=(2, 3), keepdim=True)).abs().max() > 0.1  # local, not global moments


def test_skip_kernels_get_gradient_and_move_from_their_start(pair: tuple[torch.Tensor, torch.Tensor]) -> None:
    content, style = pair
    model = StyleKernel(
        **R31,
        decoder_init="pretrained_r31",
        kernel_skip="style_moments",
        group_shuffle=False,
        adv_weight=0.0,
        style_layers=["relu1_1", "relu2_1", "relu3_1"],
        content_layers=["relu3_1"],
        reconstruction_layers=["relu2_1", "relu3_1"],
        remd_layers=["relu3_1"],
        remd_samples=64,
    )
    net = model.net
    step = generator_objective(net, content, style, model.objective)
    step.total.backward()
    assert net.kernels is not None
    last = net.kernels.net[-1]
    assert torch.count_nonzero(last.weight) == 0 and last.weight.grad is not None
    assert last.weight.grad.abs().sum() > 0  # the zero-initialised output conv learns


def test_no_discriminator_without_adversarial_term_and_decoder_lr() -> None:
    model = StyleKernel(encoder_weights=None, adv_weight=0.0, decoder_lr=1e-6, lr=1e-4)
    assert model.discriminator is None
    optimizers, schedulers = model.configure_optimizers()
    assert len(optimizers) == len(schedulers) == 1
    groups = optimizers[0].param_groups
    assert [g["lr"] for g in groups] == [1e-4, 1e-6]
    decoder = {id(p) for p in model.net.decoder.parameters()}
    assert {id(p) for p in groups[1]["params"]} == decoder
    assert not decoder & {id(p) for p in groups[0]["params"]}
    assert sum(len(g["params"]) for g in groups) == len(model.net.trainable_parameters())
    assert StyleKernel(encoder_weights=None, disc_width=8).discriminator is not None  # paper default kept


TINY = [
    *QUIET_CPU_TRAINER,
    "--trainer.max_steps=2",
    "--data.init_args.content=GeneratedTextures",
    "--data.init_args.content.init_args.count=4",
    "--data.init_args.content.init_args.size=40",
    "--data.init_args.style=GeneratedTextures",
    "--data.init_args.style.init_args.count=4",
    "--data.init_args.style.init_args.size=40",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.batch_size=2",
    "--model.init_args.remd_samples=16",
]


def test_zoo_config_is_the_intended_recipe() -> None:
    config = yaml.safe_load(ZOO_CONFIG.read_text())
    data = config["data"]["init_args"]
    assert data["content"] == {"class_path": "stylelab.zoo.splits.ZooSplit", "init_args": {"kind": "photos"}}
    assert data["style"] == {"class_path": "stylelab.zoo.splits.ZooSplit", "init_args": {"kind": "paintings"}}
    assert 128 <= data["crop_size"] <= 192
    model = config["model"]["init_args"]
    assert model["decoder_init"] == "pretrained_r31" and model["kernel_skip"] == "style_moments"
    assert model["adv_weight"] == 0.0 and model["group_shuffle"] is False
    assert config["trainer"]["default_root_dir"] == "outputs/zoo/stylekernel"


def test_zoo_config_trains_through_the_cli_and_exports_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`stylelab fit --config configs/zoo/stylekernel.yaml`: 2 G steps (no D), checkpoint every 50 steps."""
    monkeypatch.chdir(tmp_path)
    cli = run_lightning_cli(["--config", str(ZOO_CONFIG), *TINY], run=False)
    model = cli.model
    assert isinstance(model, StyleKernel) and model.discriminator is None
    checkpoint = cli.trainer.checkpoint_callback
    assert checkpoint is not None and checkpoint.save_last
    assert Path(checkpoint.dirpath) == tmp_path / "outputs" / "zoo" / "stylekernel" / "checkpoints"
    assert checkpoint._every_n_train_steps == 50
    assert model.net.kernels is not None
    before = {k: v.clone() for k, v in model.net.state_dict().items()}
    cli.trainer.fit(model, datamodule=cli.datamodule)
    assert int(model.generator_steps) == 2 and cli.trainer.global_step == 2  # every optimizer step is G
    after = model.net.state_dict()
    assert torch.count_nonzero(after["kernels.net.2.weight"]) > 0  # SKG left its AdaIN start
    assert not torch.equal(after["decoder.net.0.weight"], before["decoder.net.0.weight"])  # decoder tuned
    for key in (k for k in before if k.startswith("encoder.")):
        assert torch.equal(after[key], before[key]), key  # frozen
    trainable = sum(p.numel() for p in model.net.trainable_parameters())
    assert trainable <= 4_000_000
    last = tmp_path / "outputs" / "zoo" / "stylekernel" / "checkpoints" / "last.ckpt"
    info = export_zoo_checkpoint(last, tmp_path / "sk.safetensors")
    assert info["bytes"] <= 8 * 2**20 and info["parameters"] <= trainable + 16  # no encoder, no D
    reloaded = load_zoo_checkpoint(tmp_path / "sk.safetensors")
    content, style = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    expected = model.eval().stylize(content, style)
    torch.testing.assert_close(reloaded.stylize(content, style), expected, atol=2e-2, rtol=0)  # float16


def test_stylize_without_checkpoint_uses_the_zoo_and_reports_a_missing_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls: list[str] = []
    sentinel = object()

    def shipped(name: str) -> object:
        calls.append(name)
        return sentinel

    monkeypatch.setattr(stylelab.zoo, "load_zoo_method", shipped)
    assert StyleKernel.from_stylize_options(argparse.Namespace()) is sentinel and calls == ["stylekernel"]

    def missing(name: str) -> object:
        raise FileNotFoundError(f"the model zoo has no {name} checkpoint; train it")

    monkeypatch.setattr(stylelab.zoo, "load_zoo_method", missing)
    with pytest.raises(FileNotFoundError, match="no stylekernel checkpoint"):
        StyleKernel.from_stylize_options(argparse.Namespace())
    image = tmp_path / "a.png"
    from PIL import Image

    Image.new("RGB", (16, 16), (120, 30, 200)).save(image)
    args = ["stylize", "--method", "stylekernel", "--content", str(image), "--style", str(image)]
    assert main([*args, "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["stylelab stylize: error: the model zoo has no stylekernel checkpoint; train it"]
