"""The benchmark suite's own machinery: resumable steps, partial synthetic sizes, tables, and every way the peer
(AutoGluon) can fail without losing our results. AutoGluon itself is never installed here: fake environments stand
in for it."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pandas as pd
import pytest

from catalog_ml.data.folds import load_folds
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import autogluon_peer  # noqa: E402
import bench_suite  # noqa: E402
import common  # noqa: E402


def fake_venv(root: Path, script: str) -> Path:
    """A folder that passes for a ready AutoGluon environment whose python runs ``script`` (sh) instead."""
    venv = root / "fake-venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text("#!/bin/sh\n" + script + "\n")
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    (venv / "catalog_ml_pins.txt").write_text("\n".join(autogluon_peer.AUTOGLUON_PINS))
    return venv


@pytest.mark.slow
def test_synthetic_suite_tables_partial_sizes_and_resume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_suite, "SCALE_APPROACHES", ("median_baseline", "tfidf_ridge"))  # the two cheapest
    work, assets = tmp_path / "work", tmp_path / "assets"
    arguments = ["--datasets", "", "--synthetic", "300,350:0", "--work-dir", str(work), "--assets",
                 "--assets-dir", str(assets)]
    assert bench_suite.main(arguments) == 0
    table = pd.read_csv(work / "suite.csv")
    full, partial = table[table["dataset"] == "synthetic_300"], table[table["dataset"] == "synthetic_350"]
    assert set(bench_suite.SCALE_APPROACHES) <= set(full["step"]) and "honest blend" in set(full["step"])
    assert set(partial["step"]) == set(bench_suite.SCALE_APPROACHES)  # one fold of five: no blend
    assert (partial["folds_run"] == 1).all() and (full.dropna(subset=["folds_run"])["folds_run"] == 5).all()
    ridge = full.set_index("step").loc["tfidf_ridge", "smape"]
    assert ridge < full.set_index("step").loc["median_baseline", "smape"]
    assert partial["smape"].between(0, 200).all()
    report = (assets / "benchmark_suite.md").read_text()
    assert "Generated catalogues" in report and "--synthetic 300,350:0" in report
    assert "CPU cores (" in report.splitlines()[0] and "GiB memory" in report.splitlines()[0]  # the machine named
    assert (assets / "benchmark_suite.png").stat().st_size > 10_000
    state = json.loads((work / "suite_state.json").read_text())
    assert {"synthetic_300/blend", "synthetic_350/tfidf_ridge"} <= set(state)

    assert bench_suite.main(arguments) == 0  # every step is remembered: the re-run repeats the recorded figures
    again = pd.read_csv(work / "suite.csv")
    pd.testing.assert_series_equal(again["seconds"], table["seconds"])


def test_comparison_tables_show_relative_gaps(tmp_path: Path) -> None:
    rows = [
        {"dataset": "toy", "step": "tfidf_ridge", "smape": 50.0, "seconds": 10.0, "peak_mb": 300.0},
        {"dataset": "toy", "step": "honest blend", "smape": 45.0, "seconds": 5.0, "peak_mb": 200.0},
        {"dataset": "toy", "step": "lgbm_fusion", "smape": float("nan"), "seconds": 9.0, "peak_mb": 100.0,
         "status": "did not finish in 9 s"},
        {"dataset": "toy", "step": "ours: total", "smape": 45.0, "seconds": 15.0, "peak_mb": 300.0},
        {"dataset": "toy", "step": "autogluon best_quality (ok)", "smape": 40.0, "seconds": 16.0,
         "autogluon_folds": json.dumps({"0": 40.0})},
        {"dataset": "other", "step": "tfidf_ridge", "smape": 20.0, "seconds": 1.0, "peak_mb": 1.0},
        {"dataset": "other", "step": "honest blend", "smape": 19.0, "seconds": 1.0, "peak_mb": 1.0},
        {"dataset": "other", "step": "autogluon best_quality (did not finish in 90 s)", "smape": float("nan"),
         "seconds": 90.0, "autogluon_folds": "{}"},
        {"dataset": "unpeered", "step": "tfidf_ridge", "smape": 30.0, "seconds": 1.0, "peak_mb": 1.0},
        {"dataset": "unpeered", "step": "honest blend", "smape": 27.0, "seconds": 1.0, "peak_mb": 1.0},
        {"dataset": "unpeered", "step": "mlp_fusion", "smape": float("nan"), "seconds": 1.0, "peak_mb": 1.0,
         "ok": False},
    ]
    wide = bench_suite.comparison_table(pd.DataFrame(rows)).set_index("dataset")
    assert wide.loc["toy", "blend vs ridge"] == "-10.0%" and wide.loc["toy", "blend vs AutoGluon"] == "+12.5%"
    assert wide.loc["toy", "lgbm_fusion"] == "did not finish in 9 s" and wide.loc["toy", "tfidf_ridge"] == "50.00"
    assert wide.loc["other", "AutoGluon"] == "did not finish in 90 s (90 s)"
    assert wide.loc["other", "blend vs AutoGluon"] == "n/a"
    assert wide.loc["unpeered", "mlp_fusion"].startswith("failed")
    assert wide.loc["unpeered", "AutoGluon"] == "not run" and wide.loc["unpeered", "blend vs AutoGluon"] == ""
    blend_dir = tmp_path / "runs" / "toy" / "_blend" / "auto"
    blend_dir.mkdir(parents=True)
    pd.DataFrame({"fold": ["0", "all"], "blend": [42.0, 45.0]}).to_csv(blend_dir / "fold_scores.csv", index=False)
    folds = bench_suite.peer_fold_table(pd.DataFrame(rows), tmp_path)
    assert folds.to_dict("records") == [{"dataset": "toy", "fold": "0", "honest blend": 42.0, "AutoGluon": 40.0,
                                         "difference": "+5.0%"}]


def test_peer_crash_overrun_and_install_failure_are_reported(demo_spec_path: Path, tmp_path: Path) -> None:
    dataset = load_dataset(load_spec(demo_spec_path))
    folds = load_folds(dataset)
    crashed = autogluon_peer.run_autogluon(dataset, folds, 5.0, tmp_path / "crash",
                                           fake_venv(tmp_path / "a", "echo boom >&2; exit 3"))
    assert crashed.status.startswith("failed: exit 3") and crashed.predictions is None
    assert "boom" in (tmp_path / "crash" / "autogluon.log").read_text()

    first_id = str(dataset.train[dataset.spec.id_column].iloc[0])
    one_fold = (f'{sys.executable} -c "import pandas as p, pathlib as l, sys; o = l.Path(sys.argv[sys.argv.index('
                f"'--out') + 1]); o.mkdir(parents=True); p.DataFrame({{'id': ['{first_id}'], 'fold': [0], "
                f"'pred': [9.5]}}).to_parquet(o / 'fold_0.parquet')\" \"$@\"; sleep 30")
    overrun = autogluon_peer.run_autogluon(dataset, folds, 1.0, tmp_path / "slow", fake_venv(tmp_path / "b", one_fold),
                                           grace_seconds=4.0)
    assert overrun.status == "did not finish in 5 s" and overrun.seconds < 20
    assert overrun.predictions["pred"].tolist() == [9.5]  # the fold that finished is kept

    missing = autogluon_peer.run_autogluon(dataset, folds, 5.0, tmp_path / "none", Path("/proc/no-venv-here"))
    assert missing.status.startswith("not installed: install failed") and missing.predictions is None


def test_peer_leaves_out_model_types_and_reports_why_it_gave_up(demo_spec_path: Path, tmp_path: Path) -> None:
    dataset = load_dataset(load_spec(demo_spec_path))
    folds = load_folds(dataset)
    gives_up = ('echo "$@"; o=$(echo "$@" | sed "s/.*--out //"); mkdir -p "$o"; '
                'printf "no model fitted in its 8 s share of fold 0" > "$o/failure.txt"; exit 4')
    result = autogluon_peer.run_autogluon(dataset, folds, 40.0, tmp_path / "short", fake_venv(tmp_path / "a", gives_up))
    assert result.status == "failed: no model fitted in its 8 s share of fold 0" and result.predictions is None
    assert "--exclude-models RF,XT" in (tmp_path / "short" / "autogluon.log").read_text()  # the default

    crashes = fake_venv(tmp_path / "b", "printf '[%s]' \"$@\"; exit 5")
    full = autogluon_peer.run_autogluon(dataset, folds, 40.0, tmp_path / "short", crashes, exclude=())
    assert full.status.startswith("failed: exit 5")  # the reason the earlier run left is not reused
    assert "[--exclude-models][][--out]" in (tmp_path / "short" / "autogluon.log").read_text()


def test_suite_records_a_failed_peer_and_keeps_ours(demo_spec_path: Path, tmp_path: Path) -> None:
    dataset = load_dataset(load_spec(demo_spec_path))
    suite = bench_suite.Suite(tmp_path)
    row = bench_suite._peer(suite, "demo", dataset, 3.0, bench_suite.PeerSettings(True, fake_venv(tmp_path, "exit 2")),
                            None)
    assert row["step"].startswith("autogluon best_quality (failed: exit 2") and not row["ok"]
    assert json.loads((tmp_path / "suite_state.json").read_text())["demo/autogluon"]["folds"] == {}
    assert row["autogluon_excluded"] == "RF,XT"
    assert "model types left out: RF,XT" in bench_suite._peer_description(pd.DataFrame([row]))


def test_missing_dataset_folder_is_skipped_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "gone.yaml").write_text("name: gone\ntask: regression\nid_column: id\ntarget: price\n"
                                        "text_columns: [title]\nroot: ./absent\ntrain_file: train.csv\n")
    monkeypatch.setattr(common, "SPECS", tmp_path)
    assert common.real_dataset("gone", tmp_path / "work") is None
    assert "skipped gone" in capsys.readouterr().err


def test_an_overrunning_step_is_stopped_and_recorded(tmp_path: Path) -> None:
    suite = bench_suite.Suite(tmp_path, step_timeout=1.0)
    record = suite.step("toy/sleepy", [sys.executable, "-c", "import time; time.sleep(60)"])
    assert record["status"] == "did not finish in 1 s" and not record["ok"] and record["seconds"] < 10
    assert bench_suite.Suite(tmp_path).state["toy/sleepy"]["status"] == record["status"]  # not retried
    failed = suite.step("toy/broken", [sys.executable, "-c", "raise SystemExit(4)"])
    assert not failed["ok"] and "toy/broken" not in suite.state  # a failure is retried by the next run


def test_a_stopped_run_reports_the_folds_it_finished(tmp_path: Path) -> None:
    parts = tmp_path / "parts"
    parts.mkdir()
    for fold, score in ((0, 14.0), (1, 16.0)):
        (parts / f"fold_{fold}.score.json").write_text(json.dumps({"fold": fold, "smape": score}))
    assert bench_suite._finished_fold_scores(tmp_path) == [14.0, 16.0]
    assert bench_suite._finished_fold_scores(tmp_path / "absent") == []


def test_a_step_peak_memory_is_its_own_not_its_parents(tmp_path: Path) -> None:
    held = bytearray(600 * 1024 * 1024)  # this process now holds 600 MB; a forked child inherits that high-water mark
    held[::4096] = b"\1" * len(held[::4096])
    with open(tmp_path / "out.txt", "w") as output:
        small = common.run_bounded([sys.executable, "-c", "pass"], None, output, {})
        touch_300_mb = "x = bytearray(300 * 2**20); x[::4096] = b'1' * len(x[::4096])"
        large = common.run_bounded([sys.executable, "-c", touch_300_mb], None, output, {})
        failed = common.run_bounded([sys.executable, "-c", "raise SystemExit(3)"], None, output, {})
    del held
    assert small.exit_code == 0 and small.peak_mb < 100
    assert 300 < large.peak_mb < 450
    assert failed.exit_code == 3
