"""``backbone="vgg_r31"`` (the zoo deviation), ``configs/zoo/stylebank.yaml`` and the zoo stylize defaults."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from stylelab.cli import main, run_lightning_cli
from stylelab.methods import load_method
from stylelab.methods.stylebank import StyleBank, StyleBankNet
from stylelab.nn.pretrained_r31 import r31_decoder, r31_encoder

from ..trainer_flags import QUIET_CPU_TRAINER

REPO = Path(__file__).resolve().parents[3]
ZOO_CONFIG = REPO / "configs" / "zoo" / "stylebank.yaml"
#: The zoo recipe on generated textures (no shared data), 16 px crops, random loss VGG.
TINY = [
    *QUIET_CPU_TRAINER,
    "--data.init_args.content=GeneratedTextures",
    "--data.init_args.content.init_args.size=48",
    "--data.init_args.content.init_args.seed=5",
    "--data.init_args.style=GeneratedTextures",
    "--data.init_args.style.init_args.count=3",
    "--data.init_args.style.init_args.size=32",
    "--data.init_args.load_size=20",
    "--data.init_args.crop_size=16",
    "--data.init_args.batch_size=2",
    "--data.init_args.val_fraction=0.2",
    "--data.init_args.test_fraction=0.2",
    "--model.init_args.loss_network=null",
    "--model.init_args.style_size=24",
]


def _count(module: nn.Module, trainable: bool | None = None) -> int:
    return sum(p.numel() for p in module.parameters() if trainable is None or p.requires_grad == trainable)


def test_vgg_r31_backbone_builds_frozen_encoder_pretrained_decoder_256_channel_banks() -> None:
    net = StyleBankNet(3, kernel_size=3, backbone="vgg_r31")
    assert _count(net.encoder, trainable=True) == 0 and _count(net.encoder) > 0  # frozen
    assert _count(net.decoder, trainable=False) == 0
    assert _count(net.decoder) == _count(r31_decoder(pretrained=False)) == 555_075
    assert all(_count(bank) == 256 * 256 * 9 + 256 for bank in net.bank.banks)
    reference = r31_decoder(pretrained=True).state_dict()
    assert all(torch.equal(v, reference[k]) for k, v in net.decoder.state_dict().items())  # pretrained
    assert {p.data_ptr() for p in net.autoencoder_parameters() if p.requires_grad} == {
        p.data_ptr() for p in net.decoder.parameters()
    }  # the auto-encoder branch can only move D
    x = torch.rand(2, 3, 24, 32)
    feature = net.encoder(x)
    assert torch.equal(feature, r31_encoder()(x, ["relu3_1"])["relu3_1"])
    assert feature.shape == (2, 256, 6, 8) and net(x, 1).shape == x.shape
    net.train()
    assert not net.encoder.training and net.decoder.training
    with pytest.raises(ValueError, match="backbone"):
        StyleBankNet(1, backbone="resnet")  # type: ignore[arg-type]


def test_identity_banks_reproduce_the_autoencoder_exactly_until_trained() -> None:
    torch.manual_seed(0)
    model = StyleBank(num_styles=3, backbone="vgg_r31", loss_network=None).eval()
    net = model.net
    x = torch.rand(3, 3, 36, 44)  # not a multiple of 4: stylize pads and crops back
    with torch.no_grad():
        reconstruction = net.reconstruct(x[..., :36, :44])
        assert torch.equal(net(x, [0, 1, 2]), reconstruction)
        for k in range(3):
            assert torch.equal(net.bank(net.encoder(x), k), net.encoder(x))
        padded, _ = StyleBankNet.pad_to_multiple(x)
        assert torch.equal(model.stylize(x, styles=[2]), net.reconstruct(padded)[..., :36, :44].clamp(0, 1))
        net.bank.banks[1].weight.add_(0.01 * torch.randn_like(net.bank.banks[1].weight))
        moved = net(x, [0, 1, 2])
    assert torch.equal(moved[0], reconstruction[0]) and torch.equal(moved[2], reconstruction[2])
    assert not torch.allclose(moved[1], reconstruction[1], atol=1e-3)  # a trained bank does change it
    grown = StyleBankNet(1, backbone="vgg_r31")
    grown.bank.resize(2)  # incremental styles: new banks start as the identity too
    assert torch.equal(grown.bank.banks[1].weight, grown.bank.banks[0].weight)


def test_autoencoder_lr_gives_the_decoder_its_own_rate() -> None:
    model = StyleBank(num_styles=2, backbone="vgg_r31", loss_network=None, lr=1e-3, autoencoder_lr=1e-5)
    groups = model.configure_optimizers()["optimizer"].param_groups
    assert [g["lr"] for g in groups] == [1e-3, 1e-5]
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in model.net.bank.parameters()}
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model.net.decoder.parameters()}
    single = StyleBank(num_styles=2, c_max=16, loss_network=None, lr=1e-3).configure_optimizers()
    assert len(single["optimizer"].param_groups) == 1  # the paper recipe is unchanged


def test_zoo_config_fits_then_exports_small_and_stylizes_with_list_styles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylelab import zoo
    from stylelab.zoo.checkpoint import export_zoo_checkpoint, load_zoo_checkpoint

    monkeypatch.chdir(tmp_path)
    cli = run_lightning_cli(["--config", str(ZOO_CONFIG), *TINY, "--trainer.max_steps=3"], run=False)
    model = cli.model
    assert isinstance(model, StyleBank) and model.hparams.backbone == "vgg_r31"
    encoder = {k: v.clone() for k, v in model.net.encoder.state_dict().items()}
    decoder = {k: v.clone() for k, v in model.net.decoder.state_dict().items()}
    cli.trainer.fit(model, datamodule=cli.datamodule)
    assert list(model.recent_branches) == ["stylize", "stylize", "autoencoder"]  # Algorithm 1, T=2
    assert all(torch.equal(v, encoder[k]) for k, v in model.net.encoder.state_dict().items())
    assert any(not torch.equal(v, decoder[k]) for k, v in model.net.decoder.state_dict().items())
    eye = StyleBankNet(1, backbone="vgg_r31").bank.banks[0].weight
    sampled = {int(i) for i in model.last_style_index}
    assert all(not torch.equal(model.net.bank.banks[i].weight, eye) for i in sampled)
    assert model.style_names == ["stripes_00", "checker_01", "waves_02"]

    checkpoint = tmp_path / "last.ckpt"
    cli.trainer.save_checkpoint(checkpoint)
    # the zoo file: decoder, trained banks and thumbnails in float16; the frozen encoder and banks still at
    # their identity init are rebuilt by the constructor, not stored
    exported = export_zoo_checkpoint(checkpoint, tmp_path / "stylebank.safetensors")
    from safetensors import safe_open

    with safe_open(str(tmp_path / "stylebank.safetensors"), framework="pt") as handle:
        stored = {k: handle.get_slice(k).get_shape() for k in handle.keys()}  # noqa: SIM118
    assert not [k for k in stored if k.startswith("net.encoder")]
    assert {k for k in stored if k.startswith("net.decoder")} == {
        f"net.{k}" for k in model.net.state_dict() if k.startswith("decoder")
    }
    trained = {i for i in range(3) if not torch.equal(model.net.bank.banks[i].weight, eye)}
    assert {k.split(".")[3] for k in stored if k.startswith("net.bank")} == {str(i) for i in trained}
    assert exported["bytes"] < 2 * (len(trained) * 590_080 + 555_075) + 100_000  # float16

    # `stylelab stylize --method stylebank` without --checkpoint uses the zoo model
    monkeypatch.setattr(
        zoo, "load_zoo_method", lambda name: load_zoo_checkpoint(tmp_path / f"{name}.safetensors")
    )
    capsys.readouterr()
    assert main(["stylize", "--method", "stylebank", "--list-styles"]) == 0  # no --content/--output needed
    assert capsys.readouterr().out.splitlines() == ["0\tstripes_00", "1\tchecker_01", "2\twaves_02"]
    assert main(["stylize", "--checkpoint", str(checkpoint), "--list-styles"]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "1\tchecker_01"

    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (30, 42, 3), dtype=np.uint8)).save(tmp_path / "photo.png")
    out = tmp_path / "out"
    assert main(["stylize", "--method", "stylebank", "--content", "photo.png", "--output", str(out),
                 "--styles", "0"]) == 0  # fmt: skip
    written = np.asarray(Image.open(out / "photo__stripes_00.png"), dtype=np.float32) / 255
    trained = load_method(checkpoint)
    content = torch.from_numpy(np.asarray(Image.open(tmp_path / "photo.png"), dtype=np.float32) / 255)
    with torch.no_grad():
        expected = trained.stylize(content.permute(2, 0, 1)[None], styles=[0])[0].permute(1, 2, 0).numpy()
    assert written.shape == (30, 42, 3)
    assert np.abs(written - expected).max() < 0.03  # float16 storage and 8-bit PNG


def test_stylize_without_a_zoo_model_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stylelab import zoo

    def missing(name: str) -> None:
        raise FileNotFoundError(
            f"the model zoo has no {name} checkpoint; train it with `stylelab zoo train {name}`"
        )

    monkeypatch.setattr(zoo, "load_zoo_method", missing)
    capsys.readouterr()
    assert main(["stylize", "--method", "stylebank", "--list-styles"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["stylelab stylize: error: the model zoo has no stylebank checkpoint; train it with "
                   "`stylelab zoo train stylebank`"]  # fmt: skip
    assert (
        main(["stylize", "--method", "stylebank", "--list-styles", "--bogus"]) == 2
    )  # unknown options still fail
    assert (
        main(["stylize", "--method", "stylebank", "--styles", "0"]) == 2
    )  # inputs required without --list-styles
    assert "--content" in capsys.readouterr().err
