"""Feature-level perceptual losses shared by the methods (training) and the metrics (evaluation)."""

from stylelab.losses.content import centered_sum_content_loss, feature_mse_loss, normalized_content_loss
from stylelab.losses.reduction import Reduction, reduce_per_sample
from stylelab.losses.style import covariance_style_loss, gram_style_loss, mean_std_style_loss

__all__ = [
    "Reduction",
    "centered_sum_content_loss",
    "covariance_style_loss",
    "feature_mse_loss",
    "gram_style_loss",
    "mean_std_style_loss",
    "normalized_content_loss",
    "reduce_per_sample",
]
