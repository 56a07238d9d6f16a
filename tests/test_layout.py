"""The package's shape: subpackages by role, imports only downwards, torch only in ``nn``, small modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "catalog_ml"
# Lowest first: a module may import from its own layer and the layers before it, never from a later one.
LAYERS = ("catalog_ml", "data", "core", "features", "nn", "blend", "tracking", "api", "cli")
TOP_LEVEL_MODULES = {"__init__.py", "__main__.py", "_torchvision_compat.py", "atomic.py", "errors.py", "folders.py"}
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def layer_of(module: str) -> str:
    if module == "catalog_ml.__main__":
        return "cli"  # ``python -m catalog_ml`` is the command line's entry point
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "catalog_ml"


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts).removesuffix(".__init__")


def imports(path: Path, top_level_only: bool = False) -> set[str]:
    """catalog_ml modules (or packages) imported by ``path``; with ``top_level_only``, not those inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("catalog_ml"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("catalog_ml"))
    return found


def test_top_level_holds_subpackages_and_a_few_base_modules():
    top = {p.name for p in PACKAGE.iterdir() if p.suffix == ".py"}
    assert top == TOP_LEVEL_MODULES
    assert {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()} == set(LAYERS[1:])


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_is_small(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_imports_only_go_down_the_layers():
    upward = []
    for path in modules():
        own = LAYERS.index(layer_of(module_name(path)))
        for imported in imports(path):
            if imported != "catalog_ml" and LAYERS.index(layer_of(imported)) > own:
                upward.append(f"{module_name(path)} -> {imported}")
    assert upward == []


def test_only_nn_imports_torch():
    outside = []
    for path in modules():
        if layer_of(module_name(path)) == "nn" or path.name == "_torchvision_compat.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(name.split(".")[0] in ("torch", "torchvision", "timm", "open_clip", "transformers",
                                          "sentence_transformers") for name in names):
                outside.append(module_name(path))
    assert outside == []


def test_no_import_cycles():
    graph = {module_name(p): {m for m in imports(p, top_level_only=True) if m != "catalog_ml"} for p in modules()}
    visiting, done, cycles = set(), set(), []

    def visit(node: str, trail: list[str]) -> None:
        if node in done:
            return
        if node in visiting:
            cycles.append(" -> ".join(trail[trail.index(node):] + [node]))
            return
        visiting.add(node)
        for nxt in graph.get(node, ()):
            visit(nxt, [*trail, node])
        visiting.discard(node)
        done.add(node)

    for node in graph:
        visit(node, [])
    assert cycles == []


def test_test_fixtures_are_not_in_the_library():
    assert not any("fault" in p.name or p.name.startswith("test_") for p in modules())


def test_help_does_not_import_the_heavy_stack():
    """``catalog-ml --help`` stays instant: it imports none of pandas, scikit-learn, matplotlib or torch."""
    code = ("import sys; from catalog_ml.cli.main import build_parser; build_parser().format_help(); "
            "print(','.join(m for m in ('pandas', 'sklearn', 'matplotlib', 'torch', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_the_registry_lists_approaches_without_the_optional_libraries():
    """A base install (no torch, xgboost or spaCy) lists every approach whose module imports without them; the others
    are named with the extra that brings them, never a traceback."""
    code = ("import importlib.abc, sys\n"
            "class NotInstalled(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name.split('.')[0] in ('torch', 'torchvision', 'xgboost', 'spacy', 'timm'):\n"
            "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
            "sys.meta_path.insert(0, NotInstalled())\n"
            "from catalog_ml.core.registry import approach_names, unavailable_approaches\n"
            "print(','.join(approach_names())); print(unavailable_approaches())")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    available, unavailable = result.stdout.splitlines()
    assert {"tfidf_ridge", "lgbm_fusion", "knn_price", "mlp_fusion", "sparse_mlp", "effnet_bert"} <= set(
        available.split(","))
    assert "xgb_spacy" in unavailable and "catalog-ml[xgboost]" in unavailable


def test_every_subpackage_is_in_the_installed_package_list():
    import tomllib

    listed = tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert {"catalog_ml", *(f"catalog_ml.{layer}" for layer in LAYERS[1:])} <= set(listed)
