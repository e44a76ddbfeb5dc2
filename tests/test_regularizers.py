import numpy as np
import pytest

from tinynn import regularizers
from tinynn.testing import numerical_gradient, rel_error


@pytest.mark.parametrize("reg", [regularizers.L1(0.3), regularizers.L2(0.2), regularizers.L1L2(0.1, 0.4)])
def test_penalty_gradient_matches_finite_differences(reg):
    w = np.random.default_rng(0).normal(size=(4, 3))
    num = numerical_gradient(lambda: reg(w), w)
    assert rel_error(reg.gradient(w), num) < 1e-8


def test_formulas():
    w = np.array([[1.0, -2.0]])
    assert regularizers.L1(0.5)(w) == pytest.approx(1.5)          # 0.5 * (1 + 2)
    assert regularizers.L2(0.5)(w) == pytest.approx(2.5)          # 0.5 * (1 + 4)
    assert np.allclose(regularizers.L2(0.5).gradient(w), [[1.0, -2.0]])   # 2 * 0.5 * w
    assert np.allclose(regularizers.L1(0.5).gradient(w), [[0.5, -0.5]])


def test_get():
    assert isinstance(regularizers.get("l2"), regularizers.L2) and regularizers.get(None) is None
    assert regularizers.get("l2").l2 == 0.01
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.get("l3")
