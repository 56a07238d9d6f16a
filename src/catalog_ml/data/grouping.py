"""Near-duplicate groups: rows sharing a normalised item name, a group column or an identical image file.

By default rows are grouped by their normalised item name (the parsed Item Name, or the first text column) and by
identical image files. A spec's ``group_columns`` replaces the name key: list the columns that identify one product
(``@name`` keeps the item name among them; a column unique per row, such as the id, groups nothing).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.data.images import image_file_names
from catalog_ml.data.parsing import parse_catalog_content
from catalog_ml.data.spec import DatasetSpec

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
NAME_KEY = "@name"  # in group_columns: the normalised item name


def normalise_name(name: object) -> str:
    """Lower-case, keep letters and digits only, collapse whitespace: 'Coke, 12 oz!' -> 'coke 12 oz'."""
    if not isinstance(name, str):
        return ""
    return _NON_ALNUM.sub(" ", name.lower()).strip()


def item_names(frame: pd.DataFrame, spec: DatasetSpec) -> pd.Series:
    """The product name of each row: the parsed Item Name, or the first text column."""
    if not spec.text_columns:
        return pd.Series([""] * len(frame), index=frame.index)
    first = frame[spec.text_columns[0]]
    if spec.text_format == "catalog_content":
        return first.map(lambda text: parse_catalog_content(text).item_name)
    return first.fillna("").astype(str)


def file_digest(path: Path) -> str | None:
    """SHA-1 of a file's bytes, or None when it does not exist."""
    try:
        return hashlib.sha1(path.read_bytes()).hexdigest()
    except (FileNotFoundError, IsADirectoryError):
        return None


def group_keys(spec: DatasetSpec, use_images: bool = True) -> list[str]:
    """What links rows into one group, in words: the spec's group columns (or the item name) and image files."""
    columns = spec.group_columns or (NAME_KEY,)
    described = [f"the normalised item name (from column '{spec.text_columns[0]}')" if column == NAME_KEY and
                 spec.text_columns else f"column '{column}'" for column in columns if column != NAME_KEY or
                 spec.text_columns]
    if use_images and spec.image_column and spec.image_path is not None and spec.image_path.is_dir():
        described.append("identical image files")
    return described


def near_duplicate_groups(frame: pd.DataFrame, spec: DatasetSpec, use_images: bool = True) -> np.ndarray:
    """One integer group per row; rows linked by any shared key (see ``group_keys``) share a group."""
    keys: list[pd.Series] = [item_names(frame, spec).map(normalise_name) if column == NAME_KEY else
                             frame[column].astype(str) for column in (spec.group_columns or (NAME_KEY,))]
    image_dir = spec.image_path
    if use_images and spec.image_column and image_dir is not None and image_dir.is_dir():
        names = image_file_names(frame, spec)
        keys.append(pd.Series([file_digest(image_dir / n) if n else None for n in names], index=frame.index))
    return _connected_components(keys, len(frame))


def _connected_components(keys: list[pd.Series], n_rows: int) -> np.ndarray:
    parent = np.arange(n_rows)

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    for key in keys:
        valid = key.notna().to_numpy() & (key.astype(str).str.len().to_numpy() > 0)
        codes, _ = pd.factorize(key.where(valid))
        first_row_of_code: dict[int, int] = {}
        for row, code in enumerate(codes):
            if code < 0:
                continue
            first = first_row_of_code.setdefault(code, row)
            if first != row:
                a, b = find(first), find(row)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    roots = np.array([find(i) for i in range(n_rows)])
    return pd.factorize(roots)[0]
