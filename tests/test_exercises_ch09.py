"""Chapter 9's checkers: the references pass and agree with the library's layers, every catalogued mistake gets
its own hint, and hand-written learner bugs are caught."""
from __future__ import annotations

import numpy as np
import pytest

from tinynn.exercises import ch09, checkers
from tinynn.layers import BatchNormalization, Conv2D, MaxPooling2D

CHECKS = checkers("ch09")
MISTAKES = [(name, chk, m) for name, chk in CHECKS.items() for m in chk.mistakes]


def test_there_are_four_documented_checkers():
    assert list(CHECKS) == ["check_conv2d_forward", "check_conv2d_kernel_grad", "check_maxpool_backward",
                            "check_batchnorm_backward"]
    for name, chk in CHECKS.items():
        assert name == f"check_{chk.name}" and chk.__doc__ and len(chk.mistakes) >= 3


@pytest.mark.parametrize("name", list(CHECKS))
def test_reference_passes(name, capsys):
    chk = CHECKS[name]
    assert chk(chk.reference).passed
    assert capsys.readouterr().out.startswith(f"✓ {chk.name} passes")


@pytest.mark.parametrize("name,chk,mistake", MISTAKES, ids=[f"{n}-{m.key}" for n, _, m in MISTAKES])
def test_each_catalogued_mistake_gets_its_hint(name, chk, mistake):
    r = chk(mistake.fn, verbose=False)
    assert not r.passed and r.mistake == mistake.key and r.hint == mistake.hint


def _x(shape, seed=1):
    return np.random.default_rng(seed).normal(size=shape)


def test_references_agree_with_the_layers():
    x, dy = _x((2, 6, 5, 3)), _x((2, 4, 3, 4), 2)
    conv = Conv2D(4, 3, dtype="float64", bias_initializer="glorot_uniform")
    z = conv(x)
    np.testing.assert_allclose(ch09.check_conv2d_forward.reference(x, conv.kernel.value, conv.bias.value), z)
    conv.backward(dy)
    np.testing.assert_allclose(ch09.check_conv2d_kernel_grad.reference(x, dy, (3, 3)), conv.kernel.grad)
    xi = np.random.default_rng(3).integers(0, 3, (2, 4, 6, 2)).astype(float)   # many ties
    pool = MaxPooling2D()
    pool(xi)
    dyp = _x((2, 2, 3, 2), 4)
    np.testing.assert_allclose(ch09.check_maxpool_backward.reference(xi, dyp), pool.backward(dyp))
    bn = BatchNormalization(dtype="float64", gamma_initializer="glorot_uniform")
    xb, dyb = _x((7, 3)) * 2 + 1, _x((7, 3), 5)
    bn(xb, training=True)
    np.testing.assert_allclose(ch09.check_batchnorm_backward.reference(dyb, xb, bn.gamma.value, 1e-3),
                               bn.backward(dyb), atol=1e-12)


def test_learner_style_bugs():
    def conv_numpy_flip(x, kernel, bias):      # np.convolve-style thinking: flip the kernel
        kh, kw = kernel.shape[:2]
        k = kernel[::-1, ::-1]
        ho, wo = x.shape[1] - kh + 1, x.shape[2] - kw + 1
        out = np.zeros((x.shape[0], ho, wo, kernel.shape[3]))
        for i in range(ho):
            for j in range(wo):
                out[:, i, j] = np.einsum("nabc,abcf->nf", x[:, i:i + kh, j:j + kw], k) + bias
        return out
    assert ch09.check_conv2d_forward(conv_numpy_flip, verbose=False).mistake == "flipped"

    def pool_mask(x, dy):                       # the textbook mask x == max: ties double-count
        n, h, w, c = x.shape
        up = dy.repeat(2, axis=1).repeat(2, axis=2)
        m = x.reshape(n, h // 2, 2, w // 2, 2, c).max(axis=(2, 4)).repeat(2, axis=1).repeat(2, axis=2)
        return up * (x == m)
    r = ch09.check_maxpool_backward(pool_mask, verbose=False)
    assert not r.passed and r.mistake == "all_ties"

    def bn_inference_style(dy, x, gamma, eps):
        return dy * gamma / np.sqrt(x.var(0) + eps)
    assert ch09.check_batchnorm_backward(bn_inference_style, verbose=False).mistake == "simplified"
