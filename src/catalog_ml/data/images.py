"""Image file naming by the dataset spec's rule (ids and URLs never escape the image folder)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlparse

import pandas as pd

from catalog_ml.data.spec import DatasetSpec


def url_basename(url: object) -> str | None:
    """The last path part of a URL, as the organisers' downloader names files; None when there is none."""
    if not isinstance(url, str) or not url.strip():
        return None
    name = PurePosixPath(unquote(urlparse(url.strip()).path)).name
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        return None
    return name


def image_file_names(frame: pd.DataFrame, spec: DatasetSpec) -> list[str | None]:
    """The image file name of every row, by the spec's naming rule (None when a row has no usable image link)."""
    if spec.image_naming == "template":
        return [spec.image_template.format(id=row_id) for row_id in frame[spec.id_column]]
    if not spec.image_column:
        return [None] * len(frame)
    return [url_basename(url) for url in frame[spec.image_column]]


def image_paths(frame: pd.DataFrame, spec: DatasetSpec) -> list[Path | None]:
    """Where every row's image should be on disk (None when the row has no image link or the spec no image folder).
    """
    folder = spec.image_path
    if folder is None:
        return [None] * len(frame)
    return [folder / name if name else None for name in image_file_names(frame, spec)]
