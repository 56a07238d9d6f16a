"""catalog_ml: multimodal product pricing and classification kit.

Shared folds, an approach registry and runner, atomic run outputs, metrics, submission checks and demo data.
"""

from catalog_ml._torchvision_compat import ensure_torchvision_importable

ensure_torchvision_importable()

__version__ = "0.1.0"
