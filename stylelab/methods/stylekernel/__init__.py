"""Dynamic style kernels (SK; Xu, Long, Nie, CVPR 2023)."""

from stylelab.methods.stylekernel.model import StyleKernelNet
from stylelab.methods.stylekernel.module import StyleKernel

__all__ = ["StyleKernel", "StyleKernelNet"]
