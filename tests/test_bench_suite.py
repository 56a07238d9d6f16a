"""The benchmark suite's own machinery: resumable steps, partial synthetic sizes, tables, and every way the peer
(AutoGluon) can fail without losing our results. AutoGluon itself is never installed here: fake environments stand
in for it."""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
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
import suite_report  # noqa: E402


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


def test_comparison_tables_show_errors_times_and_ratios_to_the_better_peer(tmp_path: Path) -> None:
    rows = [
        {"dataset": "toy", "step": "tfidf_ridge", "smape": 50.0, "se": 1.0, "seconds": 10.0, "peak_mb": 300.0},
        {"dataset": "toy", "step": "honest blend", "smape": 45.0, "se": 0.5, "seconds": 5.0, "peak_mb": 200.0},
        {"dataset": "toy", "step": "lgbm_fusion", "smape": float("nan"), "seconds": 9.0, "peak_mb": 100.0,
         "status": "did not finish in 9 s"},
        {"dataset": "toy", "step": "ours: total", "smape": 45.0, "se": 0.5, "rows": 1200, "seconds": 24.0,
         "peak_mb": 300.0},
        {"dataset": "toy", "step": "preset fast", "smape": 47.0, "se": 0.6, "seconds": 12.0, "peak_mb": 300.0},
        {"dataset": "toy", "step": "AutoGluon medium_quality", "smape": 40.0, "se": 0.4, "seconds": 48.0,
         "autogluon_folds": json.dumps({"0": 40.0}), "peer_budget": "medium_quality: no time limit"},
        {"dataset": "toy", "step": "AutoGluon best_quality", "smape": 42.0, "se": 0.4, "seconds": 300.0,
         "autogluon_folds": json.dumps({"0": 42.0}), "peer_budget": "best_quality: 300 s"},
        {"dataset": "other", "step": "tfidf_ridge", "smape": 20.0, "seconds": 1.0, "peak_mb": 1.0},
        {"dataset": "other", "step": "ours: total", "smape": 19.0, "seconds": 2.0, "peak_mb": 1.0},
        {"dataset": "other", "step": "AutoGluon best_quality", "smape": float("nan"), "seconds": 90.0,
         "status": "did not finish in 90 s (2 folds done, mean 18.00)", "autogluon_folds": "{}"},
        {"dataset": "unpeered", "step": "tfidf_ridge", "smape": 30.0, "seconds": 1.0, "peak_mb": 1.0},
        {"dataset": "unpeered", "step": "mlp_fusion", "smape": float("nan"), "seconds": 1.0, "peak_mb": 1.0,
         "ok": False},
    ]
    compared = suite_report.comparison_table(pd.DataFrame(rows)).set_index(["dataset", "system"])
    blend = compared.loc[("toy", "honest blend (every run)")]
    assert (blend["SMAPE"], blend["± SE"], blend["wall s"], blend["rows"]) == ("45.00", "0.50", "24", "1,200")
    assert blend["SMAPE vs better AutoGluon"] == "+12.5%" and blend["time vs it"] == "0.50x"  # medium is better
    assert compared.loc[("toy", "preset fast"), "time vs it"] == "0.25x"
    assert compared.loc[("toy", "AutoGluon best_quality"), "SMAPE vs better AutoGluon"] == "+5.0%"
    assert compared.loc[("toy", "TF-IDF + Ridge"), "SMAPE vs better AutoGluon"] == "+25.0%"
    stopped = compared.loc[("other", "AutoGluon best_quality")]
    assert stopped["SMAPE"].startswith("did not finish in 90 s (2 folds") and stopped["time vs it"] == "n/a"
    assert compared.loc[("other", "honest blend (every run)"), "SMAPE vs better AutoGluon"] == "n/a"
    assert list(compared.loc["unpeered"].index) == ["TF-IDF + Ridge"]

    steps = suite_report.steps_table(pd.DataFrame(rows)).set_index("dataset")
    assert steps.loc["toy", "lgbm_fusion"] == "did not finish in 9 s" and steps.loc["toy", "tfidf_ridge"] == "50.00"
    assert steps.loc["unpeered", "mlp_fusion"].startswith("failed")
    assert "medium_quality: no time limit; best_quality: 300 s" in suite_report.peer_description(pd.DataFrame(rows))
    assert "toy AutoGluon best_quality 5 min" in suite_report.dominant_steps(pd.DataFrame(rows))

    blend_dir = tmp_path / "runs" / "toy" / "_blend" / "auto"
    blend_dir.mkdir(parents=True)
    pd.DataFrame({"fold": ["0", "all"], "blend": [42.0, 45.0]}).to_csv(blend_dir / "fold_scores.csv", index=False)
    folds = suite_report.peer_fold_table(pd.DataFrame(rows), tmp_path)
    assert folds.to_dict("records")[0] == {"dataset": "toy", "peer": "medium_quality", "fold": "0",
                                           "honest blend": 42.0, "AutoGluon": 40.0, "difference": "+5.0%"}
    suite_report.write_assets(pd.DataFrame(rows), "python benchmarks/bench_suite.py", tmp_path, tmp_path / "assets")
    assert (tmp_path / "assets" / "benchmark_suite.png").stat().st_size > 10_000
    assert "| toy | 1,200 | honest blend (every run) | 45.00 | 0.50 | 24 | +12.5% | 0.50x |" in (
        tmp_path / "assets" / "benchmark_suite.md").read_text()


def test_peer_budgets_are_fixed_by_table_size_not_by_our_time() -> None:
    medium, best = bench_suite.PEER_BUDGETS
    assert medium.time_limit(1_000) is None and medium.hard_timeout(1_000) == 1_200.0  # the floor
    assert medium.hard_timeout(50_000) == 18_000.0
    assert best.time_limit(1_000) == 300.0 and best.time_limit(30_000) == 1_800.0
    assert best.hard_timeout(30_000) == 1_800.0 * autogluon_peer.GRACE + autogluon_peer.GRACE_SECONDS
    assert "no time limit" in medium.describe() and all("without RF,XT" in b.describe() for b in (medium, best))


def test_the_peer_starts_only_on_tables_up_to_its_row_cap_and_shows_results_recorded_at_its_budget() -> None:
    capped, uncapped = bench_suite.PeerSettings(True, Path()), bench_suite.PeerSettings(True, Path(), max_rows=0)
    assert capped.runs_on(10_000) and not capped.runs_on(10_001) and uncapped.runs_on(10 ** 7)
    assert not bench_suite.PeerSettings(False, Path()).runs_on(100)
    best = bench_suite.PEER_BUDGETS[1]
    ran = {"status": "ok", "time_limit": best.time_limit(27_555), "excluded": ["XT", "RF"]}
    stop = best.hard_timeout(27_555)
    assert bench_suite._recorded_at(ran, best, 27_555, stop)  # shown on a table over the cap, never re-run
    assert not bench_suite._recorded_at(ran, best, 1_000, stop)  # another time limit: another budget
    assert not bench_suite._recorded_at({**ran, "excluded": []}, best, 27_555, stop)
    stopped = {**ran, "status": "did not finish in 900 s", "hard_timeout": 900.0}
    assert not bench_suite._recorded_at(stopped, best, 27_555, stop)  # stopped sooner than it would be now
    assert bench_suite._recorded_at(stopped, best, 27_555, 900.0)  # as long as the suite's budget allows now
    assert bench_suite._recorded_at({**stopped, "hard_timeout": stop}, best, 27_555, stop)


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
    assert "[--exclude-models][][--time-limit][40.0][--out]" in (tmp_path / "short" / "autogluon.log").read_text()


def test_suite_records_a_failed_peer_and_keeps_ours(demo_spec_path: Path, tmp_path: Path) -> None:
    dataset = load_dataset(load_spec(demo_spec_path))
    suite = bench_suite.Suite(tmp_path)
    best = bench_suite.PEER_BUDGETS[1]
    stop = best.hard_timeout(len(dataset.train))
    row = bench_suite._peer(suite, "demo", dataset, best, fake_venv(tmp_path, "exit 2"), stop)
    assert row["step"] == "AutoGluon best_quality" and row["status"].startswith("failed: exit 2") and not row["ok"]
    recorded = json.loads((tmp_path / "suite_state.json").read_text())["demo/autogluon_best"]
    assert recorded["folds"] == {} and recorded["time_limit"] == 300.0 and recorded["excluded"] == ["RF", "XT"]
    assert recorded["budget"] == best.describe() == row["peer_budget"]  # kept with the result, as it ran
    assert "without RF,XT" in suite_report.peer_description(pd.DataFrame([row]))

    recorded_again = bench_suite._peer(suite, "demo", dataset, best, tmp_path / "unused", stop)
    assert (recorded_again["status"], recorded_again["seconds"]) == (row["status"], row["seconds"])  # not re-run
    shorter = replace(best, limit_per_10k=100.0, floor_seconds=100.0)
    again = bench_suite._peer(suite, "demo", dataset, shorter, fake_venv(tmp_path / "b", "exit 3"), stop)
    assert again["status"].startswith("failed: exit 3") and again["peer_budget"] == shorter.describe()


def test_a_peer_without_a_time_limit_passes_none_and_keeps_finished_folds(demo_spec_path: Path,
                                                                        tmp_path: Path) -> None:
    dataset = load_dataset(load_spec(demo_spec_path))
    folds = load_folds(dataset)
    ids = dataset.train[dataset.spec.id_column].astype(str).to_numpy()
    in_fold = [str(i) for i in ids[folds.fold == 0]]
    writes_fold_0 = (f'echo "$@"; {sys.executable} -c "import pandas as p, pathlib as l, sys; o = l.Path(sys.argv['
                     f"sys.argv.index('--out') + 1]); o.mkdir(parents=True); p.DataFrame({{'id': {in_fold!r}, "
                     f"'fold': 0, 'pred': 10.0}}).to_parquet(o / 'fold_0.parquet')\" \"$@\"; exit 1")
    suite = bench_suite.Suite(tmp_path)
    medium = bench_suite.PEER_BUDGETS[0]
    row = bench_suite._peer(suite, "demo", dataset, medium, fake_venv(tmp_path, writes_fold_0), 60.0)
    log = (tmp_path / "autogluon" / "demo" / "medium" / "autogluon.log").read_text()
    assert "--presets medium_quality" in log and "--time-limit" not in log
    assert "(1 fold done, mean" in row["status"] and not np.isfinite(row["smape"])
    assert list(json.loads(row["autogluon_folds"])) == ["0"]


def test_the_peer_runs_after_our_steps_within_the_suites_budget(demo_spec_path: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = load_dataset(load_spec(demo_spec_path))
    suite = bench_suite.Suite(tmp_path)
    suite.remember("demo/tfidf_ridge", {"seconds": 997.0, "ok": True})
    suite.remember("other/tfidf_ridge", {"seconds": 5_000.0, "ok": True})  # a table not chosen: not counted
    monkeypatch.setattr(bench_suite, "MIN_PEER_SECONDS", 2.0)
    peer = bench_suite.PeerSettings(True, fake_venv(tmp_path, 'echo "$@"; sleep 30'), suite_budget=1_000.0)
    best_row, medium_row = bench_suite.peer_runs(suite, {"demo": dataset}, peer)
    # the run with a time limit first, stopped at what was left of the budget (3 s), not at its own 435 s
    assert best_row["step"] == "AutoGluon best_quality" and best_row["seconds"] < 20
    assert best_row["status"] == "did not finish in 3 s (the suite's budget)"
    assert "--presets best_quality" in (tmp_path / "autogluon" / "demo" / "best" / "autogluon.log").read_text()
    # then medium_quality, which finds the budget spent: not started, not recorded
    assert medium_row["status"] == "not started: the suite's 17-minute budget was spent" and medium_row["seconds"] == 0
    assert "demo/autogluon_medium" not in suite.state
    assert bench_suite.spent_seconds(suite, ["demo"]) == 997.0 + best_row["seconds"]

    again = bench_suite.peer_runs(suite, {"demo": dataset}, replace(peer, venv=tmp_path / "unused"))
    assert again[0]["seconds"] == best_row["seconds"]  # it had all the time the budget gives it now: not re-run
    assert again[1]["status"] == medium_row["status"]


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


def test_the_summary_has_one_row_per_table_with_the_blend_against_the_better_peer() -> None:
    rows = [
        {"dataset": "toy", "step": "tfidf_ridge", "smape": 50.0, "se": 1.0, "seconds": 10.0},
        {"dataset": "toy", "step": "ours: total", "smape": 45.0, "se": 0.5, "rows": 1200, "seconds": 24.0},
        {"dataset": "toy", "step": "AutoGluon medium_quality", "smape": float("nan"), "seconds": 600.0,
         "status": "did not finish in 600 s"},
        {"dataset": "toy", "step": "AutoGluon best_quality", "smape": 50.0, "se": 0.4, "seconds": 300.0},
    ]
    summary = suite_report.summary_table(pd.DataFrame(rows)).set_index("dataset").loc["toy"]
    assert summary["honest blend (every run)"] == "45.00 ± 0.50 (24 s)" and summary["rows"] == "1,200"
    assert summary["AutoGluon medium_quality"] == "did not finish in 600 s (600 s)"
    assert summary["blend vs better AutoGluon"] == "-10.0% in 0.08x the time"
