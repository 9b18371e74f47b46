"""StyleBank (Chen et al., CVPR 2017): auto-encoder + one convolutional filter bank per style."""

from stylelab.methods.stylebank.criterion import StyleBankCriterion
from stylelab.methods.stylebank.model import StyleBankNet, check_fusion_weights
from stylelab.methods.stylebank.module import StyleBank

__all__ = ["StyleBank", "StyleBankCriterion", "StyleBankNet", "check_fusion_weights"]
