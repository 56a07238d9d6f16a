import subprocess
import sys

CHECK = """
import sys
import catalog_ml
assert "torch" not in sys.modules, "importing catalog_ml must not import torch"
import timm, torchvision
from catalog_ml import _torchvision_compat
model = timm.create_model("test_efficientnet", pretrained=False, num_classes=0)
assert model.num_features > 0
assert torchvision.models.mobilenet_v2(weights=None) is not None
print("patched" if _torchvision_compat._library_handle is not None else "not needed")
"""


def test_torchvision_and_dependants_import_after_catalog_ml():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("patched", "not needed")


def test_hook_is_idempotent():
    from catalog_ml import _torchvision_compat

    _torchvision_compat.install()
    _torchvision_compat.install()
    assert sum(isinstance(f, _torchvision_compat._TorchvisionFinder) for f in sys.meta_path) <= 1
