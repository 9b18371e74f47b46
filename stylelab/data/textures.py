"""Procedural textures used as the built-in style images (no download, deterministic).

Each generator maps ``(size, rng)`` to a ``(size, size, 3)`` float32 array in ``[0, 1]``. The same
``numpy.random.Generator`` state always gives the same texture.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

TextureFn = Callable[[int, np.random.Generator], np.ndarray]


def random_palette(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` saturated colours with well-spread hues.

    Args:
        rng: Random source.
        count: Number of colours.

    Returns:
        ``(count, 3)`` float array in ``[0, 1]``.
    """
    hue = (rng.random() + np.arange(count) / count + rng.uniform(-0.05, 0.05, count)) % 1.0
    sat = rng.uniform(0.55, 1.0, count)
    val = rng.uniform(0.45, 1.0, count)
    i = np.floor(hue * 6).astype(int) % 6
    f = hue * 6 - np.floor(hue * 6)
    p, q, t = val * (1 - sat), val * (1 - f * sat), val * (1 - (1 - f) * sat)
    table = np.stack(
        [
            np.stack(c, axis=1)
            for c in ((val, t, p), (q, val, p), (p, val, t), (p, q, val), (t, p, val), (val, p, q))
        ]
    )
    return rng.permutation(table[i, np.arange(count)])


def palette_map(t: np.ndarray, colours: np.ndarray) -> np.ndarray:
    """Piecewise-linear colour ramp through ``colours``.

    Args:
        t: ``(H, W)`` values in ``[0, 1]``.
        colours: ``(K, 3)`` ramp stops.

    Returns:
        ``(H, W, 3)`` colours.
    """
    pos = np.clip(t, 0.0, 1.0) * (len(colours) - 1)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(colours) - 1)
    w = (pos - lo)[..., None]
    return colours[lo] * (1 - w) + colours[hi] * w


def smooth_noise(size: int, rng: np.random.Generator, scale: float, channels: int = 1) -> np.ndarray:
    """Gaussian low-pass filtered white noise, normalised to ``[0, 1]`` per channel.

    Args:
        size: Side length.
        rng: Random source.
        scale: Blob size as a fraction of the side (larger = smoother).
        channels: Number of independent channels.

    Returns:
        ``(size, size, channels)`` array.
    """
    noise = rng.standard_normal((channels, size, size))
    freq = np.fft.fftfreq(size)
    radius2 = freq[:, None] ** 2 + freq[None, :] ** 2
    filtered = np.fft.ifft2(np.fft.fft2(noise) * np.exp(-radius2 * (np.pi * scale * size) ** 2 / 2)).real
    low = filtered.min(axis=(1, 2), keepdims=True)
    high = filtered.max(axis=(1, 2), keepdims=True)
    return ((filtered - low) / np.maximum(high - low, 1e-12)).transpose(1, 2, 0)


def _grid(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates in ``[0, 1)`` rotated by a random angle: ``(u, v)``, each ``(size, size)``."""
    y, x = np.mgrid[0:size, 0:size] / size
    angle = rng.uniform(0, np.pi)
    return x * np.cos(angle) + y * np.sin(angle), -x * np.sin(angle) + y * np.cos(angle)


def stripes(size: int, rng: np.random.Generator) -> np.ndarray:
    """Wavy multicolour bands at a random angle."""
    u, v = _grid(size, rng)
    colours = random_palette(rng, int(rng.integers(3, 6)))
    u = u + 0.03 * np.sin(2 * np.pi * rng.uniform(1, 4) * v)
    band = np.floor(u * rng.uniform(5, 12)).astype(int) % len(colours)
    return colours[band]


def checker(size: int, rng: np.random.Generator) -> np.ndarray:
    """A rotated two-colour checkerboard with a soft diagonal shading."""
    u, v = _grid(size, rng)
    cells = rng.uniform(4, 10)
    colours = random_palette(rng, 2)
    parity = (np.floor(u * cells) + np.floor(v * cells)).astype(int) % 2
    shade = 0.75 + 0.25 * (u - u.min()) / (u.max() - u.min())
    return colours[parity] * shade[..., None]


def waves(size: int, rng: np.random.Generator) -> np.ndarray:
    """Interference of circular waves from three random point sources."""
    y, x = np.mgrid[0:size, 0:size] / size
    total = np.zeros((size, size))
    for _ in range(3):
        cy, cx = rng.uniform(-0.2, 1.2, 2)
        total += np.sin(2 * np.pi * rng.uniform(6, 14) * np.hypot(y - cy, x - cx) + rng.uniform(0, 2 * np.pi))
    return palette_map((total + 3) / 6, random_palette(rng, 3))


def blobs(size: int, rng: np.random.Generator) -> np.ndarray:
    """Coloured noise blobs: independently smoothed channels, contrast-stretched."""
    colour = smooth_noise(size, rng, scale=rng.uniform(0.03, 0.08), channels=3)
    return np.clip((colour - 0.5) * 1.6 + 0.5, 0, 1)


def rings(size: int, rng: np.random.Generator) -> np.ndarray:
    """Concentric colour rings around a random centre."""
    y, x = np.mgrid[0:size, 0:size] / size
    cy, cx = rng.uniform(0.2, 0.8, 2)
    phase = (np.hypot(y - cy, x - cx) * rng.uniform(6, 12)) % 1.0
    colours = random_palette(rng, 4)
    return palette_map(phase, np.concatenate([colours, colours[:1]]))


def strokes(size: int, rng: np.random.Generator) -> np.ndarray:
    """Brush-stroke-like marks: thick oriented dabs with bristle streaks following a smooth flow field."""
    colours = random_palette(rng, 5)
    canvas = np.broadcast_to(colours[0] * 0.6, (size, size, 3)).copy()
    flow = smooth_noise(size, rng, scale=0.15)[..., 0] * np.pi * 1.5 + rng.uniform(0, np.pi)
    for _ in range(400):
        cy, cx = rng.uniform(0, 1, 2)
        angle = flow[int(cy * (size - 1)), int(cx * (size - 1))] + rng.normal(0, 0.1)
        length, width = rng.uniform(0.08, 0.2), rng.uniform(0.025, 0.05)
        reach = int(np.ceil((length / 2 + width) * size)) + 1
        top, left = max(0, int(cy * size) - reach), max(0, int(cx * size) - reach)
        y, x = (
            np.mgrid[top : min(size, int(cy * size) + reach), left : min(size, int(cx * size) + reach)] / size
        )
        along = (x - cx) * np.cos(angle) + (y - cy) * np.sin(angle)
        across = -(x - cx) * np.sin(angle) + (y - cy) * np.cos(angle)
        edge = np.maximum(np.abs(along) / (length / 2), np.abs(across) / (width / 2))
        alpha = np.clip((1.0 - edge) * 5, 0, 1) * (
            0.8 + 0.2 * np.sin(across / width * 25 + rng.uniform(0, 6))
        )
        paint = np.clip(colours[rng.integers(1, len(colours))] + rng.normal(0, 0.07, 3), 0, 1)
        window = canvas[top : top + alpha.shape[0], left : left + alpha.shape[1]]
        window += alpha[..., None] * (paint - window)
    return canvas


def mosaic(size: int, rng: np.random.Generator) -> np.ndarray:
    """Voronoi tiles in palette colours with dark grout between them."""
    y, x = np.mgrid[0:size, 0:size] / size
    seeds = rng.uniform(0, 1, (int(rng.integers(25, 50)), 2))
    distance = np.hypot(y[..., None] - seeds[:, 0], x[..., None] - seeds[:, 1])
    nearest = np.argsort(distance, axis=2)[..., :2]
    d1 = np.take_along_axis(distance, nearest[..., :1], axis=2)[..., 0]
    d2 = np.take_along_axis(distance, nearest[..., 1:], axis=2)[..., 0]
    colours = random_palette(rng, 6)[rng.integers(0, 6, len(seeds))]
    colours = np.clip(colours + rng.normal(0, 0.05, colours.shape), 0, 1)
    gap = np.linalg.norm(seeds[nearest[..., 0]] - seeds[nearest[..., 1]], axis=-1)
    border = (d2**2 - d1**2) / np.maximum(2 * gap, 1e-9)  # distance to the shared cell edge
    grout = np.clip((border * size - 0.7) / 1.0, 0, 1)[..., None]
    return colours[nearest[..., 0]] * grout + 0.08 * (1 - grout)


def marble(size: int, rng: np.random.Generator) -> np.ndarray:
    """Marble veins: a sine pattern displaced by smooth turbulence."""
    u, _ = _grid(size, rng)
    turbulence = smooth_noise(size, rng, scale=0.06)[..., 0]
    veins = 0.5 + 0.5 * np.sin(2 * np.pi * (u * rng.uniform(3, 6) + turbulence * rng.uniform(2, 4)))
    return palette_map(veins**0.6, random_palette(rng, 3))


TEXTURES: dict[str, TextureFn] = {
    "stripes": stripes,
    "checker": checker,
    "waves": waves,
    "blobs": blobs,
    "rings": rings,
    "strokes": strokes,
    "mosaic": mosaic,
    "marble": marble,
}
"""Texture generators by name, in the order :class:`~stylelab.data.GeneratedTextures` cycles through."""


def generate_texture(kind: str, size: int, seed: int | list[int]) -> np.ndarray:
    """One texture.

    Args:
        kind: A key of :data:`TEXTURES`.
        size: Side length in pixels.
        seed: Seed (or seed sequence) of ``numpy.random.default_rng``.

    Returns:
        ``(size, size, 3)`` float32 array in ``[0, 1]``.
    """
    if kind not in TEXTURES:
        raise ValueError(f"unknown texture {kind!r}; choose from {sorted(TEXTURES)}")
    image = TEXTURES[kind](size, np.random.default_rng(seed))
    return np.clip(image, 0.0, 1.0).astype(np.float32)
