"""A TF-IDF vectorizer fitted on a fold's training text, cached with that text's matrix.

Fitting the vocabulary of word (1,2)-grams over 35k myntra rows and transforming them is a few seconds of every fold,
repeated by every warm run. The fitted state (the terms, their idf weights) and the training matrix are stored in a
``FittedCache`` under a key over the vectorizer's settings and the text itself; a warm run rebuilds the vectorizer
from them, and it transforms new text exactly as the one fitted. A stored entry whose parts do not fit together is
logged and refitted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.fitted_cache import FittedCache, frame_digest

log = logging.getLogger(__name__)
STORED = {"terms", "idf", "data", "indices", "indptr"}


def fitted_tfidf(make: Callable[[], TfidfVectorizer], texts: pd.Series,
                 cache: FittedCache) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    """``make()`` fitted on ``texts`` and their TF-IDF matrix (CSR, sorted indices), from ``cache`` when stored."""
    settings = make().get_params()
    settings.pop("dtype")  # a class: its name is in the key below
    key = cache.key("tfidf", settings, str(make().dtype), frame_digest(texts.to_frame("text")))

    def fit() -> dict[str, np.ndarray]:
        vectorizer = make()
        matrix = vectorizer.fit_transform(texts).tocsr()
        matrix.sort_indices()  # as transform() leaves them: LightGBM bins unsorted rows differently
        return {"terms": vectorizer.get_feature_names_out().astype(str), "idf": vectorizer.idf_,
                "data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr}

    restored = _restore(make, cache.arrays(key, None, fit), len(texts))
    if restored is None:
        log.warning("cached TF-IDF of %d rows does not fit together: refitting", len(texts))
        cache.forget(key)
        restored = _restore(make, cache.arrays(key, None, fit), len(texts))
        assert restored is not None  # a fresh fit always fits together
    return restored


def _restore(make: Callable[[], TfidfVectorizer], stored: dict[str, np.ndarray],
             rows: int) -> tuple[TfidfVectorizer, sp.csr_matrix] | None:
    if set(stored) != STORED:
        return None
    terms, idf, indptr = stored["terms"], stored["idf"], stored["indptr"]
    if len(terms) != len(idf) or len(indptr) != rows + 1 or len(stored["data"]) != indptr[-1]:
        return None
    vectorizer = make()
    vectorizer.set_params(vocabulary={str(term): i for i, term in enumerate(terms)})
    vectorizer.idf_ = idf
    matrix = sp.csr_matrix((stored["data"], stored["indices"], indptr), shape=(rows, len(terms)))
    return vectorizer, matrix
