"""``--jobs N``: folds fitted in parallel processes write exactly what a sequential run writes."""

import pandas as pd
import pytest

from catalog_ml.cli.main import main


@pytest.mark.parametrize(("approach", "settings"), [("tfidf_ridge", []), ("lgbm_fusion", ["--set", "max_rounds=40"])])
def test_parallel_folds_equal_a_sequential_run(approach, settings, demo_spec_path, tmp_path, capsys):
    outputs = {}
    for jobs in ("1", "2"):
        runs = tmp_path / f"jobs{jobs}"
        assert main(["run", approach, "--dataset", str(demo_spec_path), "--runs-dir", str(runs), "--jobs", jobs,
                     "--folds", "0,1,2", "--cache-dir", str(tmp_path / f"cache{jobs}"), *settings]) == 0
        folder = runs / "demo" / approach
        outputs[jobs] = (pd.read_parquet(folder / "oof.parquet"), pd.read_parquet(folder / "test.parquet"))
    assert "3 folds in 2 parallel jobs of 1 thread(s) each" in capsys.readouterr().err
    for sequential, parallel in zip(outputs["1"], outputs["2"], strict=True):
        pd.testing.assert_frame_equal(sequential, parallel, check_exact=True)


def test_jobs_must_be_positive(demo_spec_path, tmp_path, capsys):
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(tmp_path),
                 "--jobs", "0"]) == 2
    assert "--jobs 0: expected at least 1 job" in capsys.readouterr().err
