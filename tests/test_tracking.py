"""MLflow tracking against a real local SQLite store; untracked runs when the server is unreachable."""

import socket

import pytest

from catalog_ml.cli.main import main
from catalog_ml.tracking import tracker as tracking
from catalog_ml.tracking.tracker import Tracker, start_early

mlflow = pytest.importorskip("mlflow")


def test_runs_and_blends_are_logged_to_a_local_store(demo_spec_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    runs = str(tmp_path / "runs")
    for name in ("median_baseline", "tfidf_ridge"):
        assert main(["run", name, "--dataset", str(demo_spec_path), "--runs-dir", runs, "--tracking-uri", uri]) == 0
    assert main(["blend", "--dataset", str(demo_spec_path), "--runs-dir", runs, "--method", "mean",
                 "--tracking-uri", uri, "--submission", str(tmp_path / "s.csv")]) == 0
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("catalog_ml/demo")
    found = {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}
    assert set(found) == {"run/median_baseline", "run/tfidf_ridge", "blend/mean"}
    ridge = found["run/tfidf_ridge"]
    assert ridge.data.params["approach"] == "tfidf_ridge" and "settings.alpha" in " ".join(ridge.data.params)
    assert 0 < ridge.data.metrics["cv_smape"] < 100 and ridge.data.metrics["wall_seconds"] > 0
    history = client.get_metric_history(ridge.info.run_id, "fold_smape")
    assert sorted(m.step for m in history) == [0, 1, 2, 3]
    artifacts = {a.path for a in client.list_artifacts(ridge.info.run_id)}
    assert {"oof.parquet", "test.parquet", "scores.csv", "config.json"} <= artifacts
    blend = found["blend/mean"]
    assert blend.data.metrics["nested_score"] > 0 and "weights.tfidf_ridge" in blend.data.params


def test_unreachable_server_warns_once_and_the_run_goes_on(demo_spec_path, tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    uri = f"http://127.0.0.1:{port}"
    for _ in range(2):
        assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir",
                     str(tmp_path / "runs"), "--tracking-uri", uri]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "unreachable" in line]
    assert len(warnings) == 1 and "continuing without tracking" in warnings[0]
    assert (tmp_path / "runs" / "demo" / "median_baseline" / "oof.parquet").is_file()


def test_no_tracking_asked_means_no_store(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracker = Tracker(None, "x")
    assert not tracker.active and tracker.log_run("run/x", {}, {"a": 1.0}) is None


def test_a_helper_started_early_is_taken_over_by_the_tracker(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    start_early(["median_baseline", "--dataset", "demo", "--tracking-uri", uri])
    early = tracking._early_helpers[uri]
    tracker = Tracker(uri, "early")
    try:
        assert tracker._worker is early and uri not in tracking._early_helpers
        assert tracker.log_run("run/x", {"a": 1}, {"m": 2.0}) is not None
    finally:
        tracker.close()
    experiment = mlflow.tracking.MlflowClient(tracking_uri=uri).get_experiment_by_name("early")
    assert experiment is not None


def test_start_early_only_when_tracking_is_asked(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking, "_early_helpers", {})
    start_early(["tfidf_ridge", "--dataset", "demo"])
    start_early(["tfidf_ridge", "--track", "--help"])
    start_early(["tfidf_ridge", "--tracking-uri"])  # the run's own parser reports the missing value
    assert tracking._early_helpers == {}


def test_a_helper_nobody_takes_over_exits_when_its_input_closes(tmp_path, monkeypatch):
    monkeypatch.setattr(tracking, "_early_helpers", {})
    start_early(["--tracking-uri", f"sqlite:///{tmp_path / 'mlflow.db'}"])
    (helper,) = tracking._early_helpers.values()
    helper.stdin.close()
    assert helper.wait(timeout=60) == 0 and helper.stdout.read() == ""
