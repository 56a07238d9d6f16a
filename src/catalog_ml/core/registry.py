"""The explicit approach registry: adding an approach = adding one file in ``approaches/``."""

from __future__ import annotations

import difflib
import importlib
import pkgutil

from catalog_ml.core.approach import Approach
from catalog_ml.errors import CatalogError, missing_dependency

# The constant-prediction floor: reports and committees leave it out where it would only add noise.
BASELINE_APPROACH = "median_baseline"

_REGISTRY: dict[str, type[Approach]] = {}
_UNAVAILABLE: dict[str, str] = {}  # approach file name -> why it cannot be imported here (an optional library)
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
    """Import every module of the ``approaches`` package once so that their decorators run. A module that needs an
    optional library which is not installed is recorded as unavailable (with the install line), not an error."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    package = importlib.import_module("approaches")
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name.startswith("_"):
            continue
        try:
            importlib.import_module(f"approaches.{module.name}")
        except ModuleNotFoundError as error:
            missing = missing_dependency(error)
            if missing is None:
                raise
            _UNAVAILABLE[module.name] = missing.problems[0]
    _DISCOVERED = True


def approach_names() -> list[str]:
    """Names of all registered approaches, sorted."""
    discover()
    return sorted(_REGISTRY)


def unavailable_approaches() -> dict[str, str]:
    """Approaches (by file name) that cannot run here, and why: an optional library is not installed."""
    discover()
    return dict(_UNAVAILABLE)


def get_approach(name: str) -> type[Approach]:
    """The approach class registered under ``name``; a clear error listing the known names otherwise."""
    discover()
    if name in _UNAVAILABLE and name not in _REGISTRY:
        raise CatalogError(f"approach '{name}' cannot run here: {_UNAVAILABLE[name]}")
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, [*_REGISTRY, *_UNAVAILABLE], n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise CatalogError(f"unknown approach '{name}' ({hint}registered: {', '.join(sorted(_REGISTRY))})")
    return _REGISTRY[name]
