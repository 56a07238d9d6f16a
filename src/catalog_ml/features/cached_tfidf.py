"""A TF-IDF vectorizer fitted on a fold's training text, cached with that text's matrix.

Fitting the vocabulary of word and character n-grams over 35k myntra rows and transforming them takes seconds of every
fold, repeated by every approach that fits the same TF-IDF and by every warm run. The fitted state (the terms, their
idf weights) and the training matrix are stored in a ``FittedCache`` under a key over the vectorizer's settings and
the text itself; a later call rebuilds the vectorizer from them, and it transforms new text exactly as the one
fitted. The terms are stored as UTF-8 bytes and end offsets (a fixed-width string array would be as wide as the
longest term times the vocabulary). A stored entry whose parts do not fit together is logged and refitted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.features.fitted_cache import FittedCache, frame_digest

STORED = {"term_bytes", "term_ends", "idf", "data", "indices", "indptr"}


def fitted_tfidf(make: Callable[[], TfidfVectorizer], texts: pd.Series,
                 cache: FittedCache) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    """``make()`` fitted on ``texts`` and their TF-IDF matrix (CSR, sorted indices), from ``cache`` when stored."""
    key = cache.key("tfidf", make().get_params(), frame_digest(texts.to_frame("text")))

    fitted: dict[str, object] = {}  # set when this call fits: its own vectorizer is then returned, not a rebuilt one

    def fit() -> dict[str, np.ndarray]:
        vectorizer = make()
        matrix = vectorizer.fit_transform(texts).tocsr()
        matrix.sort_indices()  # as transform() leaves them: LightGBM bins unsorted rows differently
        fitted.update(vectorizer=vectorizer, matrix=matrix)
        encoded = [term.encode("utf-8", "surrogatepass") for term in vectorizer.get_feature_names_out()]
        return {"term_bytes": np.frombuffer(b"".join(encoded), dtype=np.uint8),
                "term_ends": np.cumsum([len(term) for term in encoded], dtype=np.int64), "idf": vectorizer.idf_,
                "data": matrix.data, "indices": matrix.indices, "indptr": matrix.indptr}

    rows = len(texts)
    stored = cache.arrays(key, None, fit, fits=lambda arrays: _fits_together(arrays, rows))
    if fitted:
        return fitted["vectorizer"], fitted["matrix"]
    vectorizer = make()
    vectorizer.set_params(vocabulary=_vocabulary(stored["term_bytes"], stored["term_ends"]))
    vectorizer.idf_ = stored["idf"]
    matrix = sp.csr_matrix((stored["data"], stored["indices"], stored["indptr"]),
                           shape=(rows, len(stored["term_ends"])))
    return vectorizer, matrix


def _vocabulary(term_bytes: np.ndarray, term_ends: np.ndarray) -> dict[str, int]:
    blob = term_bytes.tobytes()
    starts = np.concatenate([[0], term_ends])[:-1]
    return {blob[start:end].decode("utf-8", "surrogatepass"): i
            for i, (start, end) in enumerate(zip(starts.tolist(), term_ends.tolist(), strict=True))}


def _fits_together(stored: dict[str, np.ndarray], rows: int) -> bool:
    """The stored parts are those ``fitted_tfidf`` writes, for ``rows`` rows, with one idf weight per term."""
    if set(stored) != STORED:
        return False
    indptr, ends = stored["indptr"], stored["term_ends"]
    return (len(ends) == len(stored["idf"]) and (len(ends) == 0 or ends[-1] == len(stored["term_bytes"]))
            and len(indptr) == rows + 1 and len(stored["data"]) == indptr[-1])
