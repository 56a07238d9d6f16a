"""Image (or text) embedding tables: ``id`` plus numeric columns, joined to a frame by id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.errors import CatalogError
from catalog_ml.outputs import read_parquet_checked


def read_embedding_table(path: Path) -> pd.DataFrame:
    """Read a parquet table of ``id`` and float columns, indexed by id (as text)."""
    path = Path(path)
    table = read_parquet_checked(path, "embedding table")
    if "id" not in table.columns or table.shape[1] < 2:
        raise CatalogError(f"{path}: an embedding table needs an 'id' column and at least one value column")
    table["id"] = table["id"].astype(str)
    if table["id"].duplicated().any():
        raise CatalogError(f"{path}: id {table['id'][table['id'].duplicated()].iloc[0]!r} appears twice")
    return table.set_index("id").astype(np.float32)


def embeddings_for(ids: pd.Series, table: pd.DataFrame, source: Path, min_coverage: float = 0.5) -> np.ndarray:
    """The rows of ``table`` for ``ids`` (NaN where an id has no embedding); refuses a table made for other data."""
    ids = ids.astype(str)
    present = ids.isin(table.index)
    if present.mean() < min_coverage:
        raise CatalogError(f"{source}: embedding ids do not match the data: only {int(present.sum())} of {len(ids)} "
                           f"ids found (first missing: {ids[~present].iloc[0]!r})")
    return table.reindex(ids.to_numpy()).to_numpy(dtype=np.float32)
