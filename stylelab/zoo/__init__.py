"""The model zoo: CPU-trained checkpoints shipped as package data (see :mod:`.catalogue`).

Submodules: :mod:`.catalogue` (entries, shipped files), :mod:`.checkpoint` (small safetensors checkpoints),
:mod:`.splits` (training vs held-out images), :mod:`.floor` (the quality floor of an entry),
:mod:`.commands` (``stylelab zoo train|floor|list``).
"""

from stylelab.zoo.catalogue import ENTRIES, ZooEntry, get_entry, load_zoo_method

__all__ = ["ENTRIES", "ZooEntry", "get_entry", "load_zoo_method"]
