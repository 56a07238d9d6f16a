"""Shared fixtures: a small generated demo dataset with folds, and the path to the real data (if present)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("CATALOG_ML_NO_PROGRESS", "1")

from catalog_ml.data.demo_data import write_demo_dataset  # noqa: E402
from catalog_ml.data.folds import make_folds, write_folds  # noqa: E402
from catalog_ml.data.loading import load_dataset  # noqa: E402
from catalog_ml.data.spec import load_spec  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 400-train / 120-test demo dataset with images and a fold file, written once per session."""
    root = tmp_path_factory.mktemp("demo_template")
    spec_path = write_demo_dataset(root, train_rows=400, test_rows=120, seed=3, progress=False)
    dataset = load_dataset(load_spec(spec_path))
    write_folds(make_folds(dataset, n_folds=4, seed=1), dataset.spec.folds_path, {"seed": 1})
    categories = load_dataset(load_spec(root / "dataset_category.yaml"))
    write_folds(make_folds(categories, n_folds=4, seed=1), categories.spec.folds_path, {"seed": 1})
    return root


@pytest.fixture()
def demo_dir(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo dataset that a test may modify."""
    target = tmp_path / "demo"
    shutil.copytree(demo_template, target)
    return target


@pytest.fixture()
def demo_spec_path(demo_dir: Path) -> Path:
    return demo_dir / "dataset.yaml"


@pytest.fixture()
def amazon_sample() -> Path:
    folder = SHARED_DATA / "amazon2025_sample"
    if not folder.is_dir():
        pytest.skip(f"real data not available ({folder} is absent)")
    return folder
