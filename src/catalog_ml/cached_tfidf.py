"""A TF-IDF vectorizer fitted on a fold's training text, cached with that text's matrix.

Fitting the vocabulary of word (1,2)-grams over 35k myntra rows and transforming them is a few seconds of every fold,
repeated by every warm run. The fitted state (the terms, their idf weights) and the training matrix are stored in a
``FittedCache`` under a key over the vectorizer's settings and the text itself; a warm run rebuilds the vectorizer
from them, and it transforms new text exactly as the one fitted. A stored entry whose parts do not fit together is
logged and refitted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.fitted_cache import FittedCache, frame_digest

STORED = {"terms", "idf", "data", "indices", "indptr"}


def fitted_tfidf(make: Callable[[], TfidfVectorizer], texts: pd.Series,
                 cache: FittedCache) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    """``make()`` fitted on ``texts`` and their TF-IDF matrix (CSR, sorted indices), from ``cache`` when stored."""
    key = cache.key("tfidf", make().get_params(), frame_digest(texts.to_frame("text")))

    def fit() -> dict[str, np.ndarray]:
        vectorizer = make()
        matrix = vectorizer.fit_transform(texts).tocsr()
        matrix.sort_indices()  # as transform() leaves them: LightGBM bins unsorted rows differently
        return {"terms": vectorizer.get_feature_names_out().astype(str), "idf": vectorizer.idf_,
                "data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr}

    rows = len(texts)
    stored = cache.arrays(key, None, fit, fits=lambda arrays: _fits_together(arrays, rows))
    vectorizer = make()
    vectorizer.set_params(vocabulary={str(term): i for i, term in enumerate(stored["terms"])})
    vectorizer.idf_ = stored["idf"]
    matrix = sp.csr_matrix((stored["data"], stored["indices"], stored["indptr"]), shape=(rows, len(stored["terms"])))
    return vectorizer, matrix


def _fits_together(stored: dict[str, np.ndarray], rows: int) -> bool:
    """The stored parts are those ``fitted_tfidf`` writes, for ``rows`` rows, with one idf weight per term."""
    if set(stored) != STORED:
        return False
    indptr = stored["indptr"]
    return len(stored["terms"]) == len(stored["idf"]) and len(indptr) == rows + 1 and len(stored["data"]) == indptr[-1]
