"""Lightning callbacks shared by every method."""

from stylelab.callbacks.evaluation import DEFAULT_METRICS, REFERENCE, StyleEvaluation, build_metric
from stylelab.callbacks.grid import letterbox, pair_grid
from stylelab.callbacks.objective import SweepObjective

__all__ = [
    "DEFAULT_METRICS",
    "REFERENCE",
    "StyleEvaluation",
    "SweepObjective",
    "build_metric",
    "letterbox",
    "pair_grid",
]
