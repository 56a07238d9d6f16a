"""Image (or text) embedding tables: ``id`` plus numeric columns, joined to a frame by id."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from catalog_ml.core.run_files import read_parquet_checked
from catalog_ml.errors import CatalogError


def read_embedding_table(path: Path, training_ids: pd.Series | None = None) -> pd.DataFrame:
    """Read a parquet table of ``id`` and float columns, indexed by id (as text); with ``training_ids``, refuse a
    table made for other data (``check_embedding_ids``)."""
    path = Path(path)
    table = read_parquet_checked(path, "embedding table")
    if "id" not in table.columns or table.shape[1] < 2:
        raise CatalogError(f"{path}: an embedding table needs an 'id' column and at least one value column")
    table["id"] = table["id"].astype(str)
    if table["id"].duplicated().any():
        raise CatalogError(f"{path}: id {table['id'][table['id'].duplicated()].iloc[0]!r} appears twice")
    table = table.set_index("id").astype(np.float32)
    if training_ids is not None:
        check_embedding_ids(training_ids, table, path)
    return table


def check_embedding_ids(ids: pd.Series, table: pd.DataFrame, source: Path, min_share: float = 0.5) -> None:
    """Refuse a table made for other data: fewer than ``min_share`` of the training ``ids`` have a row *and* fewer
    than ``min_share`` of the table's rows belong to those ids.

    Either side alone is not enough: a photo set may cover a fifth of a catalogue (myntra_styles: 22%), and a table
    made for train and test rows covers the training rows of one fold only in part.
    """
    ids = ids.astype(str)
    present = ids.isin(table.index)
    table_share = table.index.isin(ids).mean() if len(table) else 0.0
    if present.mean() < min_share and table_share < min_share:
        raise CatalogError(f"{source}: embedding ids do not match the data: only {int(present.sum())} of {len(ids)} "
                           f"ids found, and {table_share:.0%} of the table's {len(table)} rows belong to the data "
                           f"(first missing id: {ids[~present].iloc[0]!r})")


def embeddings_for(ids: pd.Series, table: pd.DataFrame) -> np.ndarray:
    """The rows of ``table`` for ``ids`` (NaN where an id has no embedding)."""
    return table.reindex(ids.astype(str).to_numpy()).to_numpy(dtype=np.float32)
