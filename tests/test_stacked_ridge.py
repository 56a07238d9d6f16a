import numpy as np
import pandas as pd

from catalog_ml.loading import load_dataset
from catalog_ml.spec import load_spec
from catalog_ml.stacked_ridge import CrossFittedRidge


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
