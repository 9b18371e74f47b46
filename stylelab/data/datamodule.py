"""The LightningDataModule shared by every method: content/style images in, batch dicts out."""

from __future__ import annotations

import logging
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from stylelab.data.collate import collate_samples
from stylelab.data.embedded import GeneratedTextures, SkimagePhotos
from stylelab.data.errors import UnreadableImageError
from stylelab.data.image_io import DEFAULT_MAX_PIXELS, load_image
from stylelab.data.items import ImageRef, PairSpec
from stylelab.data.masks import load_mask
from stylelab.data.pair_datasets import ImageDataset, PairDataset, RandomStyleDataset
from stylelab.data.sampler import EpochSampler
from stylelab.data.skips import SkipLog
from stylelab.data.sources.base import ImageSource
from stylelab.data.sources.paired import PairedFolder
from stylelab.data.splits import eval_pairs, split_indices, stable_hash
from stylelab.data.transforms import EvalTransform, TrainTransform, Transform

log = logging.getLogger(__name__)

Split = Literal["train", "val", "test"]
_STAGE_ALIASES = {"val": "val", "validate": "val", "validation": "val", "test": "test", "train": "train"}


def _split_name(stage: str) -> Split:
    if stage not in _STAGE_ALIASES:
        raise ValueError(f"unknown stage {stage!r}; use 'train', 'val' or 'test'")
    return _STAGE_ALIASES[stage]  # type: ignore[return-value]


class StyleTransferDataModule(L.LightningDataModule):
    """Content and style images for training and fixed (content, style) pairs for evaluation.

    Two modes:

    * **unpaired** (``content=``/``style=``, default): every training content image meets a uniformly
      random training style, redrawn each epoch; val/test use fixed pairs of held-out images. Left
      at ``None``, content is :class:`SkimagePhotos` and style :class:`GeneratedTextures` (no
      download needed).
    * **paired** (``pairs=PairedFolder(...)``): matched photorealistic pairs (PST/DPST); the split
      is over pairs and batches also carry segmentation masks when the folder has them.

    Splits are deterministic from ``seed`` (hash of each item's relative path, see
    :mod:`stylelab.data.splits`). Unreadable files are skipped (next valid item), listed in the
    batch's ``"skipped"`` and reported once each (:meth:`skip_report`).

    Batches are dicts::

        {"content": (B, 3, h, w) float in [0, 1], "style": (B, 3, h, w),
         "content_path": list[str], "style_path": list[str], "skipped": list[str],
         # paired mode with masks only:
         "content_mask": (B, h, w) int64, "style_mask": (B, h, w) int64}

    Training images are ``crop_size`` squares; evaluation images keep their aspect ratio (shorter
    side ``eval_size``, both sides multiples of ``multiple_of``), hence ``eval_batch_size=1``.

    Args:
        content: Content images (``None``: the embedded scikit-image photos).
        style: Style images (``None``: the embedded generated textures).
        pairs: Paired data; excludes ``content``/``style``.
        train_transform: Overrides ``TrainTransform(load_size, crop_size)``.
        eval_transform: Overrides ``EvalTransform(eval_size, multiple_of)``.
        load_size: Training: shorter side after resizing (``None``: keep).
        crop_size: Training: random square crop side.
        eval_size: Evaluation: shorter side (``None``: native resolution).
        multiple_of: Evaluation: sides are cropped to multiples of this (8 for VGG, 16 MobileNet).
        batch_size: Training batch size.
        eval_batch_size: Validation/test batch size (1 unless all eval images share one shape).
        num_workers: DataLoader worker processes.
        samples_per_epoch: Training samples per epoch (``None``: one pass over the content images).
        val_fraction: Share of content and of style images (or of pairs) held out for validation.
        test_fraction: Share held out for testing.
        num_val_pairs: Number of fixed validation pairs (fewer if the held-out sets are small).
        num_test_pairs: Number of fixed test pairs.
        seed: Seed of splits, shuffling, style draws and crops.
        max_image_pixels: Files with more pixels are skipped as unreadable (decompression bombs).
    """

    def __init__(
        self,
        content: ImageSource | None = None,
        style: ImageSource | None = None,
        pairs: PairedFolder | None = None,
        train_transform: Transform | None = None,
        eval_transform: Transform | None = None,
        load_size: int | None = 512,
        crop_size: int = 256,
        eval_size: int | None = 256,
        multiple_of: int = 8,
        batch_size: int = 8,
        eval_batch_size: int = 1,
        num_workers: int = 0,
        samples_per_epoch: int | None = None,
        val_fraction: float = 0.1,
        test_fraction: float = 0.1,
        num_val_pairs: int = 8,
        num_test_pairs: int = 8,
        seed: int = 0,
        max_image_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__()
        if pairs is not None and (content is not None or style is not None):
            raise ValueError("give either pairs= (paired data) or content=/style= (unpaired), not both")
        if batch_size < 1 or eval_batch_size < 1 or num_workers < 0:
            raise ValueError(
                f"invalid batch_size={batch_size}, eval_batch_size={eval_batch_size}, "
                f"num_workers={num_workers}"
            )
        self.pairs = pairs
        self.content = content if content is not None or pairs is not None else SkimagePhotos()
        self.style = style if style is not None or pairs is not None else GeneratedTextures()
        self.train_transform = train_transform or TrainTransform(load_size, crop_size)
        self.eval_transform = eval_transform or EvalTransform(eval_size, multiple_of)
        self.batch_size = batch_size
        self.eval_batch_size = eval_batch_size
        self.num_workers = num_workers
        self.samples_per_epoch = samples_per_epoch
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction
        self.num_pairs = {"val": num_val_pairs, "test": num_test_pairs}
        self.seed = seed
        self.max_image_pixels = max_image_pixels
        self._skip_log = SkipLog()
        self._splits: dict[str, dict[str, list[int]]] | None = None
        self._path_index: dict[str, ImageRef] | None = None
        self._datasets: dict[str, Any] = {}

    # ----------------------------------------------------------------------------------- sources

    @property
    def paired(self) -> bool:
        """Whether the module serves matched pairs."""
        return self.pairs is not None

    @property
    def content_source(self) -> ImageSource:
        """All content images (every split)."""
        if self.pairs is not None:
            return self._cached("content_source", self.pairs.content_source)
        assert self.content is not None
        return self.content

    @property
    def style_source(self) -> ImageSource:
        """All style images (every split)."""
        if self.pairs is not None:
            return self._cached("style_source", self.pairs.style_source)
        assert self.style is not None
        return self.style

    def _cached(self, name: str, build: Any) -> Any:
        if name not in self._datasets:
            self._datasets[name] = build()
        return self._datasets[name]

    @property
    def splits(self) -> dict[str, dict[str, list[int]]]:
        """Index lists ``{"content"|"style"|"pairs": {"train"|"val"|"test": [...]}}``."""
        if self._splits is None:
            fractions = {
                "val_fraction": self.val_fraction,
                "test_fraction": self.test_fraction,
                "seed": self.seed,
            }
            if self.pairs is not None:
                self._splits = {"pairs": split_indices(self.pairs.keys(), **fractions)}
            else:
                self._splits = {
                    "content": split_indices(self.content_source.keys(), **fractions),
                    "style": split_indices(self.style_source.keys(), **fractions),
                }
            log.info(
                "data splits: %s", {k: {s: len(v) for s, v in d.items()} for k, d in self._splits.items()}
            )
        return self._splits

    def _refs(self, role: Literal["content", "style"], split: Split) -> list[ImageRef]:
        source = self.content_source if role == "content" else self.style_source
        indices = self.splits["pairs" if self.paired else role][split]
        return [ImageRef(source, i) for i in indices]

    def _pair_specs(self, split: Split) -> list[PairSpec]:
        assert self.pairs is not None
        files = self.pairs.pairs()
        return [
            PairSpec(
                ImageRef(self.content_source, i),
                ImageRef(self.style_source, i),
                files[i].content_mask,
                files[i].style_mask,
            )
            for i in self.splits["pairs"][split]
        ]

    # ------------------------------------------------------------------------------- evaluation

    def _eval_specs(self, split: Split) -> list[PairSpec]:
        count = self.num_pairs[split]
        if self.pairs is not None:
            specs = self._pair_specs(split)
            specs.sort(key=lambda p: (stable_hash(self.seed, split, p.content.key), p.content.key))
            return sorted(specs[:count], key=lambda p: p.content.key)
        contents, styles = self._refs("content", split), self._refs("style", split)
        chosen = eval_pairs([c.key for c in contents], [s.key for s in styles], count, self.seed, split)
        return [PairSpec(contents[c], styles[s]) for c, s in chosen]

    def eval_pairs(self, stage: str = "val") -> list[tuple[str, str]]:
        """The fixed evaluation pairs of a stage.

        Args:
            stage: ``"val"`` (or ``"validate"``) or ``"test"``.

        Returns:
            ``(content_path, style_path)`` tuples, the same on every call and every machine.
        """
        split = _split_name(stage)
        if split == "train":
            raise ValueError("training pairs are random; eval_pairs() serves 'val' and 'test'")
        return [(spec.content.path, spec.style.path) for spec in self._eval_specs(split)]

    def load_eval_image(self, path: str) -> Tensor:
        """Load one image at evaluation size (for stylising a single pair or a gallery).

        Args:
            path: A path from :meth:`eval_pairs` / a batch, or any image file.

        Returns:
            ``(3, h, w)`` float32 RGB in ``[0, 1]``, resized and cropped by the evaluation transform.

        Raises:
            UnreadableImageError: The image cannot be read.
        """
        ref = self._paths_to_refs().get(path)
        image = (
            ref.load(self.max_image_pixels)
            if ref is not None
            else load_image(path, max_pixels=self.max_image_pixels)
        )
        return self.eval_transform(image)[0]

    def _paths_to_refs(self) -> dict[str, ImageRef]:
        if self._path_index is None:
            index: dict[str, ImageRef] = {}
            for source in (self.style_source, self.content_source):
                index.update({p: ImageRef(source, i) for i, p in enumerate(source.paths())})
            self._path_index = index
        return self._path_index

    # -------------------------------------------------------------------------------- datasets

    def content_dataset(self, split: str = "train", transform: Transform | None = None) -> ImageDataset:
        """The content images of a split as a dataset of ``{"image", "path", "skipped"}`` samples.

        Args:
            split: ``"train"``, ``"val"`` or ``"test"``.
            transform: Defaults to the training transform for ``"train"``, else the evaluation one.

        Returns:
            An :class:`ImageDataset` (batch it with :func:`~stylelab.data.collate_samples`).
        """
        return self._image_dataset("content", _split_name(split), transform)

    def style_dataset(self, split: str = "train", transform: Transform | None = None) -> ImageDataset:
        """The style images of a split; see :meth:`content_dataset`."""
        return self._image_dataset("style", _split_name(split), transform)

    def _image_dataset(
        self, role: Literal["content", "style"], split: Split, transform: Transform | None
    ) -> ImageDataset:
        default = self.train_transform if split == "train" else self.eval_transform
        return ImageDataset(
            self._refs(role, split), transform or default, self.seed, self.max_image_pixels, self._skip_log
        )

    def prepare_data(self) -> None:
        """Let the sources download what they can (rank 0 only, called by Lightning)."""
        for source in (self.pairs, self.content, self.style):
            if source is not None:
                source.prepare()

    def setup(self, stage: str | None = None) -> None:
        """Build the split and the datasets the stage needs."""
        _ = self.splits
        if stage in (None, "fit"):
            self._train_dataset()
        with_masks = self.pairs is not None and self.pairs.has_masks
        for split in ("val", "test"):
            if split not in self._datasets:
                self._datasets[split] = PairDataset(
                    self._eval_specs(split),
                    self.eval_transform,
                    self.seed,
                    self.max_image_pixels,
                    self._skip_log,
                    with_masks,
                )

    def _train_dataset(self) -> RandomStyleDataset | PairDataset:
        if "train" not in self._datasets:
            if self.pairs is not None:
                self._datasets["train"] = PairDataset(
                    self._pair_specs("train"),
                    self.train_transform,
                    self.seed,
                    self.max_image_pixels,
                    self._skip_log,
                    self.pairs.has_masks,
                )
            else:
                self._datasets["train"] = RandomStyleDataset(
                    self._refs("content", "train"),
                    self._refs("style", "train"),
                    self.train_transform,
                    self.seed,
                    self.max_image_pixels,
                    self._skip_log,
                )
        return self._datasets["train"]

    def _loader(self, dataset: Any, batch_size: int, sampler: EpochSampler) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            collate_fn=collate_samples,
            persistent_workers=self.num_workers > 0,
            pin_memory=torch.cuda.is_available(),
        )

    def train_dataloader(self) -> DataLoader:
        """Shuffled training batches (new styles and crops every epoch)."""
        dataset = self._train_dataset()
        return self._loader(
            dataset, self.batch_size, EpochSampler(len(dataset), self.seed, True, self.samples_per_epoch)
        )

    def _eval_loader(self, split: Split) -> DataLoader:
        if split not in self._datasets:
            self.setup("validate" if split == "val" else "test")
        dataset = self._datasets[split]
        return self._loader(
            dataset, self.eval_batch_size, EpochSampler(len(dataset), self.seed, shuffle=False)
        )

    def val_dataloader(self) -> DataLoader:
        """The fixed validation pairs, in :meth:`eval_pairs` order."""
        return self._eval_loader("val")

    def test_dataloader(self) -> DataLoader:
        """The fixed test pairs, in :meth:`eval_pairs` order."""
        return self._eval_loader("test")

    # ---------------------------------------------------------------------------- bad files

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Harvest the batch's ``"skipped"`` paths (also those found in worker processes)."""
        if isinstance(batch, dict) and batch.get("skipped"):
            self.record_skipped(batch["skipped"])
        return batch

    def record_skipped(self, paths: list[str]) -> None:
        """Add paths reported by a batch to :meth:`skip_report` (re-reading them once for the reason)."""
        for path in paths:
            if path not in self._skip_log:
                self._skip_log.record(path, self._failure_reason(path))

    def _failure_reason(self, path: str) -> str:
        ref = self._paths_to_refs().get(path)
        try:
            if ref is not None:
                ref.load(self.max_image_pixels)
            else:
                load_mask(path, max_pixels=self.max_image_pixels)
        except UnreadableImageError as error:
            return error.reason
        return "failed in a DataLoader worker (reads fine now)"

    def skip_report(self) -> dict[str, str]:
        """Unreadable files met so far: ``{path: reason}``."""
        return dict(self._skip_log.reasons)
