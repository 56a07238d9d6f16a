"""Saved fold models: ``runs/<dataset>/<run>/models/fold_<k>/`` holds one fitted model in safe, versioned files.

  manifest.json   format, package and library versions, approach, settings, the spec's columns, fold, fold hash,
                  seed, classes, and the size and SHA-256 of every other file (written last)
  state.json      the model's attributes as a JSON tree (``core.fitted_state``)
  arrays.npz      its numeric arrays (read with ``allow_pickle=False``)
  f<N>.*          native model files (LightGBM text, XGBoost UBJSON), tables (parquet), skops files

Loading refuses, in one line each: a folder without a model, another approach's model, another format or an
incompatible package or library version, and any file whose size or checksum differs from the manifest.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from catalog_ml import __version__
from catalog_ml.core.approach import Approach, FitContext
from catalog_ml.core.config import config_from_dict, config_to_dict
from catalog_ml.core.fitted_state import EncodedState, decode_state, encode_state
from catalog_ml.data.spec import DatasetSpec
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST, STATE, ARRAYS = "manifest.json", "state.json", "arrays.npz"
# a model's attributes follow these libraries' internals: a different minor version may not read them
LIBRARIES = ("catalog-ml", "numpy", "pandas", "scikit-learn", "lightgbm", "xgboost", "torch")


@dataclass(frozen=True)
class SavedModel:
    """One fold's fitted model, encoded (picklable: a worker process hands it to the writer)."""

    manifest: dict[str, Any]
    state: EncodedState


def library_versions() -> dict[str, str | None]:
    """Versions of the libraries a saved model's attributes depend on (None: not installed)."""
    versions: dict[str, str | None] = {"catalog-ml": __version__}
    for name in LIBRARIES[1:]:
        for distribution in (name, f"{name}-cpu"):
            try:
                versions[name] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                versions[name] = None
    return versions


def manifest_header() -> dict[str, Any]:
    """What every saved folder's manifest starts with: its format and the library versions."""
    return {"format": FORMAT_VERSION, "libraries": library_versions()}


def encode_model(model: Approach, fold_hash: str) -> SavedModel:
    """Encode a fitted fold model with what loading checks; parts a cache spared are fitted first."""
    started = time.perf_counter()
    model.prepare_to_save()
    state = encode_state(model.fitted_state(), model.name)
    spec, context = model.spec, model.context
    manifest = {
        **manifest_header(), "approach": model.name,
        "settings": config_to_dict(model.config), "task": spec.task, "fold": context.fold, "fold_hash": fold_hash,
        "seed": context.seed, "classes": list(context.classes), "columns": spec_columns(spec),
        "image_folder": str(spec.image_path) if spec.image_path else None,
        "encode_seconds": round(time.perf_counter() - started, 3),
    }
    return SavedModel(manifest, state)


def spec_columns(spec: DatasetSpec) -> dict[str, Any]:
    """The columns a model reads and writes, as the spec named them when it was fitted."""
    return {"id": spec.id_column, "target": spec.target, "text": list(spec.text_columns),
            "categorical": list(spec.categorical_columns), "numeric": list(spec.numeric_columns),
            "image": spec.image_column}


def write_model(folder: Path, saved: SavedModel) -> int:
    """Write ``saved`` as ``folder`` (replacing an earlier one) through a temporary folder; returns its bytes."""
    folder = Path(folder)
    temporary = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir(parents=True)
    try:
        files = {STATE: json.dumps(saved.state.tree).encode(), ARRAYS: saved.state.arrays_bytes(),
                 **saved.state.files}
        for name, data in files.items():
            (temporary / name).write_bytes(data)
        manifest = {**saved.manifest, "files": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                                                for name, data in files.items()}}
        (temporary / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(temporary, folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return sum(len(data) for data in files.values())


def read_manifest(folder: Path) -> dict[str, Any]:
    """A saved model's manifest; a clear error when the folder holds none."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise CatalogError(f"{folder}: no saved model (the run was made with --no-save-models, or before models "
                           "were saved): re-run it with --overwrite")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CatalogError(f"{path}: corrupt manifest ({error})") from None


def load_model(folder: Path, approach: type[Approach], spec: DatasetSpec, cache_dir: Path | None = None) -> Approach:
    """The fitted model saved in ``folder``, checked (approach, format, versions, checksums) and ready to predict.
    ``spec`` is the dataset's spec as the caller reads it (its image folder may differ from the fitting one)."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("approach") != approach.name:
        raise CatalogError(f"{folder}: holds a model of approach '{manifest.get('approach')}', not '{approach.name}'")
    state = read_state(folder, manifest)
    context = FitContext(spec=spec, seed=manifest["seed"], fold=manifest["fold"],
                         cache_dir=Path(cache_dir) if cache_dir is not None else Path("cache"),
                         logger=logging.getLogger(f"catalog_ml.approach.{approach.name}"),
                         classes=tuple(manifest.get("classes", ())))
    model = approach(config_from_dict(approach.Config, manifest["settings"]), context)
    model.restore_fitted(decode_state(state, spec))
    return model


def read_state(folder: Path, manifest: dict[str, Any]) -> EncodedState:
    """The encoded state of a saved folder, after checking its format, versions, and every file's size and hash."""
    check_compatible(manifest, folder)
    files = {name: _verified(Path(folder) / name, entry) for name, entry in manifest.get("files", {}).items()}
    if STATE not in files or ARRAYS not in files:
        raise CatalogError(f"{folder}: the manifest lists no {STATE} or {ARRAYS}")
    try:
        with np.load(io.BytesIO(files.pop(ARRAYS)), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        tree = json.loads(files.pop(STATE))
    except (ValueError, OSError) as error:  # np.load and json raise several types for unreadable content
        raise CatalogError(f"{folder}: saved model unreadable ({type(error).__name__}: {error})") from None
    return EncodedState(tree, arrays, files)


def check_compatible(manifest: dict[str, Any], where: Path) -> None:
    """Refuse a model saved in another format, or by a version of catalog_ml or a library whose major.minor differs
    from the one installed here (their internals, which the model's attributes mirror, may differ)."""
    if manifest.get("format") != FORMAT_VERSION:
        raise CatalogError(f"{where}: saved in format {manifest.get('format')!r}; this catalog_ml reads format "
                           f"{FORMAT_VERSION}: re-run the approach")
    here = library_versions()
    differing = [f"{name} {saved} (here {here.get(name)})" for name, saved in manifest.get("libraries", {}).items()
                 if saved is not None and here.get(name) is not None and _minor(saved) != _minor(here[name])]
    if differing:
        raise CatalogError(f"{where}: saved with {', '.join(differing)}: re-run the approach with these versions, "
                           "or install the ones it was saved with")


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split("+")[0].split(".")[:2])


def _verified(path: Path, entry: dict[str, Any]) -> bytes:
    if not path.is_file():
        raise CatalogError(f"{path}: saved model file missing")
    data = path.read_bytes()
    if len(data) != entry.get("bytes") or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        raise CatalogError(f"{path}: saved model file altered or truncated (its size or SHA-256 differs from the "
                           "manifest): re-run the approach")
    return data
