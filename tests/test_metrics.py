import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog_ml.core.metrics import accuracy, log_loss, macro_f1, mae_log1p, smape

positive = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_smape_known_values():
    assert smape(np.array([100.0]), np.array([100.0])) == 0.0
    assert smape(np.array([100.0]), np.array([50.0])) == pytest.approx(100 * 50 / 75)
    assert smape(np.array([1.0, 3.0]), np.array([3.0, 1.0])) == pytest.approx(100.0)


def test_smape_pair_of_zeros_counts_as_zero():
    assert smape(np.array([0.0, 10.0]), np.array([0.0, 10.0])) == 0.0
    assert smape(np.array([0.0]), np.array([5.0])) == pytest.approx(200.0)


def test_smape_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        smape(np.array([1.0, 2.0]), np.array([1.0]))


@given(st.lists(st.tuples(positive, positive), min_size=1, max_size=50))
def test_smape_is_symmetric_and_bounded(pairs):
    y, p = np.array(pairs).T
    value = smape(y, p)
    assert 0.0 <= value <= 200.0
    assert value == pytest.approx(smape(p, y))


def test_smape_prefers_slight_under_prediction():
    y = np.array([100.0])
    assert smape(y, np.array([90.0])) > smape(y, np.array([110.0]))


def test_mae_log1p():
    assert mae_log1p(np.array([np.e - 1]), np.array([0.0])) == pytest.approx(1.0)


def test_classification_metrics():
    classes = np.array(["a", "b"])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    y = np.array(["a", "b", "b"])
    assert accuracy(y, proba, classes) == pytest.approx(2 / 3)
    assert macro_f1(y, proba, classes) == pytest.approx(np.mean([2 / 3, 2 / 3]))
    assert log_loss(y, proba, classes) == pytest.approx(-np.mean(np.log([0.9, 0.8, 0.4])))
