"""Data layer: robust image I/O, transforms, image sources, the built-in sample and the datamodule."""

from stylelab.data.collate import collate_samples
from stylelab.data.datamodule import StyleTransferDataModule
from stylelab.data.download import download_file, extract_archive
from stylelab.data.embedded import SKIMAGE_PHOTOS, GeneratedTextures, SkimagePhotos
from stylelab.data.errors import EmptySourceError, NoLoadableImageError, UnreadableImageError
from stylelab.data.image_io import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    decode_image,
    load_image,
    pil_to_tensor,
    save_image,
    tensor_to_pil,
)
from stylelab.data.items import ImageRef, PairSpec
from stylelab.data.masks import DEFAULT_MASK_PALETTE, colours_to_labels, load_mask
from stylelab.data.pair_datasets import ImageDataset, PairDataset, RandomStyleDataset, load_aligned_mask
from stylelab.data.sampler import EpochSampler
from stylelab.data.sources import (
    COCO,
    FileListSource,
    HFDataset,
    ImageFolder,
    ImageSource,
    PairedFolder,
    PairFiles,
    WikiArt,
)
from stylelab.data.splits import eval_pairs, split_indices
from stylelab.data.transforms import (
    EvalTransform,
    TrainTransform,
    Transform,
    center_crop,
    crop_to_multiple,
    resize_mask,
    resize_shorter,
    round_down_to_multiple,
)

__all__ = [
    "COCO",
    "DEFAULT_MASK_PALETTE",
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "SKIMAGE_PHOTOS",
    "EmptySourceError",
    "EpochSampler",
    "EvalTransform",
    "FileListSource",
    "GeneratedTextures",
    "HFDataset",
    "ImageDataset",
    "ImageFolder",
    "ImageRef",
    "ImageSource",
    "NoLoadableImageError",
    "PairDataset",
    "PairFiles",
    "PairSpec",
    "PairedFolder",
    "RandomStyleDataset",
    "SkimagePhotos",
    "StyleTransferDataModule",
    "TrainTransform",
    "Transform",
    "UnreadableImageError",
    "WikiArt",
    "center_crop",
    "collate_samples",
    "colours_to_labels",
    "crop_to_multiple",
    "decode_image",
    "download_file",
    "eval_pairs",
    "extract_archive",
    "load_aligned_mask",
    "load_image",
    "load_mask",
    "pil_to_tensor",
    "resize_mask",
    "resize_shorter",
    "round_down_to_multiple",
    "save_image",
    "split_indices",
    "tensor_to_pil",
]
