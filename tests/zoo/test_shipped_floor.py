"""Every checkpoint the zoo ships resolves offline from the package and passes its floor on held-out images.

The floor (issue 14): SSIM to the content >= 0.3 and Gram style ratio <= 0.9 (transfer entries, held-out
photos x held-out paintings); StyleBank on its own styles: SSIM >= 0.3 and LPIPS >= 0.15. A fast subset:
2 held-out photos x 2 held-out paintings (StyleBank: 2 photos x its first 2 banks) at longer side 384.
The full table (7 x 8 pairs at 512) is in each entry's JSON record (``stylelab zoo floor NAME``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stylelab.backbones import resolve_weights
from stylelab.zoo.catalogue import ENTRIES, load_zoo_method, shipped_manifest
from stylelab.zoo.floor import LPIPS_FLOOR, floor_summary, own_styles_floor, transfer_floor
from stylelab.zoo.splits import split_files

SHIPPED = sorted(shipped_manifest())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_entry_resolves_from_the_package(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STYLELAB_WEIGHTS", raising=False)
    monkeypatch.setenv("STYLELAB_OFFLINE", "1")
    resolved = resolve_weights(f"zoo_{name}")
    assert "package" in resolved.source and resolved.path.stat().st_size <= 8 * 2**20
    record = ENTRIES[name].record()
    assert record["floor"]["passes"], f"{name}'s own record says it fails the floor"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_entry_passes_the_floor(name: str, shared_data: Path) -> None:
    method = load_zoo_method(name)
    photos = split_files("photos", "held_out", shared_data)[:2]
    if ENTRIES[name].floor == "own_styles":
        paintings = {p.name: p for p in split_files("paintings", "train", shared_data)}
        files = [paintings.get(Path(str(n)).name) for n in method.style_names[:2]]
        summary = floor_summary(own_styles_floor(method, photos, files, longer=384), "own_styles")
        assert summary["lpips_mean"] >= LPIPS_FLOOR
    else:
        rows = transfer_floor(
            method, photos, split_files("paintings", "held_out", shared_data)[:2], longer=384
        )
        summary = floor_summary(rows, "transfer")
    assert summary["passes"], summary
