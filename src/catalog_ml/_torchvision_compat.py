"""Make ``import torchvision`` work on a CPU-only torch build, without importing torch up front.

The only torchvision wheel that matches torch 2.13 is a CUDA build. On the CPU build of torch its compiled
extension does not load, so ``torchvision::nms`` and ``torchvision::qnms`` are never defined, and torchvision's
own fake-kernel registrations then fail with ``RuntimeError: operator torchvision::nms does not exist``. That breaks
every library that imports torchvision (timm, open_clip, sentence-transformers).

``catalog_ml/__init__.py`` calls :func:`install` first. It adds an import hook that wraps torchvision's loader:
only when that exact error occurs does it define the two missing operator schemas (no kernels: calling them still
fails clearly) and run torchvision's initialisation again. Where torchvision loads normally, the hook only passes the
import through; torch is not imported until something imports torchvision.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

_MISSING_OPERATOR_ERROR = "operator torchvision::nms does not exist"
_MISSING_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_library_handle = None  # kept alive: the schemas are unregistered when the Library object is collected


def _define_missing_schemas() -> None:
    global _library_handle
    if _library_handle is not None:
        return
    import torch

    _library_handle = torch.library.Library("torchvision", "DEF")
    for schema in _MISSING_SCHEMAS:
        _library_handle.define(schema)


def _forget_submodules(package: str) -> None:
    for name in [module for module in sys.modules if module.startswith(package + ".")]:
        del sys.modules[name]


class _PatchingLoader(importlib.abc.Loader):
    """Runs torchvision's own loader; on the missing-operator error, defines the schemas and runs it again."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        try:
            self.inner.exec_module(module)
        except RuntimeError as error:
            if _MISSING_OPERATOR_ERROR not in str(error):
                raise
            _forget_submodules("torchvision")
            _define_missing_schemas()
            self.inner.exec_module(module)

    def __getattr__(self, name: str) -> object:  # resource readers and friends of the wrapped loader
        return getattr(self.inner, name)


class _TorchvisionFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "torchvision":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _PatchingLoader(spec.loader)
        return spec


def install() -> None:
    """Add the import hook once (cheap: imports neither torch nor torchvision)."""
    if "torchvision" in sys.modules or any(isinstance(f, _TorchvisionFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _TorchvisionFinder())


def ensure_torchvision_importable() -> bool:
    """Import torchvision now (through the hook). Returns True when the schemas had to be defined."""
    install()
    try:
        import torchvision  # noqa: F401
    except ModuleNotFoundError:
        return False
    return _library_handle is not None
