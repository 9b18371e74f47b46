"""Lightning plumbing of StyleBank.

Algorithm 1 with manual optimisation, the style set and incremental styles. Inference (bank selection,
fusion) lives in :mod:`.inference`, the ``stylelab stylize`` options in :mod:`.stylize_cli`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.data.errors import UnreadableImageError
from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.stylebank.criterion import CONTENT_LAYERS, STYLE_LAYERS, StyleBankCriterion
from stylelab.methods.stylebank.inference import THUMBNAIL, thumbnail
from stylelab.methods.stylebank.model import StyleBankNet
from stylelab.methods.stylebank.schedule import (
    AUTOENCODER,
    branch_at,
    gradient_size,
    reference_size,
    rescale_gradients,
)
from stylelab.methods.stylebank.stylize_cli import StyleBankStylizeCLI
from stylelab.ops import total_variation

#: Learning-rate schedules: (initial lr, decay every N steps); the decay factor is ``lr_decay_gamma``.
SCHEDULES = {
    "paper": (1e-2, 30_000),  # paper §5: Adam 0.01, ×0.8 every 30k iterations (300k in all)
    "ports": (1e-3, 10_000),  # jxcodetw / ichunyeh: Adam 1e-3, ×0.8 every 10k (a stability workaround)
}

#: Default (content, style) weights per loss network. Calibrated so both networks give the same
#: balance (the Caffe VGG-19 works on 0-255 inputs: its content MSE is ~7.5e4x and its Gram MSE ~5e8x
#: the VGG-16's on the same images); the VGG-16 style weight is the ports' per-sample equivalent
#: (distributed-stylebank: 7.5e4; the batch-folded ports' 1e6 divided by batch² = 16).
LOSS_WEIGHTS = {"vgg16": (1.0, 5e4), "vgg19": (1.3e-5, 1e-4)}

#: The paper's style images are 600 px on the long side for 512 px training crops.
STYLE_TO_CROP = 600 / 512

#: A style set larger than this is refused (every style is a 147k-parameter bank; the paper uses 50).
MAX_STYLES = 1000


def resize_long_side(image: Tensor, size: int) -> Tensor:
    """Resize ``(3, H, W)`` so that its longer side is ``size`` (antialiased bilinear, aspect kept)."""
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    target = (max(1, round(h * scale)), max(1, round(w * scale)))
    if target == (h, w):
        return image
    return F.interpolate(image[None], size=target, mode="bilinear", antialias=True, align_corners=False)[
        0
    ].clamp(0, 1)


class StyleBank(StyleBankStylizeCLI, StyleTransferMethod):
    """StyleBank (Chen et al., CVPR 2017) as a stylelab method.

    The style set is the datamodule's style source (every image, in the source's fixed order, or only
    its training split): style ``i`` gets filter bank ``i``. It is read when fitting starts, its Grams
    are computed once on the loss network, and ``num_styles``/``style_names`` are written into the
    hyper-parameters so a checkpoint rebuilds the right number of banks.

    Training follows Algorithm 1 with manual optimisation: with ``T = style_steps``, iterations
    ``0..T-1`` of every cycle of ``T + 1`` sample one style per image and update ``E``, ``D`` and the
    sampled banks with ``L_K``; iteration ``T`` updates ``E`` and ``D`` with the identity loss ``L_I``
    whose gradient is rescaled to ``λ`` times the stylising gradient's size.

    With ``base_checkpoint`` the run is **incremental**: ``E``, ``D`` and the banks of the base
    checkpoint are loaded and frozen, one new bank per image of the style source is added and only the
    new banks are trained (no auto-encoder step). The resulting checkpoint holds old and new banks.

    Args:
        num_styles: Number of banks (``None``: taken from the style set when fitting starts).
        style_names: Name of each bank (filled in when fitting starts).
        c_max: Widest channel count (paper 128; Fig. 5 also 64 and 32; ``backbone="own"`` only).
        kernel_size: Bank kernel size (paper 3; Fig. 3 also 7).
        upsample: Decoder up-sampling, ``"transposed"`` (paper) or ``"nearest"`` (ports); ``"own"`` only.
        padding: ``"reflect"`` (ports; paper silent) or ``"zero"``.
        backbone: ``"own"`` (the paper: ``E`` and ``D`` trained from scratch) or ``"vgg_r31"`` (deviation
            for CPU budgets, :mod:`.backbone`: frozen vgg_normalised relu3_1 encoder, decoder fine-tuned from
            the pretrained relu3_1 decoder, 256-channel banks initialised as the identity; ``c_max`` and
            ``upsample`` do not apply).
        loss_network: ``"auto"`` (VGG-16 if its weights resolve, else the Caffe VGG-19), a weights
            registry name, or ``None`` (random VGG-16, tests only).
        content_layers: Taps of ``L_c`` (paper: relu4_2).
        style_layers: Taps of ``L_s`` (paper: relu1_2, relu2_2, relu3_2, relu4_2).
        content_weight: ``α`` (``None``: the loss network's default, :data:`LOSS_WEIGHTS`).
        style_weight: ``β`` (``None``: the loss network's default).
        tv_weight: ``γ`` on the summed absolute neighbour differences (ports: 1e-5; paper: not given).
        style_steps: ``T`` (paper 2).
        ae_lambda: ``λ`` (paper 1).
        grad_rescale: Size used to rescale the auto-encoder gradient: ``"l2"`` (global L2 norm,
            default), ``"mean_abs"`` or ``"none"``.
        rescale_reference: ``||Δ^K||`` of the ``"last"`` stylising step or the ``"mean"`` of the cycle.
        autoencoder_branch: ``False`` trains the stylising branch only (the Fig. 6 ablation).
        schedule: ``"paper"`` (Adam 0.01, ×γ every 30k) or ``"ports"`` (Adam 1e-3, ×γ every 10k).
        lr: Overrides the schedule's learning rate.
        autoencoder_lr: Learning rate of ``E`` and ``D`` (``None``: the same as the banks). A pretrained
            decoder (``backbone="vgg_r31"``) is fine-tuned with a smaller rate than the fresh banks.
        lr_decay_every: Overrides the schedule's decay interval (steps).
        lr_decay_gamma: Decay factor (paper 0.8).
        style_size: Long side of the style images for their Grams (``None``: 600/512 of the training
            crop, the paper's 600 for 512 crops).
        style_split: ``"all"`` images of the style source or only its ``"train"`` split.
        base_checkpoint: A StyleBank checkpoint to extend with new styles (incremental training).
        seed: Seed of the per-sample style draws.
        on_nonfinite: See :class:`StyleTransferMethod`.
    """

    method_name = "stylebank"

    def __init__(
        self,
        num_styles: int | None = None,
        style_names: list[str] | None = None,
        c_max: int = 128,
        kernel_size: int = 3,
        upsample: Literal["transposed", "nearest"] = "transposed",
        padding: Literal["reflect", "zero"] = "reflect",
        backbone: Literal["own", "vgg_r31"] = "own",
        loss_network: str | None = "auto",
        content_layers: list[str] | None = None,
        style_layers: list[str] | None = None,
        content_weight: float | None = None,
        style_weight: float | None = None,
        tv_weight: float = 1e-5,
        style_steps: int = 2,
        ae_lambda: float = 1.0,
        grad_rescale: Literal["l2", "mean_abs", "none"] = "l2",
        rescale_reference: Literal["last", "mean"] = "last",
        autoencoder_branch: bool = True,
        schedule: Literal["paper", "ports"] = "paper",
        lr: float | None = None,
        autoencoder_lr: float | None = None,
        lr_decay_every: int | None = None,
        lr_decay_gamma: float = 0.8,
        style_size: int | None = None,
        style_split: Literal["all", "train"] = "all",
        base_checkpoint: str | None = None,
        seed: int = 0,
        on_nonfinite: Literal["raise", "skip"] = "raise",
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        if style_steps < 1:
            raise ValueError(f"style_steps (T) must be >= 1, got {style_steps}")
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {schedule!r}")
        if grad_rescale not in ("l2", "mean_abs", "none") or rescale_reference not in ("last", "mean"):
            raise ValueError(
                f"invalid grad_rescale={grad_rescale!r} / rescale_reference={rescale_reference!r}"
            )
        if style_split not in ("all", "train"):
            raise ValueError(f"style_split must be 'all' or 'train', got {style_split!r}")
        if style_names is not None and num_styles is not None and len(style_names) != num_styles:
            raise ValueError(f"{len(style_names)} style_names for num_styles={num_styles}")
        n = num_styles if num_styles is not None else len(style_names or [])
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.net = StyleBankNet(n, c_max, kernel_size, upsample, padding, backbone)
        self.register_buffer("style_thumbnails", torch.zeros(n, 3, THUMBNAIL, THUMBNAIL))
        self.style_names: list[str] = list(style_names or [f"style_{i}" for i in range(n)])
        self.first_trainable = 0  # banks below this index are frozen (incremental training)
        self._pending_styles: list[Tensor] = []
        self._style_norms: list[float] = []
        self._generator: torch.Generator | None = None
        self.branch_counts = {"stylize": 0, "autoencoder": 0}
        self.recent_branches: deque[str] = deque(maxlen=256)
        self.last_style_index: Tensor | None = None
        self.last_terms: dict[str, float] = {}

    # ------------------------------------------------------------------ loss network (lazy)
    @property
    def criterion(self) -> StyleBankCriterion:
        """The loss network and style-Gram cache, built on first use and kept out of checkpoints."""
        criterion = self.__dict__.get("_criterion")
        if criterion is None:
            h = self.hparams
            criterion = StyleBankCriterion(
                h.loss_network, h.content_layers or CONTENT_LAYERS, h.style_layers or STYLE_LAYERS
            )
            self.__dict__["_criterion"] = criterion
        if criterion.vgg._scale.device != self.device:
            criterion.to(self.device)
        return criterion

    def loss_weights(self) -> tuple[float, float, float]:
        """``(α, β, γ)``: the configured weights, or the loss network's defaults."""
        default_c, default_s = LOSS_WEIGHTS[self.criterion.arch]
        h = self.hparams
        return (
            default_c if h.content_weight is None else h.content_weight,
            default_s if h.style_weight is None else h.style_weight,
            h.tv_weight,
        )

    def variant(self) -> str:
        """Configuration line for tables and logs (names the loss network that actually ran)."""
        h = self.hparams
        network = self.__dict__["_criterion"].description if "_criterion" in self.__dict__ else h.loss_network
        if h.get("backbone", "own") == "vgg_r31":
            autoencoder = "backbone vgg_r31 (frozen vgg_normalised relu3_1 E, D from the pretrained decoder)"
        else:
            autoencoder = f"C_max={h.c_max}, decoder {h.upsample}"
        return (
            f"StyleBank {autoencoder}, k={h.kernel_size}x{h.kernel_size}, {self.net.num_styles} styles, "
            f"loss network {network}, T={h.style_steps}, λ={h.ae_lambda} ({h.grad_rescale})"
        )

    # ------------------------------------------------------------------ the style set
    def install_styles(self, images: Sequence[Tensor], names: Sequence[str], keep: int = 0) -> None:
        """Make ``images`` the trainable styles, after the first ``keep`` (frozen) banks.

        Banks ``0..keep-1`` are kept as they are; banks ``keep..keep+len(images)-1`` are (re)initialised
        unless they already exist; the Grams of ``images`` are computed once, on first use.

        Args:
            images: ``(3, H_i, W_i)`` RGB [0, 1] style images (already at the Gram resolution).
            names: One name per image.
            keep: Number of existing banks to keep in front (incremental training).
        """
        if len(images) != len(names) or not images:
            raise ValueError(
                f"need one name per style image and at least one style; got {len(images)}/{len(names)}"
            )
        total = keep + len(images)
        self.net.bank.resize(total)
        thumbs = torch.cat([thumbnail(image[None].float()) for image in images]).to(
            self.style_thumbnails.device
        )
        self.style_thumbnails = torch.cat([self.style_thumbnails[:keep], thumbs])
        self.style_names = [*self.style_names[:keep], *names]
        self.first_trainable = keep
        self._pending_styles = [image.detach().cpu() for image in images]
        self.hparams["num_styles"] = total
        self.hparams["style_names"] = list(self.style_names)

    def _ensure_style_grams(self) -> None:
        if self._pending_styles:
            self.criterion.cache_styles(self._pending_styles)
            self._pending_styles = []
        elif self.criterion.num_cached == 0:
            raise RuntimeError(
                "StyleBank has no style set to train on: fit with a StyleTransferDataModule (its style "
                "source is the style set) or call install_styles()"
            )

    def _style_images_from(self, datamodule: Any) -> tuple[list[Tensor], list[str]]:
        source = datamodule.style_source
        keys = source.keys()
        if self.hparams.style_split == "train":
            indices = datamodule.splits["pairs" if getattr(datamodule, "paired", False) else "style"]["train"]
        else:
            indices = list(range(len(keys)))
        if len(indices) > MAX_STYLES:
            raise ValueError(
                f"the style source has {len(indices)} images but every StyleBank style is a filter bank "
                f"(the paper trains 50); use a style folder of at most {MAX_STYLES} images"
            )
        size = self.hparams.style_size
        if size is None:
            crop = getattr(getattr(datamodule, "train_transform", None), "crop_size", None)
            size = round(STYLE_TO_CROP * crop) if crop else 600
        images, names = [], []
        for i in indices:
            try:
                image = source.load(i)
            except UnreadableImageError as error:
                self.print(f"StyleBank: style image {keys[i]} skipped ({error})")
                continue
            images.append(resize_long_side(image, size))
            names.append(keys[i])
        if not images:
            raise ValueError(
                "the datamodule's style source has no readable image: StyleBank needs a style set"
            )
        return images, names

    def setup(self, stage: str) -> None:
        """On ``fit``: read the style set from the datamodule (and the base checkpoint if incremental)."""
        if stage != "fit":
            return
        datamodule = getattr(self.trainer, "datamodule", None)
        if datamodule is None or not hasattr(datamodule, "style_source"):
            if self._pending_styles or self.criterion.num_cached:
                return  # styles installed by hand
            raise ValueError(
                "StyleBank trains on the style set of a StyleTransferDataModule; pass datamodule="
            )
        images, names = self._style_images_from(datamodule)
        if self.hparams.base_checkpoint:
            keep = self._load_base(self.hparams.base_checkpoint)
        else:
            keep = 0
            configured = self.hparams.num_styles
            if configured not in (None, 0) and configured != len(images):
                raise ValueError(
                    f"this StyleBank has {configured} banks but the style source has {len(images)} readable "
                    "images; to add styles to a trained model use base_checkpoint= (incremental training)"
                )
        self.install_styles(images, names, keep)
        shown = ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")
        self.print(
            f"StyleBank: {len(images)} trainable style(s) ({shown}); "
            f"loss network: {self.criterion.description}"
        )

    def _load_base(self, path: str) -> int:
        """Load and freeze ``E``, ``D`` and the banks of a base checkpoint; returns its number of banks."""
        if not Path(path).is_file():
            raise FileNotFoundError(f"base_checkpoint {path} does not exist (train a StyleBank first)")
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        if checkpoint.get("stylelab_method") != self.method_name:
            raise ValueError(f"base_checkpoint {path} was not written by StyleBank")
        base = checkpoint.get("hyper_parameters", {})
        defaults = {
            "c_max": 128,
            "kernel_size": 3,
            "upsample": "transposed",
            "padding": "reflect",
            "backbone": "own",
        }
        wrong = {
            k: (base.get(k, d), self.hparams[k])
            for k, d in defaults.items()
            if base.get(k, d) != self.hparams[k]
        }
        if wrong:
            raise ValueError(f"base_checkpoint {path} has a different architecture (base, this run): {wrong}")
        state = checkpoint["state_dict"]
        keep = int(state["style_thumbnails"].shape[0])
        self.net.bank.resize(keep)
        self.style_thumbnails = torch.zeros_like(state["style_thumbnails"]).to(self.style_thumbnails.device)
        own = {k: v for k, v in state.items() if k.startswith("net.")}
        self.load_state_dict({**own, "style_thumbnails": state["style_thumbnails"]}, strict=True)
        self.style_names = list(base.get("style_names") or [f"style_{i}" for i in range(keep)])
        for module in (self.net.encoder, self.net.decoder, self.net.bank):
            module.requires_grad_(False)
        return keep

    def install_base_for_incremental(self, path: str, images: Sequence[Tensor], names: Sequence[str]) -> None:
        """Incremental set-up without a trainer: load and freeze ``path``, add ``images`` as new banks."""
        keep = self._load_base(path)
        self.install_styles(images, names, keep)

    def on_fit_start(self) -> None:
        """Compute the style Grams once, on the training device."""
        self._ensure_style_grams()

    # ------------------------------------------------------------------ training (Algorithm 1)
    def configure_optimizers(self) -> Any:
        """Adam on every trainable parameter with step decay (paper: 0.01, ×0.8 every 30k).

        With ``autoencoder_lr``, two parameter groups: the banks at ``lr``, ``E``/``D`` at ``autoencoder_lr``.
        """
        h = self.hparams
        base_lr, every = SCHEDULES[h.schedule]
        lr = base_lr if h.lr is None else h.lr
        every = every if h.lr_decay_every is None else h.lr_decay_every
        params = [p for p in self.net.parameters() if p.requires_grad]
        if not params:
            raise ValueError("StyleBank has nothing to train (every parameter is frozen)")
        if h.get("autoencoder_lr") is None:
            optimizer = torch.optim.Adam(params, lr=lr)
        else:  # banks first: param_groups[0]["lr"] is the logged rate
            autoencoder = {id(p) for p in self.net.autoencoder_parameters()}
            groups = [
                {"params": [p for p in params if id(p) not in autoencoder], "lr": lr},
                {"params": [p for p in params if id(p) in autoencoder], "lr": h.autoencoder_lr},
            ]
            optimizer = torch.optim.Adam([g for g in groups if g["params"]], lr=lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=every, gamma=h.lr_decay_gamma)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

    def sample_styles(self, batch_size: int) -> Tensor:
        """One uniformly drawn trainable style per sample, ``(B,)`` int64 (Algorithm 1's ``Y``)."""
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(self.hparams.seed + self.global_rank)
        high = self.net.num_styles
        if high <= self.first_trainable:
            raise RuntimeError("StyleBank has no trainable style")
        return torch.randint(self.first_trainable, high, (batch_size,), generator=self._generator)

    def current_branch(self) -> str:
        """Branch of the next optimizer step (incremental runs only stylise)."""
        with_autoencoder = self.hparams.autoencoder_branch and self.first_trainable == 0
        return branch_at(self.global_step, self.hparams.style_steps, with_autoencoder)

    def stylizing_loss(self, content: Tensor, style_index: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``L_K`` of a batch with one style per sample, and its named terms."""
        output = self.net(content, style_index.to(self.device))
        terms = self.criterion.stylizing_terms(output, content, style_index - self.first_trainable)
        alpha, beta, gamma = self.loss_weights()
        total = alpha * terms["content"] + beta * terms["style"] + gamma * terms["tv"]
        return total, terms

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        """One iteration of Algorithm 1 (stylising or auto-encoder step, by the step counter)."""
        self._ensure_style_grams()
        optimizer = self.optimizers()
        content = batch["content"]
        branch = self.current_branch()
        ed_params = [p for p in self.net.autoencoder_parameters() if p.requires_grad]
        if branch == AUTOENCODER:
            total = self.criterion.identity(self.net.reconstruct(content), content)
            terms = {"identity": total}
            loss = self.checked_loss(total, terms)
        else:
            style_index = self.sample_styles(content.shape[0])
            self.last_style_index = style_index
            total, terms = self.stylizing_loss(content, style_index)
            terms = {"loss": total, **terms}
            loss = self.checked_loss(total, terms)
        self.last_terms = {name: float(value.detach()) for name, value in terms.items()}
        optimizer.zero_grad()
        if loss is None:
            return None
        self.manual_backward(loss)
        mode = self.hparams.grad_rescale
        if branch == AUTOENCODER:
            target = self.hparams.ae_lambda * reference_size(
                self._style_norms, self.hparams.rescale_reference
            )
            factor = rescale_gradients(ed_params, target, mode)
            self.log("train/ae_grad_scale", factor)
            self._style_norms = []
        elif ed_params:
            size = float(gradient_size(ed_params, "l2" if mode == "none" else mode))
            self._style_norms.append(size)
            self.log("train/style_grad_size", size)
        optimizer.step()
        scheduler = self.lr_schedulers()
        if scheduler is not None:
            scheduler.step()
        self.branch_counts[branch] += 1
        self.recent_branches.append(branch)
        self.log("train/lr", optimizer.param_groups[0]["lr"])
        return loss.detach()

    # ------------------------------------------------------------------ evaluation
    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Identity loss, and ``L_K`` against the pair's style image with the bank it selects."""
        content, style = batch["content"], batch["style"]
        padded, (h, w) = StyleBankNet.pad_to_multiple(content)
        index = self.match_styles(style)
        output = self.net(padded, index)[..., :h, :w]
        criterion = self.criterion
        alpha, beta, gamma = self.loss_weights()
        content_loss = criterion.content_loss(output, content)
        style_loss = criterion.style_loss_to_images(output, style)
        total = alpha * content_loss + beta * style_loss + gamma * total_variation(output, "sum").mean()
        identity = criterion.identity(self.net.reconstruct(padded)[..., :h, :w], content)
        size = content.shape[0]
        self.log("val/loss", total, prog_bar=True, batch_size=size)
        self.log("val/content", content_loss, batch_size=size)
        self.log("val/style", style_loss, batch_size=size)
        self.log("val/identity", identity, batch_size=size)

    test_step = validation_step


__all__ = ["LOSS_WEIGHTS", "SCHEDULES", "StyleBank"]
