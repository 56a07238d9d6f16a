"""Explanations: GBM contributions that add up to the prediction, Grad-CAM and embedding maps as PNG files."""

import numpy as np
import pandas as pd
import pytest
from approach_models import demo_with_price_stating_ratings, new_model

from catalog_ml.cli.main import main
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec


@pytest.mark.parametrize("name, settings", [("lgbm_fusion", ["max_rounds=80"]),
                                            ("lgbm_fusion", ["max_rounds=80", "text_ridge=false"]),
                                            ("xgb_spacy", ["max_rounds=60", "sentence_components=0"])])
def test_contributions_add_up_to_the_prediction(demo_template, tmp_path, name, settings):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    model = new_model(name, dataset.spec, tmp_path, settings)
    model.fit(dataset.train.iloc[:300])
    frame = dataset.train.iloc[300:340]
    explanation = model.explain(frame)
    contributions = explanation.contributions
    dense = contributions.toarray() if hasattr(contributions, "toarray") else contributions
    assert dense.shape == (40, len(explanation.feature_names) + 1) == (40, len(explanation.gain) + 1)
    np.testing.assert_allclose(np.expm1(dense.sum(axis=1)), model.predict(frame), rtol=1e-3)
    assert explanation.gain.sum() > 0


def test_explain_command_writes_tables_and_chart(demo_spec_path, tmp_path):
    out = tmp_path / "explain"
    assert main(["explain", "lgbm_fusion", "--dataset", str(demo_spec_path), "--set", "max_rounds=60",
                 "--cache-dir", str(tmp_path / "cache"), "--rows", "3", "--out", str(out)]) == 0
    importance = pd.read_csv(out / "importance.csv")
    assert importance["mean_abs_contribution"].is_monotonic_decreasing and (out / "importance.png").stat().st_size
    rows = pd.read_csv(out / "rows.csv")
    assert list(rows["which"]) == ["best"] * 3 + ["worst"] * 3
    assert rows["row_smape"].iloc[0] <= rows["row_smape"].iloc[-1]
    assert main(["explain", "median_baseline", "--dataset", str(demo_spec_path), "--out", str(out)]) == 2


def test_grad_cam_and_embedding_maps(demo_spec_path, tmp_path):
    table = tmp_path / "img.parquet"
    assert main(["embed", "--dataset", str(demo_spec_path), "--backbone", "test_efficientnet", "--weights", "none",
                 "--cache-dir", str(tmp_path / "cache"), "--out", str(table)]) == 0
    cam = tmp_path / "gradcam.png"
    assert main(["explain-images", "--dataset", str(demo_spec_path), "--embeddings", str(table), "--backbone",
                 "test_efficientnet", "--weights", "none", "--rows", "2", "--out", str(cam)]) == 0
    assert cam.stat().st_size > 10_000
    assert main(["explain-images", "--dataset", str(demo_spec_path), "--embeddings", str(table), "--backbone",
                 "mobilenet_v2", "--weights", "none", "--out", str(cam)]) == 2  # another backbone's table
    assert main(["embedding-map", "--dataset", str(demo_spec_path), "--embeddings", str(table), "--sample", "120",
                 "--out", str(tmp_path / "map")]) == 0
    assert (tmp_path / "map" / "pca.png").is_file() and (tmp_path / "map" / "tsne.png").is_file()


def test_grad_cam_heatmap_is_normalised_and_follows_the_head():
    from catalog_ml.nn.backbones import image_backbone
    from catalog_ml.nn.visual_explain import grad_cam

    backbone = image_backbone("test_efficientnet", "none")
    rng = np.random.default_rng(0)
    image = rng.normal(size=(3, 64, 64)).astype(np.float32)
    cam, score = grad_cam(backbone, rng.normal(size=backbone.dim), 1.5, image)
    assert cam.shape == (64, 64) and cam.min() >= 0.0 and cam.max() <= 1.0
    _, shifted = grad_cam(backbone, np.zeros(backbone.dim), 1.5, image)
    assert shifted == pytest.approx(1.5)


@pytest.mark.parametrize("name, settings", [("lgbm_fusion", ["max_rounds=80", "text_ridge=false"]),
                                            ("xgb_spacy", ["max_rounds=60", "sentence_components=0"])])
def test_numbers_in_a_short_text_column_are_named_features_that_carry_gain(demo_template, tmp_path, name, settings):
    spec, frame = demo_with_price_stating_ratings(demo_template)
    model = new_model(name, spec, tmp_path, settings)
    model.fit(frame.iloc[:300])
    explanation = model.explain(frame.iloc[300:340])
    assert explanation.contributions.shape[1] == len(explanation.feature_names) + 1
    gain = dict(zip(explanation.feature_names, explanation.gain, strict=True))
    assert max(gain, key=gain.get) in ("Ratings:first_number", "Ratings:last_number")  # the same number here


def test_contributions_that_do_not_add_up_are_refused(demo_spec_path, tmp_path, monkeypatch, capsys):
    """A ranking from contributions that miss the prediction would be wrong (mercari5k's deep LightGBM trees)."""
    from approaches.lgbm_fusion import LgbmFusion

    explain = LgbmFusion.explain

    def off_by_one(self, frame):
        import dataclasses

        from scipy import sparse

        explanation = explain(self, frame)
        dense = explanation.contributions.toarray()
        dense[:, -1] += 1.0  # the bias column: every row misses its prediction by one log unit
        return dataclasses.replace(explanation, contributions=sparse.csr_matrix(dense))

    monkeypatch.setattr(LgbmFusion, "explain", off_by_one)
    out = tmp_path / "explain"
    assert main(["explain", "lgbm_fusion", "--dataset", str(demo_spec_path), "--set", "max_rounds=30",
                 "--cache-dir", str(tmp_path / "cache"), "--out", str(out)]) == 2
    assert "do not add up to the predictions (median gap 1 log units" in capsys.readouterr().err
    assert not (out / "importance.csv").exists()
