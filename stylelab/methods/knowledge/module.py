"""Lightning plumbing for knowledge transfer: decoder training, library switching, stylize hooks.

Only the decoder is trained (reconstruction, paper Eq. 8). Libraries are not part of the checkpoint:
they live under the library root and are switched by name at inference (``library=``, or
``--library`` on ``stylelab stylize``) without retraining; the checkpoint records the encoder layer
and weights so a library built on other features is refused.
"""

from __future__ import annotations

import argparse
import hashlib
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from stylelab.methods.base import StyleTransferMethod
from stylelab.methods.knowledge import stylize_cli
from stylelab.methods.knowledge.backtrack import backtrack_record
from stylelab.methods.knowledge.encoder import DEFAULT_LAYER, EncoderSpec, resolve_encoder_weights
from stylelab.methods.knowledge.index import (
    DEFAULT_BANDS,
    PatchIndex,
    TreeIndex,
    make_index,
    probe_label,
    unit_rows,
)
from stylelab.methods.knowledge.library import (
    MANIFEST,
    BuildSettings,
    KnowledgeLibrary,
    build_library,
    combine_libraries,
    load_library,
)
from stylelab.methods.knowledge.model import (
    Align,
    DecoderKind,
    KnowledgeTransferNet,
    Matches,
    check_pretrained_encoder,
)
from stylelab.methods.knowledge.storage import LibraryError
from stylelab.methods.knowledge.stylize_cli import split_names
from stylelab.methods.knowledge.transfer import Swap
from stylelab.methods.knowledge.tree import Tree
from stylelab.nn.pretrained_r31 import ENCODER_WEIGHTS as PRETRAINED_ENCODER

ReconLoss = Literal["l1", "smooth_l1", "mse"]
SearchKind = Literal["bhkm", "hkm", "exact", "faiss_flat", "pq"]

#: :meth:`KnowledgeTransfer.pretrained_r31`: the shipped decoder and the swap chosen for it.
PRETRAINED_R31_SETTINGS: dict[str, Any] = {
    "decoder": "pretrained_r31",
    "encoder_weights": PRETRAINED_ENCODER,
    "layer": "relu3_1",
    "swap": "statistics",
    "align": "wct",
}


def reconstruction_loss(output: Tensor, target: Tensor, kind: ReconLoss = "l1") -> Tensor:
    """Pixel reconstruction loss: ``l1`` (paper Eq. 8), ``smooth_l1`` (reference code, beta 1), ``mse``."""
    if kind == "l1":
        return F.l1_loss(output, target)
    if kind == "smooth_l1":
        return F.smooth_l1_loss(output, target, beta=1.0)
    if kind == "mse":
        return F.mse_loss(output, target)
    raise ValueError(f"recon_loss must be 'l1', 'smooth_l1' or 'mse'; got {kind!r}")


class KnowledgeTransfer(StyleTransferMethod):
    """Knowledge transfer with BHKM search (Chen et al. 2020) as a stylelab method.

    Args:
        encoder_weights: VGG-19 weights: ``"auto"`` (``vgg19_normalised_r31``, exact vgg_normalised to
            relu3_1, when found, else ``vgg19_caffe_q8``; the checkpoint records which), a registry
            name (``vgg19_caffe_q8`` for relu3_2), or ``None`` (random, tests only).
        layer: Feature layer (paper ``relu3_1``, reference code ``relu3_2``).
        window: Window side on the feature map (code 4).
        query_stride: Content window stride (code 2).
        library_stride: Window stride when a library is built from ``style`` images on the fly (1).
        style_size: Shorter side of style images in on-the-fly libraries (code 512).
        dedup_threshold: NCC de-duplication threshold for on-the-fly libraries (0.9).
        dedup_rule: ``"earlier"`` (code) or ``"kept"`` (greedy).
        library: Default library name(s) for :meth:`stylize` (comma-separated to combine); ``None``
            means "build one from the style image".
        search: ``bhkm`` (paper), ``hkm``, ``exact``, ``faiss_flat`` or ``pq``.
        clusters: Tree branching factor K (code 10).
        depth: Tree depth (code 2).
        bands: Haar bands BHKM matches on (code LL, LH, HL).
        probes: Leaves visited per query (1 = paper), or one beam width per tree level (top level
            first, e.g. ``[8, 16]``; beyond the paper).
        rerank: Re-rank this many band candidates per leaf on full vectors (0 = paper).
        swap: ``"statistics"`` (Eq. 7, reference code default) or ``"geometric"`` (Eq. 6).
        stat_eps: Statistics-swap epsilon (code 2e-5).
        align: ``"none"`` (paper) or ``"adain"`` (beyond the paper: give the content features the
            library's per-channel mean and std before searching; the ``pretrained_r31`` variant's choice).
        recon_loss: ``l1`` (paper), ``smooth_l1`` (code) or ``mse``.
        lr: Adam learning rate (1e-4).
        residual_blocks: Decoder residual blocks (5; ``kt`` decoder).
        decoder: ``"kt"`` (the reference code's SELU decoder, trained with ``stylelab fit``; random
            until then) or ``"pretrained_r31"`` (the shipped decoder of ``vgg19_normalised_r31`` at
            relu3_1: real pictures with no training; needs ``encoder_weights`` ``auto`` or
            ``vgg19_normalised_r31`` and ``layer="relu3_1"``, and libraries of those features).
        train_on_style: Also reconstruct the batch's style images (code: 2 content + 2 style).
        libraries_root: Library root (default ``$STYLELAB_LIBRARIES`` or the user data folder).
        on_nonfinite: See :class:`StyleTransferMethod`.
    """

    method_name = "knowledge"
    #: On-the-fly libraries (with their built indexes) kept for style tensors seen again by :meth:`stylize`
    #: (e.g. the zoo floor's photos x paintings): one build per painting instead of one per pair.
    style_cache_size: int = 8

    def __init__(
        self,
        encoder_weights: str | None = "auto",
        layer: str = DEFAULT_LAYER,
        window: int = 4,
        query_stride: int = 2,
        library_stride: int = 1,
        style_size: int | None = 512,
        dedup_threshold: float = 0.9,
        dedup_rule: Literal["earlier", "kept"] = "earlier",
        library: str | None = None,
        search: SearchKind = "bhkm",
        clusters: int = 10,
        depth: int = 2,
        bands: list[str] | None = None,
        probes: int | list[int] = 1,
        rerank: int = 0,
        swap: Swap = "statistics",
        stat_eps: float = 2e-5,
        align: Align = "none",
        recon_loss: ReconLoss = "l1",
        lr: float = 1e-4,
        residual_blocks: int = 5,
        decoder: DecoderKind = "kt",
        train_on_style: bool = True,
        libraries_root: str | None = None,
        on_nonfinite: Literal["raise", "skip"] = "raise",
    ) -> None:
        super().__init__(on_nonfinite=on_nonfinite)
        self.save_hyperparameters()
        reconstruction_loss(torch.zeros(1), torch.zeros(1), recon_loss)  # validates the name early
        if decoder == "pretrained_r31" and encoder_weights == "auto":
            encoder_weights = PRETRAINED_ENCODER  # shipped: never the caffe fallback
        encoder_weights = resolve_encoder_weights(encoder_weights, layer)
        self.hparams["encoder_weights"] = encoder_weights  # checkpoints record the concrete weights
        self.spec = EncoderSpec(weights=encoder_weights, layer=layer)
        self.net = KnowledgeTransferNet(
            self.spec, window, query_stride, swap, stat_eps, residual_blocks, decoder=decoder, align=align
        )
        self.register_buffer("decoder_steps", torch.zeros((), dtype=torch.long))
        self._active: tuple[tuple[Any, ...], KnowledgeLibrary, PatchIndex] | None = None
        self._style_cache: OrderedDict[tuple[Any, ...], tuple[KnowledgeLibrary, PatchIndex]] = OrderedDict()
        self._warned_untrained = False

    def variant(self) -> str:
        """Configuration string for tables."""
        h = self.hparams
        decoder = "pretrained relu3_1 decoder" if h.get("decoder") == "pretrained_r31" else "KT decoder"
        if h.get("decoder") == "pretrained_r31" and int(self.decoder_steps) > 0:
            decoder += f" fine-tuned {int(self.decoder_steps)} steps (reconstruction, {h.recon_loss})"
        align = {"adain": ", AdaIN-aligned search", "wct": ", WCT-aligned search"}.get(
            h.get("align", "none"), ""
        )
        return (
            f"KT, {self.spec.describe()}, {h.window}x{h.window}/{h.query_stride}, {self.search_label()}, "
            f"{h.swap} swap{align}, {decoder}"
        )

    def search_label(self) -> str:
        """The configured search, e.g. ``3-bhkm K=10 d=2 p=1``."""
        h = self.hparams
        if h.search == "bhkm":
            return f"{len(self.bands)}-bhkm K={h.clusters} d={h.depth} p={probe_label(h.probes)}"
        if h.search == "hkm":
            return f"hkm K={h.clusters} d={h.depth} p={probe_label(h.probes)}"
        return str(h.search)

    @property
    def bands(self) -> tuple[str, ...]:
        """Bands BHKM matches on."""
        return tuple(self.hparams.bands or DEFAULT_BANDS)

    # ------------------------------------------------------------------ libraries and indexes
    def make_index(self, **overrides: Any) -> PatchIndex:
        """An unbuilt index of the configured kind (``overrides`` replace hyper-parameters)."""
        h = {**dict(self.hparams), **overrides}
        kind = h["search"]
        if kind in ("hkm", "bhkm"):
            params: dict[str, Any] = {"k": h["clusters"], "depth": h["depth"], "probes": h["probes"],
                                      "rerank": h["rerank"]}  # fmt: skip
            if kind == "bhkm":
                params["bands"] = tuple(h["bands"] or DEFAULT_BANDS)
            return make_index(kind, **params)
        return make_index(kind)

    def load_libraries(self, library: str | Sequence[str] | KnowledgeLibrary) -> KnowledgeLibrary:
        """Load (and combine) libraries by name, checking they hold this model's features.

        Raises:
            LibraryError: Unknown name, corrupted file, or features of another encoder layer/weights.
        """
        if isinstance(library, KnowledgeLibrary):
            libs = [library]
        else:
            names = split_names(library)
            if not names:
                raise ValueError("no library name given")
            libs = [load_library(name, self.hparams.libraries_root) for name in names]
        for lib in libs:
            where = str(lib.path / MANIFEST) if lib.path else f"library {lib.name!r}"
            if self.net.decoder_kind == "pretrained_r31":
                try:
                    check_pretrained_encoder(lib.encoder, where)
                except ValueError as error:
                    raise LibraryError(str(error)) from None
            self.spec.check_compatible(lib.encoder, where)
            if lib.settings.window != self.hparams.window:
                raise LibraryError(
                    f"{where} holds {lib.settings.window}x{lib.settings.window} windows but this model "
                    f"searches {self.hparams.window}x{self.hparams.window}; rebuild it with --window "
                    f"{self.hparams.window}"
                )
        return combine_libraries(libs)

    def index_for(self, library: KnowledgeLibrary, **overrides: Any) -> PatchIndex:
        """Build (or reuse the stored tree of) the configured index over ``library`` on this device."""
        index = self.make_index(**overrides)
        patches = library.patches.to(self.device)
        if isinstance(index, TreeIndex) and library.index_state is not None:
            meta, tensors = library.index_state
            if (meta.get("k"), meta.get("depth"), meta.get("seed"), meta.get("niter")) == (
                index.k, index.depth, index.seed, index.niter,
            ):  # fmt: skip
                where = str(library.path / meta["file"]) if library.path else "stored index"
                index.tree = Tree.from_state(tensors, index.k, index.depth, len(library), where)
        return index.build(patches, unit_rows(patches.flatten(1)))

    def use_library(
        self, library: str | Sequence[str] | KnowledgeLibrary, **overrides: Any
    ) -> tuple[KnowledgeLibrary, PatchIndex]:
        """Activate a library (cached until another one, another search or another device is asked for)."""
        if isinstance(library, KnowledgeLibrary):
            key: tuple[Any, ...] = ("object", id(library))
        else:
            key = ("names", tuple(split_names(library)))
        key += (str(self.device), tuple(sorted(overrides.items())), self.search_label())
        if self._active is None or self._active[0] != key:
            lib = self.load_libraries(library)
            self._active = (key, lib, self.index_for(lib, **overrides))
        return self._active[1], self._active[2]

    def library_from_files(self, files: Sequence[str | Path], name: str = "style") -> KnowledgeLibrary:
        """An in-memory library from image files with this model's settings (no file written)."""
        h = self.hparams
        settings = BuildSettings(h.window, h.library_stride, h.style_size, h.dedup_threshold, h.dedup_rule)
        return build_library(files, name, self.spec, settings, device=self.device, progress=False,
                             encoder_module=self.net.encoder)  # fmt: skip

    def library_from_images(self, images: Tensor, name: str = "style") -> KnowledgeLibrary:
        """An in-memory library from ``(S, 3, H, W)`` style images, used at their given size.

        (Image *files* are resized to ``style_size`` like the reference code; tensors handed to
        :meth:`stylize` are taken as they are, like every other method does.)
        """
        from stylelab.methods.knowledge.library import library_from_images

        h = self.hparams
        settings = BuildSettings(h.window, h.library_stride, None, h.dedup_threshold, h.dedup_rule)
        return library_from_images(list(images), self.net.encoder, self.spec, settings, name)

    def style_library(self, style: Tensor, **search: Any) -> tuple[KnowledgeLibrary, PatchIndex]:
        """The on-the-fly library of one style image and its built index, cached by the image's values.

        Args:
            style: ``(1, 3, H, W)`` RGB [0, 1], used at its size (:meth:`library_from_images`).
            **search: Overrides of the search hyper-parameters (part of the cache key).

        Returns:
            ``(library, built index)``; the last :attr:`style_cache_size` are kept (least recently used
            dropped), keyed by a sha1 of the pixels, the device and the library and search settings.
        """
        h = self.hparams
        digest = hashlib.sha1(style.detach().float().cpu().contiguous().numpy().tobytes()).hexdigest()
        key = (digest, tuple(style.shape), str(self.device), h.window, h.library_stride, h.dedup_threshold,
               h.dedup_rule, self.search_label(), repr(sorted(search.items())))  # fmt: skip
        if self.style_cache_size <= 0:
            self._style_cache.clear()  # caching switched off: release what was kept
        if key in self._style_cache:
            self._style_cache.move_to_end(key)
            return self._style_cache[key]
        library = self.library_from_images(style)
        self._style_cache[key] = entry = (library, self.index_for(library, **search))
        while len(self._style_cache) > max(self.style_cache_size, 0):
            self._style_cache.popitem(last=False)
        return entry

    # ------------------------------------------------------------------ inference
    def _warn_if_untrained(self) -> None:
        if self.net.decoder_kind == "pretrained_r31":
            return
        if int(self.decoder_steps) == 0 and not self._warned_untrained:
            self._warned_untrained = True
            warnings.warn(
                "the knowledge-transfer decoder is untrained (no checkpoint): output pictures are not "
                "meaningful, matches and backtracking are. Use the shipped pretrained decoder "
                "(decoder='pretrained_r31', `--decoder pretrained_r31`) or train one with `stylelab fit "
                "--config configs/knowledge.yaml` and pass --checkpoint.",
                stacklevel=3,
            )

    def stylize_with_library(
        self, content: Tensor, library: str | Sequence[str] | KnowledgeLibrary, swap: Swap | None = None,
        align: Align | None = None, **search: Any,
    ) -> tuple[Tensor, Matches, KnowledgeLibrary]:  # fmt: skip
        """Translate a batch with a library; also return the matches for backtracking.

        Args:
            content: ``(B, 3, H, W)`` RGB [0, 1], any size and batch.
            library: Library name(s) (comma-separated or a list: combined) or a library object.
            swap: ``"geometric"`` or ``"statistics"`` (default: the model's).
            align: ``"none"`` or ``"adain"`` (default: the model's).
            **search: Overrides of the search hyper-parameters (``probes``, ``search`` ...).

        Returns:
            ``(output (B, 3, H, W), matches, library)``.
        """
        self._warn_if_untrained()
        lib, index = self.use_library(library, **search)
        output, matches = self.net(content, index, lib.patches.to(content.device), swap, align)
        return output, matches, lib

    def stylize(
        self,
        content: Tensor,
        style: Tensor | None = None,
        library: Any = None,
        swap: Swap | None = None,
        **options: Any,
    ) -> Tensor:
        """Stylize RGB [0, 1] ``(B, 3, H, W)`` content.

        With ``library`` (or the ``library`` hyper-parameter) the named library is searched and
        ``style`` is ignored; otherwise a library is built from each style image on the fly (one
        per sample, or one shared if ``style`` has batch 1; kept for the next call with the same image,
        :meth:`style_library`).

        Args:
            content: ``(B, 3, H, W)`` RGB [0, 1].
            style: ``(B|1, 3, H_s, W_s)`` style images (without a library).
            library: Library name(s) or object (default: the ``library`` hyper-parameter).
            swap: ``"geometric"`` / ``"statistics"`` (default: the model's).
            **options: ``align`` and search overrides (``probes``, ``search``, ``rerank`` ...).

        Returns:
            ``(B, 3, H, W)`` RGB [0, 1].
        """
        unknown = set(options) - {"probes", "search", "rerank", "clusters", "depth", "bands", "align"}
        if unknown:
            raise TypeError(f"KnowledgeTransfer.stylize got unknown options {sorted(unknown)}")
        library = library if library is not None else self.hparams.library
        if library is not None:
            return self.stylize_with_library(content, library, swap, **options)[0]
        if style is None:
            raise ValueError("knowledge transfer needs a library name or style images")
        if style.shape[0] not in (1, content.shape[0]):
            raise ValueError(
                f"style batch {style.shape[0]} must be 1 or the content batch {content.shape[0]}"
            )
        align = options.pop("align", None)
        self._warn_if_untrained()
        outputs = []
        pairs = [(content, style)]
        if style.shape[0] > 1:
            pairs = list(zip(content[:, None], style[:, None], strict=True))
        for c, s in pairs:
            lib, index = self.style_library(s, **options)
            outputs.append(self.net(c, index, lib.patches.to(c.device), swap, align)[0])
        return torch.cat(outputs)

    def backtrack(
        self, matches: Matches, library: KnowledgeLibrary, batch_index: int = 0, content_name: str = "",
        content_size: tuple[int, int] | None = None,
        swap: Swap | None = None,
        align: Align | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """JSON-ready provenance of every output patch (see :func:`.backtrack.backtrack_record`).

        The record names the search of the active index, ``swap`` and ``align`` (default: the model's).
        """
        search = self._active[2].describe() if self._active is not None else self.search_label()
        extra = {
            "search": search,
            "swap": swap or self.hparams.swap,
            "align": align or self.hparams.get("align", "none"),
        }
        return backtrack_record(matches, library, batch_index, content_name, content_size, extra)

    # ------------------------------------------------------------------ `stylelab stylize`
    @classmethod
    def pretrained_r31(cls, **overrides: Any) -> KnowledgeTransfer:
        """The zero-training variant: the shipped relu3_1 decoder and the swap settings chosen for it.

        ``decoder="pretrained_r31"`` on ``vgg19_normalised_r31`` relu3_1 features with
        :data:`PRETRAINED_R31_SETTINGS` (chosen on tuning images, checked on held-out ones: see the KT
        README and ``reports/knowledge/pretrained_r31_floor.md``); ``overrides`` replace any argument.
        """
        return cls(**{**PRETRAINED_R31_SETTINGS, **overrides})

    @classmethod
    def add_stylize_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Decoder, library, search, swap and backtracking options (:mod:`.stylize_cli`)."""
        stylize_cli.add_arguments(parser)

    @classmethod
    def from_stylize_options(cls, options: argparse.Namespace) -> KnowledgeTransfer:
        """The model of ``stylelab stylize --method knowledge`` (no checkpoint).

        ``--decoder zoo`` (default): the model zoo's KT (:func:`stylelab.zoo.load_zoo_method`: the
        pretrained relu3_1 decoder fine-tuned for reconstruction by ``configs/zoo/knowledge.yaml``, with
        :data:`PRETRAINED_R31_SETTINGS`' swap and alignment); when the zoo ships no KT file it falls back,
        silently, to :meth:`pretrained_r31` (:meth:`variant` says whether the decoder was fine-tuned).
        ``--decoder pretrained_r31``: :meth:`pretrained_r31`, no training. ``--decoder kt``: the default
        constructor (an untrained decoder; a warning says so when it is used).
        """
        decoder = options.decoder or "zoo"
        if decoder == "zoo":
            from stylelab import zoo

            try:
                return zoo.load_zoo_method("knowledge")
            except FileNotFoundError:
                decoder = "pretrained_r31"  # the zoo has no KT yet: the untrained variant
        if decoder == "pretrained_r31":
            return cls.pretrained_r31()
        return cls()

    def stylize_files(
        self,
        contents: list[Path],
        styles: list[Path],
        output: Path,
        options: argparse.Namespace,
        load: Callable[[Path], Tensor],
    ) -> int:
        """One output per content and library (``--library``), or per content and style image."""
        return stylize_cli.stylize_files(self, contents, styles, output, options, load)

    # ------------------------------------------------------------------ training
    def _recon_loss(self, batch: dict[str, Any]) -> tuple[Tensor, int]:
        """Reconstruction loss of the batch's content (and style) images, and how many images."""
        groups = [batch["content"]]
        if self.hparams.train_on_style and batch.get("style") is not None:
            groups.append(batch["style"])
        if len(groups) == 2 and groups[0].shape[1:] == groups[1].shape[1:]:
            groups = [torch.cat(groups)]  # code: 2 content + 2 style images in one batch
        total = sum(g.shape[0] for g in groups)
        loss = sum(
            reconstruction_loss(self.net.reconstruct(g), g, self.hparams.recon_loss) * (g.shape[0] / total)
            for g in groups
        )
        return loss, total  # type: ignore[return-value]

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        """Reconstruction of the batch's content (and style) images through the frozen encoder."""
        loss, _ = self._recon_loss(batch)
        self.decoder_steps += 1
        return self.checked_loss(loss, {"loss": loss, f"recon_{self.hparams.recon_loss}": loss})

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Reconstruction loss on held-out images."""
        loss, count = self._recon_loss(batch)
        self.log("val/loss", loss, prog_bar=True, batch_size=count)

    test_step = validation_step

    def predict_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        """Stylize a datamodule batch (library from the hyper-parameter or the batch's styles)."""
        return self.stylize(batch["content"], batch.get("style"))

    def configure_optimizers(self) -> Any:
        """Adam on the decoder only (paper: lr 1e-4)."""
        return torch.optim.Adam(self.net.decoder.parameters(), lr=self.hparams.lr)
