import numpy as np
import pandas as pd
from approach_models import new_model
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.features.cross_fitted_text import CrossFittedRidge
from catalog_ml.features.fitted_cache import FittedCache


def mean_error(predictions: np.ndarray, target: np.ndarray) -> float:
    return float(np.abs(predictions - target).mean())


def test_training_rows_get_honest_predictions_even_when_every_row_has_a_twin(demo_template):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    train, held_out = dataset.train.iloc[:300], dataset.train.iloc[300:]
    target = np.log1p(dataset.target.to_numpy(dtype=float))
    fit_target, held_target = target[:300], target[300:]
    ridge = CrossFittedRidge(dataset.spec)
    cross_fitted = mean_error(ridge.fit_transform(train, fit_target), fit_target)
    in_sample = mean_error(ridge.transform(train), fit_target)
    held_out_error = mean_error(ridge.transform(held_out), held_target)
    assert in_sample < 0.6 * cross_fitted  # what the booster would have seen without cross-fitting
    assert 0.6 * held_out_error < cross_fitted < 1.6 * held_out_error

    id_column = dataset.spec.id_column
    twins = pd.concat([train, train.assign(**{id_column: "twin-" + train[id_column].astype(str)})],
                      ignore_index=True)
    twin_error = mean_error(CrossFittedRidge(dataset.spec).fit_transform(twins, np.tile(fit_target, 2)),
                            np.tile(fit_target, 2))
    assert twin_error > 0.8 * cross_fitted  # a row's twin is in its own inner fold, never a neighbour to copy


def test_a_single_near_duplicate_group_gets_the_mean_not_its_own_prices(demo_template, caplog):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    one_group = dataset.train.iloc[:40].copy()
    name_column = dataset.spec.text_columns[0]
    one_group[name_column] = one_group[name_column].iloc[0]  # every row shares one normalised name
    target = np.log1p(dataset.target.to_numpy(dtype=float)[:40])
    ridge = CrossFittedRidge(dataset.spec)
    assert np.allclose(ridge.fit_transform(one_group, target), target.mean())
    assert "one near-duplicate group" in caplog.text
    assert np.isfinite(ridge.transform(dataset.train.iloc[40:60])).all()


def test_a_cached_fold_reads_the_same_column_and_refits_only_for_rows_never_transformed(demo_template, tmp_path,
                                                                                       monkeypatch):
    from catalog_ml.features import cross_fitted_text
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    train, valid, unseen = dataset.train.iloc[:200], dataset.train.iloc[200:260], dataset.train.iloc[260:300]
    target = np.log1p(dataset.target.to_numpy(dtype=float)[:200])
    plain = CrossFittedRidge(dataset.spec)
    expected = plain.fit_transform(train, target), plain.transform(valid), plain.transform(unseen)

    CrossFittedRidge(dataset.spec, cache=FittedCache(tmp_path, "ridge")).fit_transform(train, target)
    first = CrossFittedRidge(dataset.spec, cache=FittedCache(tmp_path, "ridge"))
    first.fit_transform(train, target)
    first.transform(valid)

    fits = []
    original_fit = cross_fitted_text.Ridge.fit
    monkeypatch.setattr(cross_fitted_text.Ridge, "fit",
                        lambda self, *a, **k: fits.append(1) or original_fit(self, *a, **k))
    second = CrossFittedRidge(dataset.spec, cache=FittedCache(tmp_path, "ridge"))
    assert np.array_equal(second.fit_transform(train, target), expected[0])
    assert np.array_equal(second.transform(valid), expected[1])
    assert not fits  # both read from the cache
    assert np.allclose(second.transform(unseen), expected[2])
    assert len(fits) == 1  # the full Ridge, fitted once for rows it had not transformed before

    moved = CrossFittedRidge(dataset.spec, cache=FittedCache(tmp_path, "ridge")).fit_transform(train, target + 1.0)
    assert not np.allclose(moved, expected[0])  # another target is another key


def test_the_ridge_column_reuses_the_tfidf_that_tfidf_ridge_fitted_on_the_same_fold(demo_template, tmp_path,
                                                                                      monkeypatch):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    train, valid = dataset.train.iloc[:200], dataset.train.iloc[200:260]
    fits = []
    original = TfidfVectorizer.fit_transform
    monkeypatch.setattr(TfidfVectorizer, "fit_transform", lambda self, *a, **k: fits.append(1) or original(self, *a,
                                                                                                           **k))
    linear = new_model("tfidf_ridge", dataset.spec, tmp_path)
    linear.fit(train)
    assert len(fits) == 2  # word and character n-grams
    ridge = CrossFittedRidge(dataset.spec, cache=FittedCache(tmp_path, "cross_fitted_ridge"), tol=1e-4)  # tfidf_ridge's
    ridge.fit_transform(train, np.log1p(dataset.target.to_numpy(dtype=float)[:200]))
    assert len(fits) == 2  # both read from the cache tfidf_ridge filled
    assert (ridge.features_.transform(valid) != linear.features_.transform(valid)).nnz == 0
    assert np.allclose(ridge.transform(valid), np.log1p(linear.predict(valid)), atol=1e-6)  # the same full Ridge


def test_a_network_column_is_cross_fitted_as_honestly_as_the_ridge(demo_template):
    from catalog_ml.features.cross_fitted_text import CrossFittedText
    from catalog_ml.features.sparse_text import SparseTextSettings
    from catalog_ml.nn.sparse_network import SparseNetworkRegressor, SparseNetworkSettings

    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    train, held_out = dataset.train.iloc[:300], dataset.train.iloc[300:]
    target = np.log1p(dataset.target.to_numpy(dtype=float))
    fit_target, held_target = target[:300], target[300:]
    network = CrossFittedText(dataset.spec, SparseNetworkRegressor(SparseNetworkSettings(), [0]),
                              {"network": 1}, settings=SparseTextSettings(char_max_features=0))
    cross_fitted = mean_error(network.fit_transform(train, fit_target), fit_target)
    held_out_error = mean_error(network.transform(held_out), held_target)
    assert mean_error(network.transform(train), fit_target) < 0.85 * cross_fitted  # the full network saw these rows
    assert 0.7 * held_out_error < cross_fitted < 1.4 * held_out_error
    assert held_out_error < 0.6 * mean_error(np.median(fit_target), held_target)  # it learned prices
