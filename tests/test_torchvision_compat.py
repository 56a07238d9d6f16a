import sys

from catalog_ml._torchvision_compat import ensure_torchvision_importable


def test_torchvision_and_dependants_import():
    import catalog_ml  # noqa: F401  (applies the hook first)

    assert ensure_torchvision_importable() is False  # second call: torchvision already loads, nothing to do
    import timm
    import torchvision

    assert "torchvision" in sys.modules
    model = timm.create_model("test_efficientnet", pretrained=False, num_classes=0)
    assert model.num_features > 0
    assert torchvision.models.mobilenet_v2(weights=None) is not None
