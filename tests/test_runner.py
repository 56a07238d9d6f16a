import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.core.approach import Approach
from catalog_ml.core.config import build_config
from catalog_ml.core.registry import get_approach
from catalog_ml.core.run_files import RunPaths
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError


@dataclass(frozen=True)
class NoisyConfig:
    crash_on_fold: int = -99


class NoisyMean(Approach):
    """Mean price times seeded noise: exposes any seeding difference between runs."""

    name = "noisy_mean"
    Config = NoisyConfig

    def fit(self, train, valid=None):
        if self.context.fold == self.config.crash_on_fold:
            raise RuntimeError("simulated crash")
        self.level_ = float(np.mean(self.target(train)))

    def predict(self, frame):
        return self.level_ * np.random.default_rng(self.context.seed).uniform(0.5, 1.5, len(frame))


@pytest.fixture()
def dataset(demo_spec_path):
    return load_dataset(load_spec(demo_spec_path))


def run(dataset, tmp_path, **kwargs):
    config = NoisyConfig(**kwargs.pop("config", {}))
    return run_approach(dataset, RunRequest(approach=NoisyMean, config=config, output_root=tmp_path / "runs",
                                            progress=False, **kwargs))


def test_outputs_layout(dataset, tmp_path):
    result = run(dataset, tmp_path)
    paths = result.paths
    for path in (paths.config, paths.oof, paths.test, paths.scores_csv, paths.scores_md, paths.summary):
        assert path.is_file(), path
    oof = pd.read_parquet(paths.oof)
    assert list(oof.columns) == ["id", "fold", "pred"]
    assert list(oof["id"]) == list(dataset.train["sample_id"])
    scores = pd.read_csv(paths.scores_csv)
    assert list(scores["fold"].astype(str)) == ["0", "1", "2", "3", "all"]
    assert {"rows", "smape", "mae_log1p", "fit_seconds", "predict_seconds"} <= set(scores.columns)
    assert result.complete


def test_resume_after_crash_is_identical_and_leaves_no_partial_files(dataset, tmp_path):
    reference = run(dataset, tmp_path, tag="reference")
    with pytest.raises(RuntimeError, match="simulated crash"):
        run(dataset, tmp_path, tag="crashy", config={"crash_on_fold": 2})
    crashed = RunPaths(tmp_path / "runs" / "demo" / "noisy_mean-crashy")
    leftovers = [p.name for p in crashed.root.rglob("*") if p.name.endswith(".tmp") or "fold_2" in p.name]
    assert leftovers == []
    assert crashed.fold_done(0) and crashed.fold_done(1) and not crashed.fold_done(3)
    # The same folds on resume, with the crash gone: change nothing else, so only the crash setting must match.
    with pytest.raises(CatalogError, match="different settings"):
        run(dataset, tmp_path, tag="crashy")
    resumed = run(dataset, tmp_path, tag="crashy", config={"crash_on_fold": 2}, folds=(0, 1))
    assert resumed.skipped_folds == (0, 1) and not resumed.complete
    os.rename(crashed.config, crashed.root / "old_config.json")
    finished = run(dataset, tmp_path, tag="crashy")
    assert finished.skipped_folds == (0, 1) and finished.complete
    pd.testing.assert_frame_equal(pd.read_parquet(reference.paths.oof), pd.read_parquet(finished.paths.oof))
    pd.testing.assert_frame_equal(pd.read_parquet(reference.paths.test), pd.read_parquet(finished.paths.test))


def test_some_folds_and_full_fit(dataset, tmp_path):
    partial = run(dataset, tmp_path, folds=(0, 1))
    assert not partial.complete
    assert set(pd.read_parquet(partial.paths.oof)["fold"]) == {0, 1}
    full = run(dataset, tmp_path, folds=(-1,))
    assert full.paths.test_full.is_file()
    assert len(pd.read_parquet(full.paths.test_full)) == len(dataset.test)
    with pytest.raises(CatalogError, match="do not exist"):
        run(dataset, tmp_path, folds=(7,))


def test_unwritable_output_folder(dataset, tmp_path):
    if os.geteuid() == 0:
        blocker = tmp_path / "runs"
        blocker.write_text("a file where the output folder should be")
        with pytest.raises(CatalogError, match="not writable"):
            run(dataset, tmp_path)
    else:
        (tmp_path / "runs").mkdir()
        (tmp_path / "runs").chmod(0o500)
        with pytest.raises(CatalogError, match="not writable"):
            run(dataset, tmp_path)


def test_cli_run_and_submit(demo_spec_path, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs)]) == 0
    assert "median_baseline: complete" in capsys.readouterr().out
    out = tmp_path / "sub.csv"
    assert main(["submit", "--dataset", str(demo_spec_path), "--run", str(runs / "demo" / "median_baseline"),
                 "--out", str(out)]) == 0
    assert main(["validate-submission", str(out), "--dataset", str(demo_spec_path)]) == 0
    assert "valid (120 rows" in capsys.readouterr().out


def test_cli_reports_bad_settings(demo_spec_path, tmp_path, capsys):
    code = main(["run", "tfidf_ridge", "--dataset", str(demo_spec_path), "--set", "alpah=3",
                 "--runs-dir", str(tmp_path / "runs")])
    assert code == 2 and "unknown setting(s) alpah" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_config_types_are_checked():
    config_class = get_approach("tfidf_ridge").Config
    assert build_config(config_class, overrides=["alpha=3"]).alpha == 3.0
    assert build_config(config_class).alpha == config_class().alpha
    with pytest.raises(CatalogError, match="expected int"):
        build_config(config_class, overrides=["word_ngram_max=two"])
