r"""Activation functions, each next to its derivative.

For every activation ``f`` there is ``f_derivative(x, y)``: the elementwise derivative
:math:`f'(x)`, given the input ``x`` and the output ``y = f(x)`` (whichever is cheaper to use).
Backprop multiplies it with the upstream gradient: :math:`\partial L/\partial x = f'(x) \odot \partial L/\partial y`
(see :func:`backward`). Softmax is not elementwise; its vector-Jacobian product is
:func:`softmax_backward`.

Names resolve like Keras: ``get('relu') is relu``.

>>> from tinynn.backend import xp
>>> x = xp.array([-2.0, 0.5, 3.0])
>>> relu(x).tolist(), relu_derivative(x, relu(x)).tolist()
([0.0, 0.5, 3.0], [0.0, 1.0, 1.0])
>>> round(float(sigmoid_derivative(xp.array(0.0), sigmoid(xp.array(0.0)))), 4)   # sigma'(0) = 1/4
0.25
"""
from __future__ import annotations

import math

from tinynn import backend
from tinynn.backend import xp

__all__ = [
    "linear", "relu", "leaky_relu", "elu", "selu", "sigmoid", "hard_sigmoid", "tanh", "softmax",
    "softplus", "softsign", "gelu", "swish", "silu", "exponential", "get", "serialize", "derivative",
    "backward",
]


def linear(x):
    """Identity: :math:`f(x) = x`."""
    return x


def linear_derivative(x, y):
    """:math:`f'(x) = 1`."""
    return xp.ones_like(x)


def relu(x):
    r"""Rectified linear unit: :math:`f(x) = \max(x, 0)`."""
    return xp.maximum(x, 0)


def relu_derivative(x, y):
    """:math:`f'(x) = 1` if :math:`x > 0` else :math:`0` (we take 0 at the kink, like Keras)."""
    return (y > 0).astype(y.dtype)


def leaky_relu(x, negative_slope=0.2):
    r""":math:`f(x) = x` for :math:`x > 0`, else :math:`\alpha x` (Keras' default :math:`\alpha = 0.2`)."""
    return xp.where(x > 0, x, negative_slope * x)


def leaky_relu_derivative(x, y, negative_slope=0.2):
    r""":math:`f'(x) = 1` for :math:`x > 0`, else :math:`\alpha`."""
    return xp.where(x > 0, 1.0, negative_slope).astype(x.dtype)


def elu(x, alpha=1.0):
    r"""Exponential linear unit: :math:`f(x) = x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`."""
    return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))


def elu_derivative(x, y, alpha=1.0):
    r""":math:`f'(x) = 1` for :math:`x > 0`, else :math:`\alpha e^x = f(x) + \alpha`."""
    return xp.where(x > 0, 1.0, y + alpha).astype(x.dtype)


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def selu(x):
    r"""Scaled ELU: :math:`f(x) = \lambda\,\mathrm{elu}_\alpha(x)` with Klambauer et al.'s constants."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def selu_derivative(x, y):
    r""":math:`f'(x) = \lambda` for :math:`x > 0`, else :math:`f(x) + \lambda\alpha`."""
    return xp.where(x > 0, _SELU_SCALE, y + _SELU_SCALE * _SELU_ALPHA).astype(x.dtype)


def sigmoid(x):
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, computed as :math:`(1 + \tanh(x/2))/2`,
    which equals it exactly and never overflows."""
    return 0.5 * (xp.tanh(0.5 * x) + 1.0)


def sigmoid_derivative(x, y):
    r""":math:`\sigma'(x) = \sigma(x)(1 - \sigma(x)) = y(1 - y)`; at most 1/4, so deep sigmoid nets shrink gradients."""
    return y * (1.0 - y)


def hard_sigmoid(x):
    r""":math:`f(x) = \mathrm{clip}(x/6 + 1/2, 0, 1)` (Keras 3's definition)."""
    return xp.clip(x / 6.0 + 0.5, 0.0, 1.0)


def hard_sigmoid_derivative(x, y):
    """:math:`f'(x) = 1/6` on :math:`-3 < x < 3`, else 0."""
    return xp.where((x > -3) & (x < 3), 1.0 / 6.0, 0.0).astype(x.dtype)


def tanh(x):
    r"""Hyperbolic tangent :math:`\tanh(x) = (e^x - e^{-x})/(e^x + e^{-x})`."""
    return xp.tanh(x)


def tanh_derivative(x, y):
    r""":math:`\tanh'(x) = 1 - \tanh^2(x) = 1 - y^2`."""
    return 1.0 - y * y


def softmax(x, axis=-1):
    r""":math:`\mathrm{softmax}(x)_i = e^{x_i - m} / \sum_j e^{x_j - m}` with :math:`m = \max_j x_j`.

    Subtracting the maximum changes nothing mathematically and keeps ``exp`` from overflowing.
    """
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_backward(y, dy, axis=-1):
    r"""Vector-Jacobian product of softmax: :math:`\partial L/\partial x = y \odot (dy - \sum_j dy_j\, y_j)`.

    The Jacobian is :math:`\partial y_i/\partial x_j = y_i(\delta_{ij} - y_j)`; multiplying it by ``dy``
    gives the formula above without ever forming the matrix.
    """
    return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


def softplus(x):
    r""":math:`f(x) = \log(1 + e^x)`, computed as :math:`\max(x, 0) + \log(1 + e^{-|x|})` (stable)."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-abs(x)))


def softplus_derivative(x, y):
    r""":math:`f'(x) = \sigma(x)`."""
    return sigmoid(x)


def softsign(x):
    """:math:`f(x) = x / (1 + |x|)`."""
    return x / (1.0 + abs(x))


def softsign_derivative(x, y):
    """:math:`f'(x) = 1/(1 + |x|)^2`."""
    return 1.0 / (1.0 + abs(x)) ** 2


def gelu(x, approximate=False):
    r"""Gaussian error linear unit :math:`f(x) = x\,\Phi(x) = \tfrac{x}{2}(1 + \mathrm{erf}(x/\sqrt 2))`.

    With ``approximate=True``: :math:`\tfrac{x}{2}(1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`.
    """
    if approximate:
        return 0.5 * x * (1.0 + xp.tanh(_GELU_C * (x + 0.044715 * x**3)))
    return 0.5 * x * (1.0 + backend.erf(x / math.sqrt(2.0)))


_GELU_C = math.sqrt(2.0 / math.pi)


def gelu_derivative(x, y, approximate=False):
    r""":math:`f'(x) = \Phi(x) + x\,\varphi(x)` with :math:`\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}`."""
    if approximate:
        t = xp.tanh(_GELU_C * (x + 0.044715 * x**3))
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * x * x)
    cdf = 0.5 * (1.0 + backend.erf(x / math.sqrt(2.0)))
    return cdf + x * xp.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def swish(x):
    r"""Swish / SiLU: :math:`f(x) = x\,\sigma(x)`."""
    return x * sigmoid(x)


def swish_derivative(x, y):
    r""":math:`f'(x) = \sigma(x) + x\,\sigma(x)(1 - \sigma(x))`."""
    s = sigmoid(x)
    return s + x * s * (1.0 - s)


silu = swish
silu_derivative = swish_derivative


def exponential(x):
    """:math:`f(x) = e^x`."""
    return xp.exp(x)


def exponential_derivative(x, y):
    """:math:`f'(x) = e^x = y`."""
    return y


_ACTIVATIONS = {
    "linear": linear, "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "selu": selu,
    "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh, "softmax": softmax,
    "softplus": softplus, "softsign": softsign, "gelu": gelu, "swish": swish, "silu": silu,
    "exponential": exponential,
}
_DERIVATIVES = {
    linear: linear_derivative, relu: relu_derivative, leaky_relu: leaky_relu_derivative,
    elu: elu_derivative, selu: selu_derivative, sigmoid: sigmoid_derivative,
    hard_sigmoid: hard_sigmoid_derivative, tanh: tanh_derivative, softplus: softplus_derivative,
    softsign: softsign_derivative, gelu: gelu_derivative, swish: swish_derivative,
    exponential: exponential_derivative,
}


def get(identifier):
    """The activation function for a Keras name (``'relu'``), ``None`` (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _ACTIVATIONS:
            raise ValueError(
                f"Unknown activation {identifier!r}. Known activations: {', '.join(sorted(_ACTIVATIONS))}."
            )
        return _ACTIVATIONS[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation {identifier!r}: expected a name or a function.")


def serialize(fn):
    """The name of a built-in activation (``serialize(relu) == 'relu'``), else the function's ``__name__``."""
    for name, f in _ACTIVATIONS.items():
        if f is fn:
            return name
    return getattr(fn, "__name__", repr(fn))


def derivative(fn):
    """The elementwise derivative ``f'(x, y)`` of a built-in activation, or ``None`` if it has none
    (softmax, whose Jacobian is not diagonal, and user functions)."""
    return _DERIVATIVES.get(fn)


def has_backward(fn):
    """True for activations whose backward tinynn knows by hand."""
    return fn is softmax or fn in _DERIVATIVES


def backward(fn, x, y, dy):
    r""":math:`\partial L/\partial x` given :math:`x`, :math:`y = f(x)` and :math:`dy = \partial L/\partial y`.

    ``dy`` is never modified; for elementwise activations this is ``dy * f'(x)``.
    """
    if fn is linear:
        return dy
    if fn is relu:
        return dy * (y > 0)
    if fn is softmax:
        return softmax_backward(y, dy)
    d = _DERIVATIVES.get(fn)
    if d is None:
        raise NotImplementedError(
            f"tinynn does not know the derivative of the activation {serialize(fn)!r}."
        )
    return dy * d(x, y)
