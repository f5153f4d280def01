"""Reference solution to exercise sheet 7."""

import numpy as np
import sympy

AUTHORS = [("Reference Solution", "0000000")]


def tanh_derivative(x):
    if isinstance(x, sympy.Basic):
        return 1 - sympy.tanh(x) ** 2
    return 1 - np.tanh(x) ** 2


def softplus(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=float))


def softplus_derivative(x):
    if isinstance(x, sympy.Basic):
        return 1 / (1 + sympy.exp(-x))
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


_x = sympy.Symbol("x")
TANH_TAYLOR = [sympy.series(sympy.tanh(_x), _x, 0, 6).removeO().coeff(_x, k) for k in range(6)]


def forward(x, W1, b1, W2, b2, W3, b3):
    h1 = np.tanh(np.asarray(W1) @ np.asarray(x) + b1)
    h2 = np.logaddexp(0.0, np.asarray(W2) @ h1 + b2)
    z = np.asarray(W3) @ h2 + b3
    e = np.exp(z - z.max())
    return e / e.sum()


N_PARAMETERS = 3 * 2 + 3 + 2 * 3 + 2 + 3 * 2 + 3


def loss_gradients(w, b):
    exp, log = (sympy.exp, sympy.log) if isinstance(w, sympy.Basic) else (np.exp, np.log)
    z = 2 * w + b
    a = log(1 + exp(z))
    dL_da = 2 * (a - 1)
    s = 1 / (1 + exp(-z))
    return dL_da * s * 2, dL_da * s
