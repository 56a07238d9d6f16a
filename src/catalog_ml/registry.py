"""The explicit approach registry: adding an approach = adding one file in ``approaches/``."""

from __future__ import annotations

import importlib
import pkgutil

from catalog_ml.approach import Approach
from catalog_ml.errors import CatalogError

_REGISTRY: dict[str, type[Approach]] = {}
_DISCOVERED = False


def register_approach(cls: type[Approach]) -> type[Approach]:
    """Class decorator: make ``cls`` available under ``cls.name``.

    A module run as a script (``__main__``) does not register; its ``main`` resolves the approach through the
    installed ``approaches`` package, so one class exists per name.
    """
    if cls.__module__ == "__main__":
        return cls
    name = getattr(cls, "name", None)
    if not name or not isinstance(name, str):
        raise TypeError(f"{cls.__qualname__} needs a class attribute 'name'")
    existing = _REGISTRY.get(name)
    if existing is not None and (existing.__module__, existing.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(f"approach name '{name}' is registered twice ({existing.__module__} and {cls.__module__})")
    _REGISTRY[name] = cls
    return cls


def discover() -> None:
    """Import every module of the ``approaches`` package once so that their decorators run."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = importlib.import_module("approaches")
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.startswith("_"):
            importlib.import_module(f"approaches.{module.name}")
    _DISCOVERED = True


def approach_names() -> list[str]:
    """Names of all registered approaches, sorted."""
    discover()
    return sorted(_REGISTRY)


def get_approach(name: str) -> type[Approach]:
    """The approach class registered under ``name``; a clear error listing the known names otherwise."""
    discover()
    if name not in _REGISTRY:
        raise CatalogError(f"unknown approach '{name}' (registered: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]
