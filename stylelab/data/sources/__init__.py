"""Image sources: where content and style images come from."""

from stylelab.data.sources.base import FileListSource, ImageSource, scan_folder
from stylelab.data.sources.coco import COCO
from stylelab.data.sources.folder import ImageFolder
from stylelab.data.sources.hf import HFDataset
from stylelab.data.sources.paired import PairedFolder, PairFiles
from stylelab.data.sources.wikiart import WikiArt, read_split_file

__all__ = [
    "COCO",
    "FileListSource",
    "HFDataset",
    "ImageFolder",
    "ImageSource",
    "PairFiles",
    "PairedFolder",
    "WikiArt",
    "read_split_file",
    "scan_folder",
]
