"""WCT (Li et al. 2017), single level at relu3_1 through the pretrained pair: the zero-training floor."""

from stylelab.methods.wct.model import WCTNet, regional_wct
from stylelab.methods.wct.module import WCT

__all__ = ["WCT", "WCTNet", "regional_wct"]
