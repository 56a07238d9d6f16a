"""A score with its uncertainty: standard error over folds, row bootstrap, paired bootstrap of a gain."""

import json

import numpy as np
import pytest

from catalog_ml.cli.main import main
from catalog_ml.core.metrics import smape
from catalog_ml.core.task import ClassificationTask, RegressionTask
from catalog_ml.core.uncertainty import fold_standard_error, gain_interval, score_uncertainty


@pytest.fixture()
def prices():
    rng = np.random.default_rng(0)
    y = rng.lognormal(3.0, 1.0, 2000)
    good = y * rng.lognormal(0.0, 0.2, len(y))
    bad = y * rng.lognormal(0.0, 0.4, len(y))
    return y, good, bad, np.arange(len(y)) % 5


def test_fold_standard_error():
    assert fold_standard_error([1.0, 2.0, 3.0]) == pytest.approx(1.0 / np.sqrt(3))
    assert np.isnan(fold_standard_error([4.0]))


def test_the_row_interval_holds_the_score_and_is_seeded(prices):
    y, good, _, fold = prices
    result = score_uncertainty(RegressionTask(), "smape", y, good, fold)
    assert result.score == pytest.approx(smape(y, good)) and result.low < result.score < result.high
    assert result.high - result.low < 2.0 and result.fold_se > 0
    assert result == score_uncertainty(RegressionTask(), "smape", y, good, fold)
    smaller = score_uncertainty(RegressionTask(), "smape", y[:200], good[:200], fold[:200])
    assert smaller.high - smaller.low > result.high - result.low  # fewer rows, wider interval


def test_a_paired_gain_is_established_only_when_it_is_real(prices):
    y, good, bad, _ = prices
    task = RegressionTask()
    real = gain_interval(task, "smape", y, good, bad)
    assert real.gain == pytest.approx(smape(y, bad) - smape(y, good)) and real.low > 0
    assert "established" in real.describe("good", "bad") and "not" not in real.describe("good", "bad")
    none = gain_interval(task, "smape", y, good, good)
    assert none.gain == 0 and none.low == none.high == 0
    noise = gain_interval(task, "smape", y, good, good * np.random.default_rng(1).lognormal(0, 0.01, len(y)))
    assert noise.low < 0 < noise.high and "not established" in noise.describe("a", "b")


def test_classification_metrics_are_resampled_too():
    rng = np.random.default_rng(0)
    task = ClassificationTask(("a", "b"))
    y = np.where(rng.random(400) < 0.5, "a", "b")
    sure = np.column_stack([y == "a", y == "b"]).astype(float) * 0.8 + 0.1
    gain = gain_interval(task, "accuracy", y, sure, np.full((400, 2), 0.5))
    assert gain.gain == pytest.approx(0.5, abs=0.1) and gain.low > 0  # higher accuracy is a positive gain


def test_runs_and_blends_report_their_uncertainty(demo_spec_path, tmp_path, capsys):
    runs = tmp_path / "runs"
    for name in ("median_baseline", "tfidf_ridge"):
        assert main(["run", name, "--dataset", str(demo_spec_path), "--runs-dir", str(runs)]) == 0
    assert "CV smape " in capsys.readouterr().out
    summary = json.loads((runs / "demo" / "tfidf_ridge" / "run.json").read_text())
    assert summary["uncertainty"]["low"] < summary["score"] < summary["uncertainty"]["high"]
    assert main(["blend", "--dataset", str(demo_spec_path), "--runs-dir", str(runs), "--method", "mean",
                 "--submission", str(tmp_path / "s.csv")]) == 0
    printed = capsys.readouterr().out
    assert "honest nested smape " in printed and "(standard error over folds)" in printed
    assert "the blend over tfidf_ridge: " in printed and "paired 95% interval" in printed
    assert "paired 95% interval" in (runs / "demo" / "_blend" / "mean" / "report.md").read_text()
