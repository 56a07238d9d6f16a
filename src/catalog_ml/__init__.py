"""catalog_ml: multimodal product pricing and classification kit.

Shared folds, an approach registry and runner, atomic run outputs, metrics, submission checks and demo data.
"""

from catalog_ml import _torchvision_compat

_torchvision_compat.install()

__version__ = "0.1.0"
