"""stylelab: a PyTorch Lightning experiment framework for neural style transfer research."""

__version__ = "0.1.0"
