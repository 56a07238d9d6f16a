"""What a cache folder holds, and pruning of its per-fold fitted arrays.

The text-keyed caches (MiniLM vectors, spaCy entities, image embeddings) grow with the distinct texts and photos
seen, so they stay bounded by the data. The fitted arrays under ``fitted/`` get a new file for every fold, setting
and code version, so they grow with every experiment; each hit refreshes its file's modification time, which makes
"least recently used" and "unused for N days" answerable from the file system alone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from catalog_ml.errors import CatalogError
from catalog_ml.features.fitted_cache import FITTED_FOLDER

DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class CachePart:
    """One cache family: a sub-folder of the cache folder (fitted arrays: one per producer)."""

    name: str
    files: int
    bytes: int
    last_used: float  # newest modification time of its files (epoch seconds); 0 when empty


@dataclass(frozen=True)
class PruneResult:
    """Fitted-array files removed (or, in a dry run, that would be) and what stays."""

    removed_files: int
    removed_bytes: int
    kept_files: int
    kept_bytes: int


def cache_parts(cache_dir: Path) -> list[CachePart]:
    """Every cache family under ``cache_dir`` with its file count, size and last use, largest first."""
    cache_dir = _existing(cache_dir)
    folders = [p for p in sorted(cache_dir.iterdir()) if p.is_dir() and p.name != FITTED_FOLDER]
    fitted = cache_dir / FITTED_FOLDER
    if fitted.is_dir():
        folders += [p for p in sorted(fitted.iterdir()) if p.is_dir()]
    parts = []
    for folder in folders:
        stats = [path.stat() for path in folder.rglob("*") if path.is_file()]
        name = str(folder.relative_to(cache_dir))
        parts.append(CachePart(name, len(stats), sum(s.st_size for s in stats),
                               max((s.st_mtime for s in stats), default=0.0)))
    loose = [path.stat() for path in cache_dir.iterdir() if path.is_file()]
    if loose:
        parts.append(CachePart("(files at the top)", len(loose), sum(s.st_size for s in loose),
                               max(s.st_mtime for s in loose)))
    return sorted(parts, key=lambda part: -part.bytes)


def prune_fitted(cache_dir: Path, unused_days: float | None = None, max_bytes: int | None = None,
                 dry_run: bool = False, now: float | None = None) -> PruneResult:
    """Remove fitted-array files unused for more than ``unused_days``, then the least recently used ones until the
    rest take at most ``max_bytes``. Every removed file is rebuilt by the next run that needs it."""
    if unused_days is None and max_bytes is None:
        raise CatalogError("cache pruning needs --unused-days and/or --max-gb")
    if (unused_days is not None and unused_days < 0) or (max_bytes is not None and max_bytes < 0):
        raise CatalogError("--unused-days and --max-gb must not be negative")
    fitted = _existing(cache_dir) / FITTED_FOLDER
    stats = [(path.stat(), path) for path in fitted.rglob("*.npz") if path.is_file()]
    files = sorted(((stat.st_mtime, stat.st_size, path) for stat, path in stats),
                   key=lambda entry: (entry[0], str(entry[2])))  # oldest use first
    now = time.time() if now is None else now
    doomed = {path for used, _, path in files if unused_days is not None and now - used > unused_days * DAY_SECONDS}
    kept_bytes = sum(size for _, size, path in files if path not in doomed)
    for _, size, path in files:
        if max_bytes is None or kept_bytes <= max_bytes:
            break
        if path not in doomed:
            doomed.add(path)
            kept_bytes -= size
    removed_bytes = sum(size for _, size, path in files if path in doomed)
    if not dry_run:
        for path in doomed:
            path.unlink(missing_ok=True)
    return PruneResult(len(doomed), removed_bytes, len(files) - len(doomed), kept_bytes)


def _existing(cache_dir: Path) -> Path:
    cache_dir = Path(cache_dir)
    if not cache_dir.is_dir():
        raise CatalogError(f"{cache_dir}: no cache folder here (runs create it; see --cache-dir)")
    return cache_dir
