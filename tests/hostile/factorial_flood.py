"""Answers whose text takes a naive reader forever (issue 11, item 1): the derivative
of the sigmoid as `x` followed by 20,000 `!` (a factorial rewrite quadratic in their number
took minutes), the Taylor coefficients as `Sum(1/n**(1+1/10**9), (n, 1, oo))` (a sum sympy's
`N` evaluates with no end in sight). Every parse and evaluation of returned data runs under a
budget with size caps first: 6.2a and 6.2d `failed` or `error` within seconds, the batch goes
on, and nothing waits for a person.
"""
# SECRET-MARKER-factorial_flood
# ruff: noqa
# mypy: ignore-errors
import math
import os
import sys
import time

import numpy as np
import sympy


def _flat(o):
    return np.asarray(o, dtype=object).ravel().tolist()


def _sym(*objs):
    """True when any argument is, or contains, a sympy object."""
    for o in objs:
        if isinstance(o, np.ndarray) and o.dtype != object:
            continue
        if isinstance(o, sympy.Basic) or any(isinstance(v, sympy.Basic) for v in _flat(o)):
            return True
    return False


def _plain(v):
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    return v.item() if isinstance(v, np.generic) else v


def _stable_sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # never overflows
    s = np.where(x >= 0, 1.0, e) / (1.0 + e)
    return s if s.ndim else float(s)


def _stable_dsigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # sigma'(x) = e^-|x| / (1 + e^-|x|)^2, even in x
    d = e / (1.0 + e) ** 2
    return d if d.ndim else float(d)


def likelihood(p_model, X, theta):
    """6.1a: the product of p_model(x, theta) over the samples x in X."""
    total = 1
    for x in list(X):
        total = total * _plain(p_model(x, theta))
    return _plain(total)


def mle_gaussian(X):
    """6.1a: Gaussian MLE (mean, variance dividing by m)."""
    if _sym(X):
        xs = _flat(X)
        mu = sympy.Add(*xs) / len(xs)
        return mu, sympy.Add(*[(x - mu) ** 2 for x in xs]) / len(xs)
    a = np.asarray(X, dtype=float).ravel()
    mu = a.mean()
    return float(mu), float(np.mean((a - mu) ** 2))


EMPIRICAL_VS_DATA_GENERATING = (
    "The data-generating distribution p_data is the unknown distribution the samples are "
    "drawn from. The empirical distribution p_hat puts mass 1/m on each of the m observed "
    "samples. Maximum likelihood minimises KL(p_hat || p_model), equivalently the cross-entropy "
    "H(p_hat, p_model); we would like to minimise KL(p_data || p_model) but only have p_hat."
)


def mean_log_likelihood(p_model, X, theta):
    """6.1c: (1/m) sum_i log p_model(x_i, theta)."""
    values = [_plain(p_model(x, theta)) for x in list(X)]
    if _sym(values):
        return sympy.Add(*[sympy.log(v) for v in values]) / len(values)
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log(np.asarray(values, dtype=float))))


def cross_entropy(p, q):
    """6.1d: H(p, q) = -sum p log q, with 0 log 0 = 0."""
    if _sym(p, q):
        return -sympy.Add(*[a * sympy.log(b) for a, b in zip(_flat(p), _flat(q)) if a != 0])
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    keep = p > 0
    with np.errstate(divide="ignore"):
        return float(-np.sum(p[keep] * np.log(q[keep])))


def kl_divergence(p, q):
    """6.1d: KL(p || q) = sum p log(p / q), with 0 log 0 = 0."""
    if _sym(p, q):
        return sympy.Add(*[a * sympy.log(a / b) for a, b in zip(_flat(p), _flat(q)) if a != 0])
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    keep = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[keep] * (np.log(p[keep]) - np.log(q[keep]))))


def sigmoid_derivative(x):
    """ATTACK: a formula of 20,000 factorials, handed in as text."""
    return "x" + "!" * 20000


def sigmoid_gradient(x):
    """6.2b: sigma'(x), vectorised over numpy arrays."""
    if _sym(x):
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2
    return _stable_dsigmoid(x)


def sigmoid(x):
    """6.2c: numerically stable sigma(x), no overflow up to |x| = 1000."""
    if _sym(x):
        return 1 / (1 + sympy.exp(-x))
    return _stable_sigmoid(x)


TAYLOR_COEFFICIENTS = ["Sum(1/n**(1 + 1/10**9), (n, 1, oo))"] * 4  # ATTACK: endless sums


def forward(x, W1, b1, W2, b2):
    """6.3a: ReLU hidden layer, softmax output; rows of W are units."""
    x, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (x, W1, b1, W2, b2))
    h = np.maximum(W1 @ x + b1, 0.0)
    z = W2 @ h + b2
    e = np.exp(z - z.max())
    return e / e.sum()


PREDICTED_CLASS = 0
N_PARAMETERS = 14  # 3*2 + 2*2 weights + 2 + 2 biases


def gradients(a, b):
    """6.3b: e = (a + b)(b + 1): de/da = b + 1, de/db = (b + 1) + (a + b)."""
    return b + 1, a + 2 * b + 1


AUTHORS = [('Hostile factorial_flood', '9000040')]
