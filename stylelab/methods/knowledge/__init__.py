"""Knowledge transfer (Chen et al., arXiv 2012.11193): libraries, BHKM search, swaps, backtracking.

Importing the package registers the ``knowledge`` method and the ``stylelab library`` command.
"""

from stylelab.methods.knowledge import commands  # noqa: F401  (registers `stylelab library`)
from stylelab.methods.knowledge.backtrack import backtrack_record, draw_links
from stylelab.methods.knowledge.encoder import EncoderSpec
from stylelab.methods.knowledge.index import (
    BHKMIndex,
    ExactIndex,
    FaissFlatIndex,
    HKMIndex,
    PatchIndex,
    PQIndex,
    SearchResult,
    make_index,
)
from stylelab.methods.knowledge.library import (
    BuildSettings,
    KnowledgeLibrary,
    build_library,
    combine_libraries,
    list_libraries,
    load_library,
    remove_library,
)
from stylelab.methods.knowledge.model import KnowledgeTransferNet, KTDecoder, Matches
from stylelab.methods.knowledge.module import KnowledgeTransfer
from stylelab.methods.knowledge.storage import LibraryError, LibraryFormatError, LibraryNotFoundError
from stylelab.methods.knowledge.transfer import geometric_swap, statistics_swap

__all__ = [
    "BHKMIndex",
    "BuildSettings",
    "EncoderSpec",
    "ExactIndex",
    "FaissFlatIndex",
    "HKMIndex",
    "KTDecoder",
    "KnowledgeLibrary",
    "KnowledgeTransfer",
    "KnowledgeTransferNet",
    "LibraryError",
    "LibraryFormatError",
    "LibraryNotFoundError",
    "Matches",
    "PQIndex",
    "PatchIndex",
    "SearchResult",
    "backtrack_record",
    "build_library",
    "combine_libraries",
    "draw_links",
    "geometric_swap",
    "list_libraries",
    "load_library",
    "make_index",
    "remove_library",
    "statistics_swap",
]
