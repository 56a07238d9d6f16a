"""Neural networks: the only subpackage that imports torch (backbones, weights, towers, the trainer, embeddings).

Importing it (torch itself is imported only when used) lets saved models hold torch modules and tensors."""

from catalog_ml.core.fitted_state import register_codec
from catalog_ml.nn.saved_torch import TorchModuleCodec, TorchTensorCodec

register_codec(TorchModuleCodec())
register_codec(TorchTensorCodec())
