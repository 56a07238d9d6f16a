"""Output folders: names that stay names, destructive operations confined to their root, one writer at a time.

A run folder is ``RUNS_DIR/DATASET/RUN``; every part that comes from a user (dataset name, approach, tag, run
name) is checked to be a plain name, so no output lands outside ``RUNS_DIR`` and ``--overwrite`` can only remove
a folder inside it. Each run folder and blend folder is written by one process at a time: a ``.lock`` file in it
(``filelock``: an OS lock, released by the OS when its process dies, so a killed run never leaves a stale lock),
with the holder (pid, host, start time) in ``.lock.json`` for the message a second writer gets.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import filelock

from catalog_ml.atomic import ensure_writable_dir
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_name(name: object, what: str) -> str:
    """``name`` if it is a plain name (letters, digits, ``.``, ``_``, ``-``; no separators, no ``..``)."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise CatalogError(f"{what} {name!r}: use letters, digits, '.', '_' and '-' only, starting with a letter or "
                           "digit (no path separators, no '..'): it becomes a folder or file name")
    return name


def is_inside(path: Path, root: Path) -> bool:
    """True when ``path`` (links resolved) lies strictly inside ``root``."""
    path, root = Path(path).resolve(), Path(root).resolve()
    return path != root and path.is_relative_to(root)


LOCK_FILES = (".lock", ".lock.json")


def clear_folder_inside(path: Path, root: Path) -> None:
    """Empty the folder ``path`` (its lock files stay: the caller holds them), refusing anything that is not
    strictly inside ``root``."""
    if not is_inside(path, root):
        raise CatalogError(f"{path}: refusing to remove a folder outside {root}")
    for child in Path(path).iterdir():
        if child.name in LOCK_FILES:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _lock_path(folder: Path) -> Path:
    return folder / LOCK_FILES[0]


def _holder_path(folder: Path) -> Path:
    return folder / LOCK_FILES[1]


def _describe_holder(folder: Path) -> str:
    try:
        holder = json.loads(_holder_path(folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "another process"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
    return f"process {holder.get('pid')} on {holder.get('host')} (since {started})"


@contextmanager
def exclusive_writer(folder: Path, wait: bool = False) -> Iterator[None]:
    """Hold ``folder``'s writer lock for the block: refused at once with the holder named, or with ``wait``
    blocks until the holder finishes."""
    folder = ensure_writable_dir(Path(folder))
    lock = filelock.FileLock(str(_lock_path(folder)))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except filelock.Timeout:
        raise CatalogError(f"{folder}: {_describe_holder(folder)} is writing here; wait for it, pass --wait to "
                           "queue behind it, or use another --tag / --out-dir") from None
    try:
        previous = _holder_path(folder)
        if previous.exists():
            log.info("%s: took over the lock of %s, which ended without releasing it", folder,
                     _describe_holder(folder))
        previous.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}),
                            encoding="utf-8")
        yield
    finally:
        _holder_path(folder).unlink(missing_ok=True)
        lock.release()
