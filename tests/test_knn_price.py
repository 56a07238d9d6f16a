import logging
from pathlib import Path

import numpy as np

from catalog_ml.approach import FitContext
from catalog_ml.config import build_config
from catalog_ml.grouping import item_names, normalise_name
from catalog_ml.loading import load_dataset
from catalog_ml.registry import get_approach
from catalog_ml.spec import load_spec


def test_training_rows_never_use_their_own_name_group_as_neighbours(demo_template):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    approach = get_approach("knn_price")
    model = approach(build_config(approach.Config), FitContext(dataset.spec, 0, 0, Path("unused"),
                                                              logging.getLogger("test")))
    model.fit(dataset.train)
    names = item_names(dataset.train, dataset.spec).map(normalise_name).to_numpy()
    matrix = model.vectoriser_.transform(dataset.train["catalog_content"].str.slice(0, 300))
    repeated = np.flatnonzero(np.array([(names == n).sum() > 1 for n in names]))
    assert len(repeated) > 0
    unguarded = model._features(dataset.train, matrix, exclude_names=None)
    assert np.any(unguarded[repeated, 3] >= 0.999)  # without the guard, rows find themselves
    features = model._features(dataset.train, matrix, exclude_names=names)
    assert np.all(features[repeated, 3] < 0.999)  # best similarity: never the row itself or its same-name twin
    predictions = model.predict(dataset.test)
    assert np.isfinite(predictions).all() and (predictions > 0).all()
