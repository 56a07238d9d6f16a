import numpy as np
import pytest

from catalog_ml.blend import nested as blend_eval
from catalog_ml.blend.blenders import (
    GridBlender,
    HillClimbBlender,
    MeanBlender,
    OptunaBlender,
    StackBlender,
    best_scale,
    make_blender,
)
from catalog_ml.blend.nested import evaluate_blend
from catalog_ml.core.metrics import smape
from catalog_ml.errors import CatalogError


@pytest.fixture()
def problem():
    rng = np.random.default_rng(0)
    y = np.exp(rng.normal(2.5, 1.0, 2000))
    good = y * np.exp(rng.normal(0, 0.2, len(y)))
    fair = y * np.exp(rng.normal(0, 0.4, len(y)))
    bad = np.full(len(y), np.median(y))
    fold = np.arange(len(y)) % 5
    return np.column_stack([good, fair, bad]), y, fold


@pytest.mark.parametrize("method", ["mean", "grid", "optuna", "hill", "stack"])
def test_blenders_are_deterministic_estimators(problem, method):
    predictions, y, _ = problem
    options = {"n_trials": 40}
    first = make_blender(method, **options).fit(predictions, y)
    second = make_blender(method, **options).fit(predictions, y)
    assert np.array_equal(first.predict(predictions), second.predict(predictions))
    assert (first.predict(predictions) > 0).all()
    assert hasattr(first, "weights_") and hasattr(first, "scale_")
    if method != "stack":
        assert first.weights_.sum() == pytest.approx(1.0) and (first.weights_ >= 0).all()
    assert smape(y, first.predict(predictions)) < smape(y, predictions[:, 2])


def test_means():
    predictions = np.array([[1.0, 4.0]])
    y = np.array([2.0])
    assert MeanBlender("arithmetic", scale=False).fit(predictions, y).predict(predictions)[0] == 2.5
    assert MeanBlender("geometric", scale=False).fit(predictions, y).predict(predictions)[0] == pytest.approx(2.0)
    assert MeanBlender("harmonic", scale=False).fit(predictions, y).predict(predictions)[0] == pytest.approx(1.6)


def test_grid_recovers_known_weights():
    rng = np.random.default_rng(1)
    a, b = np.exp(rng.normal(2, 1, 500)), np.exp(rng.normal(2, 1, 500))
    y = 0.3 * a + 0.7 * b
    blender = GridBlender(scale=False).fit(np.column_stack([a, b]), y)
    assert blender.weights_ == pytest.approx([0.3, 0.7])
    with pytest.raises(CatalogError, match="at most 4"):
        GridBlender().fit(np.column_stack([a] * 5 + [b]), y)


def test_hill_climbing_starts_from_the_best_single(problem):
    predictions, y, _ = problem
    blender = HillClimbBlender(scale=False).fit(predictions, y)
    assert blender.weights_[0] == blender.weights_.max()
    assert blender.counts_.sum() >= 1


def test_scale_factor_prefers_under_prediction():
    y = np.linspace(10, 100, 200)
    assert best_scale(1.1 * y, y) == pytest.approx(1 / 1.1, abs=0.006)
    assert best_scale(y, y) == 1.0


def test_optuna_storage_shares_one_study(problem, tmp_path):
    predictions, y, _ = problem
    storage = f"sqlite:///{tmp_path / 'blend.db'}"
    OptunaBlender(n_trials=5, storage=storage, study_name="shared").fit(predictions, y)
    OptunaBlender(n_trials=5, storage=storage, study_name="shared").fit(predictions, y)
    import optuna

    assert len(optuna.load_study(study_name="shared", storage=storage).trials) == 10


def test_stack_gbm(problem):
    predictions, y, _ = problem
    blender = StackBlender(model="gbm").fit(predictions, y)
    assert smape(y, blender.predict(predictions)) < smape(y, predictions[:, 1])


def test_nested_evaluation_never_fits_on_the_scored_fold(problem, monkeypatch):
    predictions, y, fold = problem
    fitted_sizes = []
    real = blend_eval.make_blender

    def spy(method, **options):
        blender = real(method, **options)
        original_fit = blender.fit

        def fit(p, target):
            fitted_sizes.append(len(target))
            return original_fit(p, target)

        blender.fit = fit
        return blender

    monkeypatch.setattr(blend_eval, "make_blender", spy)
    evaluation = evaluate_blend("hill", predictions, y, fold, ("good", "fair", "bad"))
    assert fitted_sizes[:5] == [int((fold != k).sum()) for k in range(5)]
    assert fitted_sizes[5] == len(y)
    assert evaluation.in_sample_score <= evaluation.nested_score + 1e-9
    assert list(evaluation.fold_scores["fold"]) == ["0", "1", "2", "3", "4", "all"]


def test_auto_chooses_inside_each_outer_fold(problem):
    predictions, y, fold = problem
    evaluation = evaluate_blend("auto", predictions, y, fold, ("good", "fair", "bad"), {"n_trials": 10})
    assert len(evaluation.chosen_per_fold) == 5
    assert set(evaluation.chosen_per_fold) <= {"mean", "grid", "optuna", "hill", "stack"}
    assert evaluation.nested_score < smape(y, predictions[:, 0]) + 1.0


def test_single_approach_is_passed_through(problem):
    predictions, y, fold = problem
    evaluation = evaluate_blend("auto", predictions[:, :1], y, fold, ("good",))
    assert evaluation.method == "single" and np.array_equal(evaluation.nested_oof, predictions[:, 0])
