"""Per-level (lambda, n_upd) tables of IFT and the parsing of per-level overrides.

Levels are the four transform layers ``relu1_1 .. relu4_1``. The four reference tables run on IFT's
own network (:class:`~stylelab.methods.ift.model.IFTNet`, trained decoder blocks) with the reference step
``eta = 0.01``. Sources: ``utils/model.py`` (``EncDec.iter_kargs``) and ``demo.ipynb`` of
chiutaiyin/Iterative-feature-transformation-for-style-transfer (commit 9eab3e2), and supplement Table 1.

``pretrained_r31`` is stylelab's: one level (relu3_1 of the exact vgg_normalised encoder) decoded by the
shipped pretrained decoder (:class:`~stylelab.methods.ift.pretrained.IFTR31Net`, no training); its lambda,
n_upd and step rule were chosen by a sweep on a tuning subset of the shared images and confirmed on
held-out ones (``experiments/ift/pretrained_r31_sweep.py``, ``reports/ift/pretrained_r31_sweep.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

LEVELS: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")


@dataclass(frozen=True)
class LevelSetting:
    """Transform parameters of one level.

    Attributes:
        lam: Style weight ``lambda`` of the objective.
        n_upd: Gradient updates per round.
    """

    lam: float
    n_upd: int


Network = Literal["blocks", "pretrained_r31"]
StepRuleName = Literal["fixed", "line_search"]


def _table(lams: Sequence[float], n_upd: Sequence[int]) -> dict[str, LevelSetting]:
    return {
        level: LevelSetting(float(lam), int(n)) for level, lam, n in zip(LEVELS, lams, n_upd, strict=True)
    }


#: ``pretrained_r31`` at relu3_1 (chosen on the tuning subset: reports/ift/pretrained_r31_sweep.md).
PRETRAINED_R31_LAM = 1e3
PRETRAINED_R31_N_UPD = 5
PRETRAINED_R31_STEP_RULE: StepRuleName = "line_search"

#: Named per-level tables (relu1_1, relu2_1, relu3_1, relu4_1; ``pretrained_r31``: relu3_1 only).
PRESETS: dict[str, dict[str, LevelSetting]] = {
    # EncDec.iter_kargs of the released model code
    "reference": _table((1e4, 1e3, 1e2, 1e2), (20, 20, 20, 20)),
    # demo notebook defaults
    "demo": _table((1e4, 1e4, 1e3, 1e2), (5, 10, 10, 10)),
    # demo notebook's advice "when stylization fails", with the demo's update counts
    "conservative": _table((1e4, 2.5e3, 2.5e2, 2.5e1), (5, 10, 10, 10)),
    # supplement Table 1 / Figs. 1-4 (n_upd = 15, n_iter = 1); lambda = the conservative values [inferred]
    "photorealistic": _table((1e4, 2.5e3, 2.5e2, 2.5e1), (15, 15, 15, 15)),
    # stylelab: relu3_1 of the shipped vgg_normalised pair; reports/ift/pretrained_r31_sweep.md
    "pretrained_r31": {"relu3_1": LevelSetting(PRETRAINED_R31_LAM, PRETRAINED_R31_N_UPD)},
}
DEFAULT_PRESET = "photorealistic"

#: The network each preset runs on: IFT's four trained decoder blocks, or the shipped relu3_1 pair.
PRESET_NETWORK: dict[str, Network] = {name: "blocks" for name in PRESETS} | {
    "pretrained_r31": "pretrained_r31"
}
#: Step rule of each preset when the model's ``step_rule`` is not set (the reference tables: fixed 0.01).
PRESET_STEP_RULE: dict[str, StepRuleName] = {name: "fixed" for name in PRESETS} | {
    "pretrained_r31": PRETRAINED_R31_STEP_RULE
}

PRESET_NOTES: dict[str, str] = {
    "reference": "released model defaults (utils/model.py iter_kargs)",
    "demo": "demo notebook defaults",
    "conservative": "demo notebook's conservative lambda, advised when a result is ruined",
    "photorealistic": "supplement Table 1 setting (n_upd=15, n_iter=1), conservative lambda [inferred]",
    "pretrained_r31": "relu3_1 only, shipped vgg_normalised encoder + pretrained decoder, no training",
}


def network_of(name: str) -> Network:
    """The network a preset runs on (``"blocks"`` or ``"pretrained_r31"``).

    Raises:
        ValueError: Unknown preset.
    """
    preset_table(name)
    return PRESET_NETWORK[name]


def preset_table(name: str) -> dict[str, LevelSetting]:
    """The per-level settings of a named preset.

    Raises:
        ValueError: Unknown name (the message lists the presets).
    """
    if name not in PRESETS:
        raise ValueError(f"unknown IFT preset {name!r}; presets: {', '.join(sorted(PRESETS))}")
    return dict(PRESETS[name])


def parse_level_values(spec: str | float | int | Sequence[float] | Mapping[str, float]) -> dict[str, float]:
    """Per-level values from a CLI/config spec.

    Accepted forms: a single number (every level), four comma-separated numbers (``relu1_1`` to
    ``relu4_1``), ``level=value`` pairs separated by commas (``"relu4_1=50,relu3_1=100"``), a sequence
    of four numbers, or a mapping ``{level: value}``.

    Raises:
        ValueError: Unknown level, wrong count, or a value that is not a number.
    """
    if isinstance(spec, Mapping):
        items = {str(k): float(v) for k, v in spec.items()}
    elif isinstance(spec, (int, float)):
        items = dict.fromkeys(LEVELS, float(spec))
    elif isinstance(spec, str):
        parts = [p.strip() for p in spec.split(",") if p.strip()]
        if not parts:
            raise ValueError("empty per-level value")
        try:
            if all("=" in p for p in parts):
                items = {k.strip(): float(v) for k, v in (p.split("=", 1) for p in parts)}
            elif len(parts) == 1:
                items = dict.fromkeys(LEVELS, float(parts[0]))
            elif len(parts) == len(LEVELS):
                items = {level: float(p) for level, p in zip(LEVELS, parts, strict=True)}
            else:
                raise ValueError(f"give 1 or {len(LEVELS)} values, or level=value pairs; got {spec!r}")
        except ValueError as error:
            if "give 1" in str(error):
                raise
            raise ValueError(
                f"cannot read {spec!r}: use a number, {len(LEVELS)} comma-separated numbers "
                f"({', '.join(LEVELS)}) or level=value pairs"
            ) from error
    else:
        values = [float(v) for v in spec]
        if len(values) != len(LEVELS):
            raise ValueError(f"give {len(LEVELS)} values ({', '.join(LEVELS)}); got {len(values)}")
        items = dict(zip(LEVELS, values, strict=True))
    unknown = sorted(set(items) - set(LEVELS))
    if unknown:
        raise ValueError(f"unknown level(s) {unknown}; levels: {', '.join(LEVELS)}")
    return items


def resolve_levels(
    preset: str,
    lam: str | float | Sequence[float] | Mapping[str, float] | None = None,
    n_upd: str | float | Sequence[float] | Mapping[str, float] | None = None,
) -> dict[str, LevelSetting]:
    """A preset's table with per-level overrides of ``lam`` and ``n_upd`` applied.

    A preset with fewer levels (``pretrained_r31``) takes a value given for every level (one number)
    at its own levels; naming a level it does not transform is an error.

    Raises:
        ValueError: Unknown preset/level, an override at a level the preset lacks, negative ``lam`` or
            ``n_upd``, non-integer ``n_upd``.
    """
    table = preset_table(preset)
    lam_over = parse_level_values(lam) if lam is not None else {}
    upd_over = parse_level_values(n_upd) if n_upd is not None else {}
    for over in (lam_over, upd_over):
        extra = sorted(set(over) - set(table))
        if extra and set(over) != set(LEVELS):
            raise ValueError(
                f"preset {preset!r} transforms {', '.join(table)} only; got overrides for {', '.join(extra)}"
            )
    out: dict[str, LevelSetting] = {}
    for level, setting in table.items():
        new_lam = lam_over.get(level, setting.lam)
        new_upd = upd_over.get(level, float(setting.n_upd))
        if new_lam < 0 or new_upd < 0 or new_upd != int(new_upd):
            raise ValueError(
                f"{level}: lam must be >= 0 and n_upd a non-negative integer; got {new_lam}, {new_upd}"
            )
        out[level] = LevelSetting(new_lam, int(new_upd))
    return out
