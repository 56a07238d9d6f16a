"""The sparse feature matrix of the linear approaches: word and character TF-IDF (never densified), categorical
tokens, and scaled numeric attributes (raw and log) plus parsed quantities and the numbers of short text columns.

With a cache folder, each fitted vectorizer and its training matrix are stored (``cached_tfidf``) under a key over its
settings and the text alone, so the approaches that fit the same TF-IDF on the same fold (tfidf_ridge, and the Ridge
column of lgbm_fusion) fit it once between them, and a second run not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import StandardScaler

from catalog_ml.data.spec import DatasetSpec
from catalog_ml.features.cached_tfidf import fitted_tfidf
from catalog_ml.features.fitted_cache import FittedCache
from catalog_ml.features.text import TextNumbers, categorical_tokens, dense_block, joined_text, scaled_attributes


@dataclass(frozen=True)
class SparseTextSettings:
    """How the sparse matrix is built (the approaches expose these as their own settings)."""

    word_ngram_max: int = 2
    word_min_df: int = 2
    word_max_features: int = 200_000
    char_ngram_min: int = 3
    char_ngram_max: int = 5
    char_max_features: int = 200_000
    char_max_chars: int = 400
    max_text_chars: int = 4000
    use_quantities: bool = True
    use_dense: bool = True  # False: text and categorical tokens only (non-negative, for naive Bayes)


class SparseTextFeatures:
    """Fit on training rows, then transform any rows into the same CSR columns (``cache_dir``: fitted TF-IDF kept
    there)."""

    def __init__(self, spec: DatasetSpec, settings: SparseTextSettings, cache_dir: Path | None = None) -> None:
        self.spec = spec
        self.settings = settings
        self.cache = FittedCache(cache_dir, "sparse_text_tfidf")

    def fit_transform(self, frame: pd.DataFrame) -> sp.csr_matrix:
        s = self.settings
        self.word_, word_matrix = fitted_tfidf(
            lambda: TfidfVectorizer(ngram_range=(1, s.word_ngram_max), min_df=s.word_min_df,
                                    max_features=s.word_max_features, sublinear_tf=True, dtype=np.float32,
                                    token_pattern=r"(?u)\b\w+\b"),
            self._word_text(frame), self.cache)
        blocks = [word_matrix]
        self.char_ = None
        if s.char_max_features:
            self.char_, char_matrix = fitted_tfidf(
                lambda: TfidfVectorizer(analyzer="char_wb", ngram_range=(s.char_ngram_min, s.char_ngram_max),
                                        min_df=2, max_features=s.char_max_features, sublinear_tf=True,
                                        dtype=np.float32),
                joined_text(frame, self.spec, s.char_max_chars), self.cache)
            blocks.append(char_matrix)
        self.text_numbers_ = TextNumbers.fit(frame, self.spec)
        self.scaler_ = StandardScaler()
        if s.use_dense:
            blocks.append(dense_block(pd.DataFrame(self.scaler_.fit_transform(self._dense(frame)))))
        return sp.hstack(blocks, format="csr")

    def transform(self, frame: pd.DataFrame) -> sp.csr_matrix:
        blocks = [self.word_.transform(self._word_text(frame))]
        if self.char_ is not None:
            blocks.append(self.char_.transform(joined_text(frame, self.spec, self.settings.char_max_chars)))
        if self.settings.use_dense:
            blocks.append(dense_block(pd.DataFrame(self.scaler_.transform(self._dense(frame)))))
        return sp.hstack(blocks, format="csr")

    def _word_text(self, frame: pd.DataFrame) -> pd.Series:
        return joined_text(frame, self.spec, self.settings.max_text_chars) + " " + categorical_tokens(frame,
                                                                                                       self.spec)

    def _dense(self, frame: pd.DataFrame) -> pd.DataFrame:
        dense = scaled_attributes(frame, self.spec, self.text_numbers_, self.settings.use_quantities)
        return dense if dense.shape[1] else pd.DataFrame({"bias": np.zeros(len(frame))})
