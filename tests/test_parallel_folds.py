"""``--jobs N``: folds (of one or several approaches and seeds) fitted in parallel processes write exactly what
sequential runs write; ``--time-limit`` starts no fold that would overrun and the next call resumes."""

import numpy as np
import pandas as pd
import pytest

from catalog_ml.cli.main import main


@pytest.mark.parametrize(("approach", "settings"), [("tfidf_ridge", []), ("lgbm_fusion", ["--set", "max_rounds=40"])])
def test_parallel_folds_equal_a_sequential_run(approach, settings, demo_spec_path, tmp_path, capsys, monkeypatch):
    """At the same threads per job: numeric libraries may round differently with another thread count."""
    monkeypatch.setenv("CATALOG_ML_THREADS", "2")  # restored after the test: --threads sets it for the process
    outputs = {}
    for jobs, threads in (("1", "1"), ("2", "2")):  # one thread per job in both
        runs = tmp_path / f"jobs{jobs}"
        assert main(["run", approach, "--dataset", str(demo_spec_path), "--runs-dir", str(runs), "--jobs", jobs,
                     "--threads", threads, "--folds", "0,1,2", "--cache-dir", str(tmp_path / f"cache{jobs}"),
                     *settings]) == 0
        folder = runs / "demo" / approach
        outputs[jobs] = (pd.read_parquet(folder / "oof.parquet"), pd.read_parquet(folder / "test.parquet"))
    assert "3 fold jobs in 2 parallel processes of 1 thread(s) each" in capsys.readouterr().err
    for sequential, parallel in zip(outputs["1"], outputs["2"], strict=True):
        pd.testing.assert_frame_equal(sequential, parallel, check_exact=True)


@pytest.mark.parametrize("threads", ["1", "3"])
def test_fold_jobs_and_predict_set_their_blas_and_openmp_pools_to_their_threads(threads, demo_spec_path, tmp_path,
                                                                                monkeypatch):
    """Ray starts its workers with OMP_NUM_THREADS set, a plain process takes every core: inside a fold job the pools
    follow --threads instead, so the same job rounds alike under both (measured on bigbasket: Ridge's OOF moved by up
    to 0.54 between one and two BLAS threads)."""
    from threadpoolctl import threadpool_info

    from approaches.median_baseline import MedianBaseline

    seen, predicting = [], []
    fit, predict = MedianBaseline.fit, MedianBaseline.predict

    def recording_fit(self, train, valid=None):
        seen.append({pool["user_api"]: pool["num_threads"] for pool in threadpool_info()})
        fit(self, train, valid)

    def recording_predict(self, frame):
        predicting.append({pool["user_api"]: pool["num_threads"] for pool in threadpool_info()})
        return predict(self, frame)

    monkeypatch.setattr(MedianBaseline, "fit", recording_fit)
    monkeypatch.setattr(MedianBaseline, "predict", recording_predict)
    monkeypatch.setenv("CATALOG_ML_THREADS", "2")  # restored after the test: --threads sets it for the process
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(tmp_path),
                 "--threads", threads]) == 0
    assert seen and all(set(pools.values()) == {int(threads)} for pools in seen), seen
    assert {"blas"} <= set(seen[0])
    # predict on a new table (saved models, no fit) sets the same pools from its own --threads
    predicting.clear()
    assert main(["predict", "--run", str(tmp_path / "demo" / "median_baseline"), str(demo_spec_path.parent /
                 "test.csv"), "--out", str(tmp_path / "out.csv"), "--threads", threads]) == 0
    assert predicting and all(set(pools.values()) == {int(threads)} for pools in predicting), predicting


def test_jobs_must_be_positive(demo_spec_path, tmp_path, capsys):
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(tmp_path),
                 "--jobs", "0"]) == 2
    assert "--jobs 0: expected at least 1 job" in capsys.readouterr().err


def test_several_approaches_and_seeds_share_the_jobs_and_equal_separate_runs(demo_spec_path, tmp_path, capsys):
    names, common = ["tfidf_ridge", "median_baseline"], ["--dataset", str(demo_spec_path), "--folds", "0,1"]
    assert main(["run", ",".join(names), *common, "--seeds", "1,2", "--jobs", "2", "--runs-dir",
                 str(tmp_path / "together"), "--set", "tfidf_ridge.alpha=3.0",
                 "--cache-dir", str(tmp_path / "c1")]) == 0
    printed = capsys.readouterr()
    assert "8 fold jobs in 2 parallel processes" in printed.err and "4 runs in" in printed.out
    for name in names:
        for seed in ("1", "2"):
            settings = ["--set", "alpha=3.0"] if name == "tfidf_ridge" else []
            assert main(["run", name, *common, "--seed", seed, "--tag", f"seed{seed}", "--runs-dir",
                         str(tmp_path / "apart"), "--cache-dir", str(tmp_path / "c2"), *settings]) == 0
            for part in ("oof.parquet", "test.parquet"):
                pd.testing.assert_frame_equal(
                    pd.read_parquet(tmp_path / "together" / "demo" / f"{name}-seed{seed}" / part),
                    pd.read_parquet(tmp_path / "apart" / "demo" / f"{name}-seed{seed}" / part), check_exact=True)


def test_time_limit_starts_no_fold_that_would_overrun_and_the_next_call_resumes(demo_spec_path, tmp_path, capsys,
                                                                                monkeypatch):
    from catalog_ml.core import runner

    clock = iter(range(0, 10_000, 40))  # each reading of the run clock: 40 s later
    monkeypatch.setattr(runner._FoldClock, "now", staticmethod(lambda: float(next(clock))))
    common = ["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(tmp_path)]
    assert main([*common, "--time-limit", "100"]) == 0
    printed = capsys.readouterr()
    assert "partial" in printed.out and "folds [2, 3] not started within --time-limit" in printed.out
    monkeypatch.undo()
    assert main(common) == 0
    assert "median_baseline: complete" in capsys.readouterr().out


@pytest.mark.parametrize(("arguments", "message"), [
    (["tfidf_ridge,tfidf_ridge"], "names an approach twice"),
    (["tfidf_ridge,median_baseline", "--config", "x.yaml"], "--config holds one approach's settings"),
    (["tfidf_ridge,median_baseline", "--set", "lgbm_fusion.num_leaves=3"], "'lgbm_fusion' is not one of"),
    (["median_baseline", "--time-limit", "0"], "expected a positive number of seconds"),
])
def test_multi_run_mistakes_are_one_line(arguments, message, demo_spec_path, tmp_path, capsys):
    assert main(["run", *arguments, "--dataset", str(demo_spec_path), "--runs-dir", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(("arguments", "message"), [
    (["--executor", "ray", "--ray-address", "127.0.0.1:9"], "no Ray cluster answers there"),
    (["--executor", "ray", "--ray-address", "nonsense"], "expected HOST:PORT"),
    (["--ray-address", "127.0.0.1:9"], "--ray-address needs --executor ray"),
])
def test_ray_mistakes_are_one_line_within_seconds(arguments, message, demo_spec_path, tmp_path, capsys):
    import time

    started = time.perf_counter()
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(tmp_path),
                 *arguments]) == 2
    assert message in capsys.readouterr().err and time.perf_counter() - started < 10


def test_a_ray_worker_killed_mid_job_is_retried_and_the_run_equals_a_sequential_one(demo_spec_path, tmp_path,
                                                                                    capsys, monkeypatch):
    # one local Ray for both checks (starting one takes seconds): two approaches share the fold jobs, and a worker
    # killed in the middle of a fit costs a retry, not a different result
    pytest.importorskip("ray")
    monkeypatch.setenv("CATALOG_ML_THREADS", "2")  # a local Ray of 2 CPUs: 1 per job, as the sequential run
    import os
    import signal
    import threading
    import time
    from pathlib import Path

    killed: list[int] = []

    def kill_first_running_task() -> None:
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for entry in Path("/proc").iterdir():
                try:
                    command = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if entry.name.isdigit() and command.startswith(b"ray::_fold_task"):
                    time.sleep(0.3)  # inside the fit
                    if (entry / "cmdline").read_bytes().startswith(b"ray::_fold_task"):  # still fitting
                        os.kill(int(entry.name), signal.SIGKILL)
                        killed.append(int(entry.name))
                        return
            time.sleep(0.05)

    # lgbm_fusion's folds take a few seconds: long enough to be caught running
    common = ["run", "lgbm_fusion,median_baseline", "--dataset", str(demo_spec_path), "--folds", "0,1", "--set",
              "lgbm_fusion.max_rounds=1500", "--set", "lgbm_fusion.early_stopping_rounds=1500"]
    killer = threading.Thread(target=kill_first_running_task)
    killer.start()
    assert main([*common, "--runs-dir", str(tmp_path / "ray"), "--executor", "ray", "--jobs", "2",
                 "--cache-dir", str(tmp_path / "c1")]) == 0
    killer.join()
    assert killed, "no Ray task was seen running"
    assert "4 fold jobs as Ray tasks, 2 at a time, 1 CPU(s) each" in capsys.readouterr().err
    assert main([*common, "--runs-dir", str(tmp_path / "local"), "--threads", "1",
                 "--cache-dir", str(tmp_path / "c2")]) == 0
    for name in ("lgbm_fusion", "median_baseline"):
        for part in ("oof.parquet", "test.parquet"):
            pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "ray" / "demo" / name / part),
                                          pd.read_parquet(tmp_path / "local" / "demo" / name / part),
                                          check_exact=True)
        assert (tmp_path / "ray" / "demo" / name / "models" / "fold_1" / "manifest.json").is_file()


def test_sentence_vectors_are_computed_in_one_pass_before_any_fold(demo_template, tmp_path):
    # a text's vector moves in its last digits with the batch it is embedded in (about 1e-7 for MiniLM): folds that
    # embed their own rows as they come would leave vectors that depend on which fold ran first, or beside which
    from catalog_ml.core.config import build_config
    from catalog_ml.core.registry import get_approach
    from catalog_ml.core.runner import RunRequest, run_approach
    from catalog_ml.data.loading import load_dataset
    from catalog_ml.data.spec import load_spec
    from catalog_ml.features.text import joined_text
    from catalog_ml.nn.sentence_embeddings import embed_dataset_texts, sentence_embeddings

    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    approach = get_approach("knn_price")
    config = build_config(approach.Config, overrides=["spaces=embedding", "gbm_iterations=20"])
    run_approach(dataset, RunRequest(approach=approach, config=config, output_root=tmp_path / "runs",
                                     cache_dir=tmp_path / "run_cache", progress=False, folds=(2,)))
    embed_dataset_texts(dataset, config.embedding_text_chars, tmp_path / "one_pass")
    texts = joined_text(dataset.train, dataset.spec, config.embedding_text_chars).tolist()
    np.testing.assert_array_equal(sentence_embeddings(texts, tmp_path / "run_cache"),
                                  sentence_embeddings(texts, tmp_path / "one_pass"))
