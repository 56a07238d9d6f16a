"""Make ``import torchvision`` work on a CPU-only torch build.

The only torchvision wheel that matches torch 2.13 is a CUDA build. On the CPU build of torch its compiled
extension does not load, so ``torchvision::nms`` and ``torchvision::qnms`` are never defined, and torchvision's
own fake-kernel registrations then fail with ``RuntimeError: operator torchvision::nms does not exist``. That breaks
every library that imports torchvision (timm, open_clip, sentence-transformers).

:func:`ensure_torchvision_importable` tries the import; only when that exact error occurs does it define the two
missing operator schemas (no kernels: calling them still fails clearly) and import again. Where torchvision loads
normally it does nothing. ``catalog_ml/__init__.py`` calls it first, before anything that may import torchvision.
"""

from __future__ import annotations

import sys

_MISSING_OPERATOR_ERROR = "operator torchvision::nms does not exist"
_MISSING_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library_handle = None  # kept alive: the schemas are unregistered when the Library object is collected


def ensure_torchvision_importable() -> bool:
    """Import torchvision, patching the missing operator schemas if needed. Returns True when a patch was applied.

    Does nothing (and returns False) when torch or torchvision is not installed or imports normally.
    """
    global _library_handle
    try:
        import torchvision  # noqa: F401
    except ModuleNotFoundError:
        return False
    except RuntimeError as error:
        if _MISSING_OPERATOR_ERROR not in str(error):
            raise
    else:
        return False

    import torch

    _forget_partial_import("torchvision")
    _library_handle = torch.library.Library("torchvision", "DEF")
    for schema in _MISSING_SCHEMAS:
        _library_handle.define(schema)
    import torchvision  # noqa: F401,F811

    return True


def _forget_partial_import(package: str) -> None:
    for name in [module for module in sys.modules if module == package or module.startswith(package + ".")]:
        del sys.modules[name]
