"""The row's own attributes reach the approaches whose main input is something else (neighbours, embeddings)."""

from dataclasses import replace

import pytest
from approach_models import demo_with_price_stating_ratings, new_model

from catalog_ml.core.metrics import smape


# a network on 270 rows and 384 embedding dimensions gains less than the gradient-boosting model does
@pytest.mark.parametrize("name, settings, gain", [("knn_price", ["spaces=tfidf"], 0.5),
                                                  ("mlp_fusion", ["inputs=text"], 0.85)])
def test_a_short_text_column_that_states_the_price_makes_the_model_far_better(demo_template, tmp_path, name,
                                                                               settings, gain):
    """'370 customer reviews' = price x 37: neighbours and sentence embeddings alone cannot read the magnitude."""
    spec, frame = demo_with_price_stating_ratings(demo_template)
    train, valid = frame.iloc[:300], frame.iloc[300:400]
    scores = {}
    for variant, columns in (("without", spec.text_columns[:-1]), ("with", spec.text_columns)):
        model = new_model(name, replace(spec, text_columns=columns), tmp_path / variant, settings)
        model.fit(train)
        scores[variant] = smape(valid[spec.target].to_numpy(), model.predict(valid))
    assert scores["with"] < gain * scores["without"], scores
