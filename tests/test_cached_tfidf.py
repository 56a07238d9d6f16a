import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.features.cached_tfidf import fitted_tfidf
from catalog_ml.features.fitted_cache import FittedCache

TEXTS = pd.Series(["red cotton shirt", "blue cotton shirt slim", "red leather shoe", "blue shoe", "slim red shirt",
                   "leather belt brown", "brown shoe leather"])
NEW = ["red shirt brown", "unseen words only", ""]


class CountingFits:
    """Makes the vectorizer under test and counts how often one is fitted."""

    def __init__(self, max_features: int = 6) -> None:
        self.fits = 0
        self.max_features = max_features

    def __call__(self) -> TfidfVectorizer:
        counter = self

        class Counted(TfidfVectorizer):
            def fit_transform(self, raw_documents, y=None):
                counter.fits += 1
                return super().fit_transform(raw_documents, y)

        return Counted(ngram_range=(1, 2), min_df=1, max_features=self.max_features, sublinear_tf=True,
                       dtype=np.float32)


def test_a_cached_vectorizer_transforms_exactly_as_the_fitted_one(tmp_path):
    reference = CountingFits()()
    expected = reference.fit_transform(TEXTS)
    make = CountingFits()
    cache = FittedCache(tmp_path, "tfidf")
    first, first_matrix = fitted_tfidf(make, TEXTS, cache)
    again, again_matrix = fitted_tfidf(make, TEXTS, FittedCache(tmp_path, "tfidf"))
    assert make.fits == 1  # the second call read the cache
    for vectorizer, matrix in ((first, first_matrix), (again, again_matrix)):
        assert matrix.has_sorted_indices and matrix.dtype == np.float32
        assert (matrix != expected).nnz == 0
        assert list(vectorizer.get_feature_names_out()) == list(reference.get_feature_names_out())
        assert (vectorizer.transform(NEW) != reference.transform(NEW)).nnz == 0

    fitted_tfidf(make, TEXTS.iloc[1:], cache)  # other rows
    fitted_tfidf(CountingFits(max_features=3), TEXTS, cache)  # other settings (a fresh counter: its own fit)
    assert make.fits == 2


def test_a_stored_entry_whose_parts_do_not_fit_is_refitted(tmp_path, caplog):
    make = CountingFits()
    cache = FittedCache(tmp_path, "tfidf")
    fitted_tfidf(make, TEXTS, cache)
    path = next((tmp_path / "fitted" / "tfidf").glob("*.npz"))
    with np.load(path) as stored:
        parts = dict(stored)
    np.savez(path.with_suffix(".tmp.npz"), **{**parts, "indptr": parts["indptr"][:-2]})  # a row short
    path.with_suffix(".tmp.npz").replace(path)
    vectorizer, matrix = fitted_tfidf(make, TEXTS, cache)
    assert make.fits == 2 and "does not fit together" in caplog.text
    assert matrix.shape == (len(TEXTS), 6) and (vectorizer.transform(TEXTS) != matrix).nnz == 0
    fitted_tfidf(make, TEXTS, cache)
    assert make.fits == 2  # the refitted entry replaced the bad one

    fitted_tfidf(make, TEXTS, FittedCache(None, "tfidf"))  # no cache folder: fitted every time
    assert make.fits == 3


def test_terms_of_any_script_and_length_round_trip_compactly(tmp_path):
    texts = pd.Series(["grüne teekanne " + "x" * 5000, "grüne tasse 商品", "商品 teekanne " + "x" * 5000, "tasse"])
    make = lambda: TfidfVectorizer(min_df=1, dtype=np.float32)  # noqa: E731
    reference = make().fit(texts)
    fitted_tfidf(make, texts, FittedCache(tmp_path, "tfidf"))
    vectorizer, _ = fitted_tfidf(make, texts, FittedCache(tmp_path, "tfidf"))
    assert vectorizer.vocabulary_ == reference.vocabulary_
    (path,) = (tmp_path / "fitted" / "tfidf").glob("*.npz")
    assert path.stat().st_size < 12_000  # one 5,000-character term is not padded onto every other term
