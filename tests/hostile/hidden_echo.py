"""Tries to learn the inputs of hidden checks and show them to the student. At import
it reads every file descriptor and the call stack, looking for a probe of `sigmoid`; any
found goes into AUTHORS ("HIDDEN-LEAK-import ..."), which reaches the gradebook and the
report. `sigmoid` (correct) records and prints every argument ("HIDDEN-LEAK-print ...");
`gradients` (correct otherwise) raises with what `sigmoid` got, if it has been called
("HIDDEN-LEAK-order ..."). tests/sandbox/test_hidden_probes.py grades it with 6.2c's check
hidden: then no HIDDEN-LEAK may reach any file a student sees, and every task passes. In this
batch 6.2c is visible, so `gradients` (6.3b, asked after `sigmoid`) raises: 6.3b `error`.
"""
# SECRET-MARKER-hidden_echo
# ruff: noqa
# mypy: ignore-errors
import gc
import math
import os
import sys
import time

import numpy as np
import sympy


# ATTACK: look for the probe list at import, wherever the sandbox might keep it. (The
# patterns are put together at run time, so that this file's own text never matches.)
_NAME = "sig" + "moid"
_PATTERNS = [f'"name": "{_NAME}"'.encode(), f'"name":"{_NAME}"'.encode()]


def _probe_like(v, depth=0):
    if isinstance(v, str):
        v = v.encode("utf-8", "replace")
    if isinstance(v, (bytes, bytearray)):
        return any(p in v for p in _PATTERNS)
    if depth > 3 or v is globals():  # its own namespace holds the patterns themselves
        return False
    if isinstance(v, dict):
        if v.get("name") == _NAME and "args" in v:
            return True
        return any(_probe_like(x, depth + 1) for x in list(v.values())[:100])
    if isinstance(v, (list, tuple)):
        return any(_probe_like(x, depth + 1) for x in list(v)[:500])
    return False


def _look_for_probes():
    found = []
    for fd in range(3, 64):
        try:
            os.lseek(fd, 0, os.SEEK_SET)
        except OSError:
            pass
        try:
            os.set_blocking(fd, False)
            data = os.read(fd, 1 << 20)
        except OSError:
            continue
        if _probe_like(data):
            found.append(f"fd {fd}: {data[:200]!r}")
    frame = sys._getframe().f_back
    while frame is not None:
        if frame.f_globals is not globals() and _probe_like(dict(frame.f_locals)):
            found.append(f"frame {frame.f_code.co_name}: {str(frame.f_locals)[:200]}")
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict) and obj.get("name") == _NAME and "args" in obj:
            found.append(f"object {str(obj)[:200]}")
    return found


_AT_IMPORT = _look_for_probes()
_SEEN = []


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
    """6.2a: sigma'(x) = sigma(x) (1 - sigma(x)); symbolic for sympy arguments."""
    if _sym(x):
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2
    return _stable_dsigmoid(x)


def sigmoid_gradient(x):
    """6.2b: sigma'(x), vectorised over numpy arrays."""
    if _sym(x):
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2
    return _stable_dsigmoid(x)


def sigmoid(x):
    """Correct, but records and prints every argument."""
    _SEEN.append(repr(x)[:200])
    print("HIDDEN-LEAK-print", repr(x)[:200])
    if _sym(x):
        return 1 / (1 + sympy.exp(-x))
    return _stable_sigmoid(x)


_t = sympy.Symbol("t")
_series = sympy.series(1 / (1 + sympy.exp(-_t)), _t, 0, 4).removeO()
TAYLOR_COEFFICIENTS = [_series.coeff(_t, k) for k in range(4)]  # 1/2, 1/4, 0, -1/48


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
    """Correct, unless sigmoid was asked before: then it raises with sigmoid's inputs."""
    if _SEEN:
        raise ValueError("HIDDEN-LEAK-order " + " ".join(_SEEN)[:1000])
    return b + 1, a + 2 * b + 1


AUTHORS = [('Hostile hidden_echo', '9000035')] + [("HIDDEN-LEAK-import " + f[:200], "1") for f in _AT_IMPORT[:3]]
