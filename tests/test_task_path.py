"""One task path: the task object, classification through submit/validate/tracking, explanations fitted as the
runner fits a fold."""

import numpy as np
import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.core.task import ClassificationTask, RegressionTask, task_named
from catalog_ml.errors import CatalogError


def test_regression_task_checks_and_round_trips_predictions():
    task = RegressionTask()
    frame = task.frame(np.array(["a", "b"]), task.checked([2.0, 3.0], 2, "x"), fold=1)
    assert list(frame.columns) == ["id", "fold", "pred"]
    np.testing.assert_array_equal(task.values(frame, "f"), [2.0, 3.0])
    with pytest.raises(CatalogError, match="x: 1 non-finite or non-positive"):
        task.checked([1.0, -1.0], 2, "x")
    with pytest.raises(CatalogError, match="x: 1 predictions for 2 rows"):
        task.checked([1.0], 2, "x")
    assert task.lower_is_better("smape") and task.loss(np.ones(2), np.ones(2), "smape") == 0.0


def test_classification_task_checks_and_round_trips_probabilities():
    task = ClassificationTask(("a", "b"))
    proba = task.checked([[1.0, 3.0], [2.0, 2.0]], 2, "x")
    np.testing.assert_allclose(proba, [[0.25, 0.75], [0.5, 0.5]])
    frame = task.frame(np.array(["1", "2"]), proba)
    assert list(frame["pred"]) == ["b", "a"] and list(task.submission_values(proba)) == ["b", "a"]
    np.testing.assert_allclose(task.values(frame, "f"), proba)
    assert task.loss(np.array(["b", "a"]), proba, "accuracy") == -1.0  # a loss: higher accuracy is lower
    assert task.best(["p", "q"], pd.Series({"p": 0.6, "q": 0.9}), "macro_f1") == "q"
    with pytest.raises(CatalogError, match="unknown task 'ranking'"):
        task_named("ranking")


def test_explain_fits_the_fold_exactly_as_the_runner(demo_spec_path, tmp_path):
    runs, cache = tmp_path / "runs", tmp_path / "cache"
    settings = ["--set", "max_rounds=60"]
    assert main(["run", "lgbm_fusion", "--dataset", str(demo_spec_path), "--runs-dir", str(runs), "--fold", "1",
                 "--seed", "7", "--cache-dir", str(cache), *settings]) == 0
    out = tmp_path / "explain"
    assert main(["explain", "lgbm_fusion", "--dataset", str(demo_spec_path), "--fold", "1", "--seed", "7",
                 "--cache-dir", str(cache), "--rows", "3", "--out", str(out), *settings]) == 0
    explained = pd.read_csv(out / "rows.csv", dtype={"id": str}).set_index("id")["predicted"]
    fold_model = pd.read_parquet(runs / "demo" / "lgbm_fusion" / "parts" / "fold_1.oof.parquet").set_index("id")
    np.testing.assert_allclose(explained.to_numpy(), fold_model.loc[explained.index, "pred"].to_numpy(), rtol=1e-12)


def test_explanations_refuse_a_classification_dataset_in_one_line(demo_template, capsys):
    spec = str(demo_template / "dataset_category.yaml")
    assert main(["explain", "lgbm_fusion", "--dataset", spec]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "explains price models" in errors[0] and "classification" in errors[0]


def test_classification_runs_and_blends_submit_and_validate(demo_template, tmp_path, capsys):
    spec = str(demo_template / "dataset_category.yaml")
    runs = tmp_path / "runs"
    for name, extra in (("median_baseline", []), ("classical_baselines", ["--set", "model=naive_bayes"])):
        assert main(["run", name, "--dataset", spec, "--runs-dir", str(runs), *extra]) == 0
    single = tmp_path / "single.csv"
    assert main(["submit", "--dataset", spec, "--runs-dir", str(runs), "--run", "classical_baselines",
                 "--out", str(single)]) == 0  # a run name, not only a folder
    blended = tmp_path / "blend.csv"
    assert main(["blend", "--dataset", spec, "--runs-dir", str(runs), "--method", "mean",
                 "--submission", str(blended)]) == 0
    for submission in (single, blended):
        assert main(["validate-submission", str(submission), "--dataset", spec]) == 0
    assert pd.read_csv(single)["category"].isin(pd.read_csv(demo_template / "train_category.csv")["category"]).all()
    proba = pd.read_parquet(runs / "demo_category" / "_blend" / "mean" / "test.parquet")
    assert len(proba) == len(pd.read_csv(single)) and any(c.startswith("proba:") for c in proba.columns)
    wrong = tmp_path / "wrong.csv"
    pd.read_csv(single).assign(category="no such class").to_csv(wrong, index=False)
    capsys.readouterr()
    assert main(["validate-submission", str(wrong), "--dataset", spec]) == 2
    assert "not classes of the training table" in capsys.readouterr().err


def test_submit_full_without_a_full_fit_says_how_to_make_one(demo_spec_path, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs)]) == 0
    assert main(["submit", "--dataset", str(demo_spec_path), "--runs-dir", str(runs), "--run", "median_baseline",
                 "--full"]) == 2
    assert "--fold -1" in capsys.readouterr().err


def test_classification_blends_are_tracked(demo_template, tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    spec, runs = str(demo_template / "dataset_category.yaml"), str(tmp_path / "runs")
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    for name in ("median_baseline", "classical_baselines"):
        assert main(["run", name, "--dataset", spec, "--runs-dir", runs]) == 0
    assert main(["blend", "--dataset", spec, "--runs-dir", runs, "--method", "mean", "--tracking-uri", uri,
                 "--submission", str(tmp_path / "s.csv")]) == 0
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("catalog_ml/demo_category")
    (blend,) = client.search_runs([experiment.experiment_id])
    assert blend.info.run_name == "blend/mean" and blend.data.params["objective"] == "macro_f1"  # the spec's metric
    assert 0 < blend.data.metrics["nested_accuracy"] <= 1 and blend.data.metrics["nested_log_loss"] > 0


def test_the_demo_category_task_is_not_trivial(demo_template, tmp_path):
    """The text names the category; mislabelled training rows (as in real catalogues) keep CV accuracy below 1."""
    spec = str(demo_template / "dataset_category.yaml")
    runs = tmp_path / "runs"
    assert main(["run", "classical_baselines", "--dataset", spec, "--runs-dir", str(runs), "--set",
                 "model=naive_bayes"]) == 0
    scores = pd.read_csv(runs / "demo_category" / "classical_baselines" / "scores.csv").set_index("fold")
    assert 0.8 < scores.loc["all", "accuracy"] < 0.97
