r"""Weight penalties added to the loss (and their gradients added to the weights' gradients).

* L1: :math:`R(W) = \lambda_1 \sum |W|`, :math:`\partial R/\partial W = \lambda_1\,\mathrm{sign}(W)`
* L2: :math:`R(W) = \lambda_2 \sum W^2`, :math:`\partial R/\partial W = 2\lambda_2 W`

>>> from tinynn.backend import xp
>>> w = xp.array([[1.0, -2.0]])
>>> float(L2(0.5)(w)), L2(0.5).gradient(w).tolist()
(2.5, [[1.0, -2.0]])
"""
from __future__ import annotations

from tinynn.backend import xp


class Regularizer:
    """Base class: ``__call__(w)`` is the penalty, ``gradient(w)`` its derivative."""

    def __call__(self, w):
        return 0.0

    def gradient(self, w):
        return xp.zeros_like(w)

    def get_config(self):
        return dict(vars(self))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    r""":math:`R(W) = \lambda_1 \sum |W| + \lambda_2 \sum W^2`."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * float(abs(w).sum())
        if self.l2:
            penalty += self.l2 * float((w * w).sum())
        return penalty

    def gradient(self, w):
        g = xp.zeros_like(w)
        if self.l1:
            g += self.l1 * xp.sign(w)
        if self.l2:
            g += (2.0 * self.l2) * w
        return g


class L1(L1L2):
    r""":math:`R(W) = \lambda \sum |W|` (Keras' default :math:`\lambda = 0.01`)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    r""":math:`R(W) = \lambda \sum W^2` (Keras' default :math:`\lambda = 0.01`)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2


def get(identifier):
    """A regularizer from ``None``, a name (``'l2'``), a dict config or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        names = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
        if identifier.lower() not in names:
            raise ValueError(f"Unknown regularizer {identifier!r}; expected one of {sorted(names)}.")
        return names[identifier.lower()]()
    if isinstance(identifier, dict) and "class_name" in identifier:
        classes = {"L1": L1, "L2": L2, "L1L2": L1L2}
        if identifier["class_name"] not in classes:
            raise ValueError(f"Unknown regularizer class {identifier['class_name']!r}; expected one of {sorted(classes)}.")
        return classes[identifier["class_name"]](**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer {identifier!r}.")


def serialize(regularizer):
    """``{'class_name': ..., 'config': ...}`` for a built-in regularizer (what ``get`` reads back)."""
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}
