"""The ensembler end to end on real run outputs, and every refusal of bad runs."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.core.config import build_config
from catalog_ml.core.registry import get_approach
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.data.submission import validate_submission_file


@pytest.fixture(scope="module")
def runs_template(demo_template, tmp_path_factory):
    runs = tmp_path_factory.mktemp("blend_runs")
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    for name, tag in (("median_baseline", None), ("tfidf_ridge", None), ("tfidf_ridge", "no_char")):
        approach = get_approach(name)
        overrides = ["char_max_features=0"] if tag else []
        run_approach(dataset, RunRequest(approach=approach, config=build_config(approach.Config, overrides=overrides),
                                         output_root=runs, progress=False, tag=tag))
    return runs / "demo"


@pytest.fixture()
def setup(runs_template, demo_spec_path, tmp_path):
    runs = tmp_path / "runs" / "demo"
    shutil.copytree(runs_template, runs)
    return demo_spec_path, runs


def blend(capsys, spec_path, runs, tmp_path, *extra):
    code = main(["blend", "--dataset", str(spec_path), "--runs-dir", str(runs.parent),
                 "--submission", str(tmp_path / "blend.csv"), "--trials", "20", *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_blend_writes_everything(setup, tmp_path, capsys):
    spec_path, runs = setup
    code, out, err = blend(capsys, spec_path, runs, tmp_path, "--method", "hill")
    assert code == 0, err
    assert "honest nested SMAPE" in out and "in-sample SMAPE (optimistic" in out
    report = runs / "_blend" / "hill"
    for name in ("fold_scores.csv", "weights.csv", "error_correlation.csv", "smape_by_decile.csv", "report.md",
                 "fold_scores.png", "weights.png", "pred_vs_true.png", "smape_by_decile.png"):
        assert (report / name).stat().st_size > 0, name
    table = pd.read_csv(report / "fold_scores.csv")
    assert {"median_baseline", "tfidf_ridge", "tfidf_ridge-no_char", "blend"} <= set(table.columns)
    test = pd.read_csv(spec_path.parent / "test.csv", dtype={"sample_id": str})
    assert validate_submission_file(tmp_path / "blend.csv", test["sample_id"].to_numpy(), "sample_id",
                                    "price") == []


def test_single_run_is_said_clearly(setup, tmp_path, capsys):
    spec_path, runs = setup
    code, out, err = blend(capsys, spec_path, runs, tmp_path, "--runs", "tfidf_ridge", "--method", "mean")
    assert code == 0 and "the blend is that approach" in err
    blended = pd.read_csv(tmp_path / "blend.csv", dtype={"sample_id": str})
    single = pd.read_parquet(runs / "tfidf_ridge" / "test.parquet")
    assert np.allclose(blended["price"], single["pred"])


def edit_config(run, **changes):
    config = json.loads((run / "config.json").read_text())
    for key, value in changes.items():
        config[key] = {**config[key], **value}
    (run / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize("damage, expected", [
    (lambda run: edit_config(run, folds={"hash": "0000"}), "made on other folds"),
    (lambda run: edit_config(run, dataset={"name": "other"}), "predictions for dataset 'other'"),
    (lambda run: (run / "oof.parquet").unlink(), "oof.parquet: parquet file missing"),
    (lambda run: (run / "oof.parquet").write_bytes(b"not parquet"), "corrupt parquet file"),
    (lambda run: pd.read_parquet(run / "oof.parquet").iloc[1:].to_parquet(run / "oof.parquet"), "1 missing"),
    (lambda run: pd.read_parquet(run / "oof.parquet").assign(pred=np.nan).to_parquet(run / "oof.parquet"),
     "NaN, infinite or non-positive"),
    (lambda run: pd.read_parquet(run / "test.parquet").assign(id=lambda f: "x" + f["id"]).to_parquet(
        run / "test.parquet"), "differ from the dataset's test ids"),
    (lambda run: (run / "run.json").write_text('{"status": "partial", "folds_done": [0]}'), "partial run"),
    (lambda run: shutil.copytree(run, run.parent / "copy_of_tfidf"), "identical OOF predictions"),
])
def test_bad_runs_are_refused(setup, tmp_path, capsys, damage, expected):
    spec_path, runs = setup
    damage(runs / "tfidf_ridge")
    code, out, err = blend(capsys, spec_path, runs, tmp_path)
    assert code == 2 and expected in err, err
    assert not (tmp_path / "blend.csv").exists()


def test_blend_help_explains_methods(capsys):
    with pytest.raises(SystemExit):
        main(["blend", "--help"])
    out = capsys.readouterr().out
    for word in ("auto", "mean", "grid", "optuna", "hill", "stack", "nested"):
        assert word in out


def test_charts_leave_out_the_constant_baseline_and_keep_one_colour_per_approach():
    from catalog_ml.blend.report import KNOWN_APPROACHES, approach_colour, plotted_columns

    assert plotted_columns(("median_baseline", "tfidf_ridge", "lgbm_fusion")) == ["tfidf_ridge", "lgbm_fusion",
                                                                                  "blend"]
    assert plotted_columns(("median_baseline",)) == ["median_baseline", "blend"]
    colours = [approach_colour(name) for name in KNOWN_APPROACHES]
    assert len(set(colours)) == len(colours)  # no two of the kit's approaches look alike
    assert approach_colour("tfidf_ridge-seed3") == approach_colour("tfidf_ridge")  # variants keep their colour
