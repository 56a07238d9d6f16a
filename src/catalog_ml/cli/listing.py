"""List the registered approaches (``approaches/*.py``) and the dataset specs shipped with the package."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``list`` takes no options."""


def handle(args: argparse.Namespace) -> int:
    from catalog_ml.core.registry import approach_names, unavailable_approaches
    from catalog_ml.data.spec import builtin_spec_names

    print("approaches:", ", ".join(approach_names()))
    for name, why in unavailable_approaches().items():
        print(f"not available here: {name} ({why})")
    print("built-in dataset specs:", ", ".join(builtin_spec_names()))
    return 0
