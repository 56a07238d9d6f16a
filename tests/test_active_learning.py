"""Active learning: uncertainty measures, the diversity step, the rank-labels command."""

import numpy as np
import pandas as pd
import pytest

from catalog_ml.blend.active_learning import classification_uncertainty, disagreement, diverse_batch
from catalog_ml.cli.main import main
from catalog_ml.errors import CatalogError


def test_uncertainty_measures():
    assert disagreement(np.array([[1.0, 1.0], [1.0, 3.0]])).tolist() == [0.0, 1.0]
    with pytest.raises(CatalogError, match="two members"):
        disagreement(np.ones((3, 1)))
    probabilities = np.array([[0.98, 0.01, 0.01], [0.34, 0.33, 0.33], [0.5, 0.5, 0.0]])
    entropy = classification_uncertainty(probabilities)
    assert entropy.argmax() == 1 and entropy.argmin() == 0
    margin = classification_uncertainty(probabilities, "margin")
    assert margin[2] == pytest.approx(1.0) and margin[0] < 0.1


def test_diverse_batch_skips_near_duplicates():
    # rows 0-4 are one product (identical vectors, the highest scores); rows 5-7 are distinct
    vectors = np.zeros((8, 4))
    vectors[:5, 0] = 1.0
    vectors[5, 1] = vectors[6, 2] = vectors[7, 3] = 1.0
    scores = np.array([1.0, 0.99, 0.98, 0.97, 0.96, 0.5, 0.4, 0.3])
    picked = diverse_batch(scores, vectors, 3)
    assert picked[0] == 0 and set(picked[1:]) == {5, 6}
    assert np.argsort(-scores)[:3].tolist() == [0, 1, 2]  # plain ranking would take three copies


def test_request_larger_than_pool_returns_the_whole_pool(caplog):
    picked = diverse_batch(np.array([0.2, 0.9, 0.5]), np.eye(3), 10)
    assert sorted(picked) == [0, 1, 2] and picked[0] == 1 and "pool has 3" in caplog.text


def test_rank_labels_command(demo_spec_path, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    for name in ("median_baseline", "tfidf_ridge"):
        assert main(["run", name, "--dataset", str(demo_spec_path), "--runs-dir", runs]) == 0
    out = tmp_path / "batch.csv"
    assert main(["rank-labels", "--dataset", str(demo_spec_path), "--runs-dir", runs, "--batch", "25",
                 "--out", str(out)]) == 0
    batch = pd.read_csv(out)
    assert len(batch) == 25 and batch["id"].is_unique and (batch["disagreement"] > 0).all()
    printed = capsys.readouterr().out
    assert "4 fold models of 1 run:" in printed and "median_baseline left out of the committee" in printed
    assert main(["rank-labels", "--dataset", str(demo_spec_path), "--runs-dir", runs, "--batch", "0"]) == 2
