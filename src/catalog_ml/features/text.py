"""Text and attribute views of a frame shared by the approaches."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from catalog_ml.data.parsing import parse_catalog_frame
from catalog_ml.data.spec import DatasetSpec
from catalog_ml.features.fitted_cache import frame_digest


def joined_text(frame: pd.DataFrame, spec: DatasetSpec, max_chars: int | None = None) -> pd.Series:
    """All text columns of each row joined with ' | ', optionally cut to ``max_chars`` characters."""
    if not spec.text_columns:
        return pd.Series([""] * len(frame), index=frame.index)
    parts = [frame[c].fillna("").astype(str) for c in spec.text_columns]
    text = parts[0]
    for part in parts[1:]:
        text = text + " | " + part
    return text.str.slice(0, max_chars) if max_chars else text


QUANTITY_MEMO_SIZE = 3  # a fold's training, validation and test rows
_quantity_memo: OrderedDict[str, pd.DataFrame] = OrderedDict()


def quantity_features(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Parsed quantities of ``catalog_content`` (log scale) and the unit family, one column each.

    Empty (zero columns) for specs whose text is not in the competition's ``catalog_content`` format. The last few
    results are kept in memory by a hash of the texts: an approach asks for the same rows' quantities more than once
    (lgbm_fusion: its own columns and its Ridge column's), and parsing costs ~50 us a row against ~1 us to hash it.
    """
    if spec.text_format != "catalog_content" or not spec.text_columns:
        return pd.DataFrame(index=frame.index)
    texts = frame[[spec.text_columns[0]]]
    key = frame_digest(texts)
    if key not in _quantity_memo:
        _quantity_memo[key] = _parse_quantities(texts.iloc[:, 0])
        while len(_quantity_memo) > QUANTITY_MEMO_SIZE:
            _quantity_memo.popitem(last=False)
    _quantity_memo.move_to_end(key)
    return _quantity_memo[key].set_axis(frame.index)


def _parse_quantities(texts: pd.Series) -> pd.DataFrame:
    parsed, _ = parse_catalog_frame(texts)
    features = pd.DataFrame(index=texts.index)
    for column in ("value", "quantity_base", "pack_count", "title_count", "title_size_base", "n_bullets"):
        values = parsed[column].to_numpy(dtype=float)
        features[f"log_{column}"] = np.log1p(np.nan_to_num(np.clip(values, 0, 1e9), nan=0.0))
        features[f"has_{column}"] = (~np.isnan(values)).astype(float)
    features["log_text_length"] = np.log1p(parsed["text_length"].to_numpy(dtype=float))
    for family in ("mass", "volume", "count", "length", "area", "unknown", "missing"):
        features[f"unit_{family}"] = (parsed["unit_family"].to_numpy() == family).astype(float)
    return features


def numeric_attribute_matrix(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Numeric attribute columns as floats with a missing-value indicator each (NaN filled with 0)."""
    features = pd.DataFrame(index=frame.index)
    for column in spec.numeric_columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        features[column] = np.nan_to_num(values, nan=0.0)
        features[f"{column}_missing"] = np.isnan(values).astype(float)
    return features


_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
MAX_TEXT_NUMBER = 1e15  # a run of 400 digits would read as inf


@dataclass(frozen=True)
class TextNumbers:
    """Numbers written inside short text columns as numeric features: ratings ('4.0 out of 5 stars'), counts
    ('1,234 customer reviews'), edition dates ('Paperback,– 10 Mar 2016'). TF-IDF sees '1,234' as a token, never
    as a magnitude. ``columns`` are chosen once on the training rows (``fit``) so every later frame gets the same
    columns."""

    columns: tuple[str, ...]

    @classmethod
    def fit(cls, train: pd.DataFrame, spec: DatasetSpec, max_median_chars: int = 40,
            min_share_with_digits: float = 0.5) -> TextNumbers:
        """The text columns whose typical value is short and that hold a digit in at least the given share of rows
        (long descriptions are left to TF-IDF: their numbers have no fixed meaning)."""
        chosen = []
        for column in spec.text_columns:
            text = train[column].fillna("").astype(str)
            if len(text) and text.str.len().median() <= max_median_chars and \
                    text.str.contains(r"\d").mean() >= min_share_with_digits:
                chosen.append(column)
        return cls(tuple(chosen))

    def raw(self, frame: pd.DataFrame) -> pd.DataFrame:
        """First and last number of each column (NaN where it holds none) and how many numbers it holds."""
        features = pd.DataFrame(index=frame.index)
        for column in self.columns:
            numbers = [[min(float(n.replace(",", "")), MAX_TEXT_NUMBER) for n in _NUMBER.findall(text)]
                       for text in frame[column].fillna("").astype(str)]
            features[f"{column}:first_number"] = [found[0] if found else np.nan for found in numbers]
            features[f"{column}:last_number"] = [found[-1] if found else np.nan for found in numbers]
            features[f"{column}:numbers"] = [float(len(found)) for found in numbers]
        return features

    def scaled(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``raw`` for linear models and networks: log1p magnitudes, 0 where none, plus a 'none' indicator each."""
        raw = self.raw(frame)
        values = [c for c in raw.columns if not c.endswith(":numbers")]
        return pd.concat([np.log1p(raw.clip(lower=0)).fillna(0.0),
                          raw[values].isna().astype(float).add_prefix("none:")], axis=1)


def scaled_attributes(frame: pd.DataFrame, spec: DatasetSpec, text_numbers: TextNumbers,
                      quantities: bool = True) -> pd.DataFrame:
    """The dense inputs of linear models and networks (standardise them before use): numeric attributes with their
    missing flags and signed logs, the numbers of short text columns (log1p, 'none' flags) and parsed quantities."""
    numeric = numeric_attribute_matrix(frame, spec)
    # the target is log price: a linear model needs the log of a skewed attribute (pack sizes up to 46,752)
    values = numeric[list(spec.numeric_columns)]
    parts = [numeric, (np.sign(values) * np.log1p(np.abs(values))).add_prefix("log:"), text_numbers.scaled(frame)]
    if quantities:
        parts.append(quantity_features(frame, spec))
    return pd.concat(parts, axis=1)


def categorical_tokens(frame: pd.DataFrame, spec: DatasetSpec) -> pd.Series:
    """Categorical attributes as one whitespace-free token per column ('brand=acme gender=men')."""
    if not spec.categorical_columns:
        return pd.Series([""] * len(frame), index=frame.index)
    tokens = [
        (column + "=" + frame[column].fillna("missing").astype(str).str.strip().str.lower()).str.replace(
            r"\s+", "_", regex=True)
        for column in spec.categorical_columns
    ]
    joined = tokens[0]
    for token in tokens[1:]:
        joined = joined + " " + token
    return joined


def dense_block(frame: pd.DataFrame) -> sp.csr_matrix:
    """A dense feature frame as a sparse block (to stack beside TF-IDF without densifying the TF-IDF)."""
    return sp.csr_matrix(frame.to_numpy(dtype=np.float64)) if frame.shape[1] else sp.csr_matrix((len(frame), 0))
