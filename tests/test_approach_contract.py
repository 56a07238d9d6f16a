"""One contract test over every registered approach: shapes, ids, no NaN, same result twice with one seed, and a
saved model that reproduces the run's test predictions."""

import numpy as np
import pandas as pd
import pytest

from catalog_ml.api.predicting import LoadedRun, read_new_table
from catalog_ml.core.config import build_config
from catalog_ml.core.registry import approach_names, get_approach
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec


@pytest.fixture(scope="module")
def dataset(demo_template):
    return load_dataset(load_spec(demo_template / "dataset.yaml"))


def test_registry_lists_the_spine_approaches():
    assert {"median_baseline", "tfidf_ridge"} <= set(approach_names())


@pytest.mark.parametrize("name", [n for n in approach_names() if "regression" in get_approach(n).tasks])
def test_approach_contract(name, dataset, tmp_path):
    approach = get_approach(name)
    assert approach.Config.__doc__ or approach.__doc__
    # deep approaches run their tiny configuration here (no real weights offline); every other one its defaults.
    # One fold: averaging the folds' models is checked on whole runs in test_predict.py
    config = build_config(approach.Config, overrides=list(getattr(approach, "tiny_settings", ())))
    results = [
        run_approach(dataset, RunRequest(approach=approach, config=config, output_root=tmp_path / f"r{i}",
                                         cache_dir=tmp_path / "cache", progress=False, folds=(0,), seed=5,
                                         save_models=True))
        for i in range(2)
    ]
    oofs = [pd.read_parquet(r.paths.oof) for r in results]
    tests = [pd.read_parquet(r.paths.test) for r in results]
    valid_ids = set(dataset.train["sample_id"][np.isin(pd.read_csv(dataset.spec.folds_path)["fold"], [0])])
    assert set(oofs[0]["id"]) == valid_ids and len(oofs[0]) == len(valid_ids)
    assert list(tests[0]["id"]) == list(dataset.test["sample_id"])
    for frame in (oofs[0], tests[0]):
        assert np.isfinite(frame["pred"]).all() and (frame["pred"] > 0).all()
    pd.testing.assert_frame_equal(oofs[0], oofs[1])
    pd.testing.assert_frame_equal(tests[0], tests[1])
    loaded = LoadedRun(results[0].paths.root, tmp_path / "cache", require_complete=False)
    predicted = loaded.predict(read_new_table(dataset.spec.test_path, loaded.spec))
    np.testing.assert_allclose(predicted, tests[0]["pred"].to_numpy(), rtol=1e-9, atol=0)
