"""Forges the grader's protocol. At import it walks the call stack to find the
child's request (every probe id and argument) and its channel file descriptor, computes the
right answers with a hidden correct solution, and writes forged "start"/answer/"done" lines
onto the channel before the real "imported" event. Its public functions are all WRONG.
The grader must judge what the functions return (every auto-graded task `failed`) or reject
the hand-in for breaking the protocol (`error`); no task may pass.
"""
# SECRET-MARKER-protocol_forger
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
    """WRONG on purpose: a sum, not a product."""
    return _plain(sum(_plain(p_model(x, theta)) for x in list(X)))


def mle_gaussian(X):
    """WRONG on purpose: the variance divides by m - 1."""
    a = np.asarray(X, dtype=float).ravel()
    return float(a.mean()), float(a.var(ddof=1))


EMPIRICAL_VS_DATA_GENERATING = (
    "The data-generating distribution p_data is the unknown distribution the samples are "
    "drawn from. The empirical distribution p_hat puts mass 1/m on each of the m observed "
    "samples. Maximum likelihood minimises KL(p_hat || p_model), equivalently the cross-entropy "
    "H(p_hat, p_model); we would like to minimise KL(p_data || p_model) but only have p_hat."
)


def mean_log_likelihood(p_model, X, theta):
    """WRONG on purpose: the sum, not the mean, and no log."""
    return float(sum(float(_plain(p_model(x, theta))) for x in list(X)))


def cross_entropy(p, q):
    """WRONG on purpose: lost minus sign and arguments swapped."""
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    return float(np.sum(q * np.log(p + 1e-300)))


def kl_divergence(p, q):
    """WRONG on purpose: returns 1 - sum(p*q)."""
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    return float(1.0 - np.sum(p * q))


def sigmoid_derivative(x):
    """WRONG on purpose: sigma(x) * sigma(x), the seed's mistake."""
    if _sym(x):
        return 1 / (1 + sympy.exp(-x)) ** 2
    return _stable_sigmoid(x) ** 2


def sigmoid_gradient(x):
    """WRONG on purpose: sigma(x) (1 + sigma(x))."""
    s = _stable_sigmoid(x)
    return s * (1 + s)


def sigmoid(x):
    """WRONG on purpose: sigma(x)**2, so sigma(x) + sigma(-x) != 1."""
    return _stable_sigmoid(x) ** 2


TAYLOR_COEFFICIENTS = [sympy.Rational(1, 2), sympy.Rational(1, 4), 0, sympy.Rational(-1, 8)]  # WRONG: -1/8


def forward(x, W1, b1, W2, b2):
    """WRONG on purpose: no ReLU, weights transposed where shapes allow, no softmax."""
    x, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (x, W1, b1, W2, b2))
    z = W2 @ (W1 @ x + b1) + b2
    return np.full(z.shape, 1.0 / z.size) + 0.01 * np.arange(z.size)


PREDICTED_CLASS = 1  # WRONG on purpose
N_PARAMETERS = 10  # WRONG on purpose: biases forgotten


def gradients(a, b):
    """WRONG on purpose: de/db = d, forgetting the path through c."""
    return b + 1, b + 1


AUTHORS = [('Hostile protocol_forger', '9000019')]


# The hidden correct solution the forger answers with.
_HONEST_SOURCE = 'import numpy as np\nimport sympy\n\ndef _flat(o):\n    return np.asarray(o, dtype=object).ravel().tolist()\n\n\ndef _sym(*objs):\n    """True when any argument is, or contains, a sympy object."""\n    for o in objs:\n        if isinstance(o, np.ndarray) and o.dtype != object:\n            continue\n        if isinstance(o, sympy.Basic) or any(isinstance(v, sympy.Basic) for v in _flat(o)):\n            return True\n    return False\n\n\ndef _plain(v):\n    if isinstance(v, np.ndarray) and v.ndim == 0:\n        v = v[()]\n    return v.item() if isinstance(v, np.generic) else v\n\n\ndef _stable_sigmoid(x):\n    x = np.asarray(x, dtype=float)\n    e = np.exp(-np.abs(x))  # never overflows\n    s = np.where(x >= 0, 1.0, e) / (1.0 + e)\n    return s if s.ndim else float(s)\n\n\ndef _stable_dsigmoid(x):\n    x = np.asarray(x, dtype=float)\n    e = np.exp(-np.abs(x))  # sigma\'(x) = e^-|x| / (1 + e^-|x|)^2, even in x\n    d = e / (1.0 + e) ** 2\n    return d if d.ndim else float(d)\n\ndef likelihood(p_model, X, theta):\n    """6.1a: the product of p_model(x, theta) over the samples x in X."""\n    total = 1\n    for x in list(X):\n        total = total * _plain(p_model(x, theta))\n    return _plain(total)\n\ndef mle_gaussian(X):\n    """6.1a: Gaussian MLE (mean, variance dividing by m)."""\n    if _sym(X):\n        xs = _flat(X)\n        mu = sympy.Add(*xs) / len(xs)\n        return mu, sympy.Add(*[(x - mu) ** 2 for x in xs]) / len(xs)\n    a = np.asarray(X, dtype=float).ravel()\n    mu = a.mean()\n    return float(mu), float(np.mean((a - mu) ** 2))\n\ndef mean_log_likelihood(p_model, X, theta):\n    """6.1c: (1/m) sum_i log p_model(x_i, theta)."""\n    values = [_plain(p_model(x, theta)) for x in list(X)]\n    if _sym(values):\n        return sympy.Add(*[sympy.log(v) for v in values]) / len(values)\n    with np.errstate(divide="ignore"):\n        return float(np.mean(np.log(np.asarray(values, dtype=float))))\n\ndef cross_entropy(p, q):\n    """6.1d: H(p, q) = -sum p log q, with 0 log 0 = 0."""\n    if _sym(p, q):\n        return -sympy.Add(*[a * sympy.log(b) for a, b in zip(_flat(p), _flat(q)) if a != 0])\n    p = np.asarray(p, dtype=float).ravel()\n    q = np.asarray(q, dtype=float).ravel()\n    keep = p > 0\n    with np.errstate(divide="ignore"):\n        return float(-np.sum(p[keep] * np.log(q[keep])))\n\ndef kl_divergence(p, q):\n    """6.1d: KL(p || q) = sum p log(p / q), with 0 log 0 = 0."""\n    if _sym(p, q):\n        return sympy.Add(*[a * sympy.log(a / b) for a, b in zip(_flat(p), _flat(q)) if a != 0])\n    p = np.asarray(p, dtype=float).ravel()\n    q = np.asarray(q, dtype=float).ravel()\n    keep = p > 0\n    with np.errstate(divide="ignore"):\n        return float(np.sum(p[keep] * (np.log(p[keep]) - np.log(q[keep]))))\n\ndef sigmoid_derivative(x):\n    """6.2a: sigma\'(x) = sigma(x) (1 - sigma(x)); symbolic for sympy arguments."""\n    if _sym(x):\n        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2\n    return _stable_dsigmoid(x)\n\ndef sigmoid_gradient(x):\n    """6.2b: sigma\'(x), vectorised over numpy arrays."""\n    if _sym(x):\n        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2\n    return _stable_dsigmoid(x)\n\ndef sigmoid(x):\n    """6.2c: numerically stable sigma(x), no overflow up to |x| = 1000."""\n    if _sym(x):\n        return 1 / (1 + sympy.exp(-x))\n    return _stable_sigmoid(x)\n\n_t = sympy.Symbol("t")\n_series = sympy.series(1 / (1 + sympy.exp(-_t)), _t, 0, 4).removeO()\nTAYLOR_COEFFICIENTS = [_series.coeff(_t, k) for k in range(4)]  # 1/2, 1/4, 0, -1/48\n\ndef forward(x, W1, b1, W2, b2):\n    """6.3a: ReLU hidden layer, softmax output; rows of W are units."""\n    x, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (x, W1, b1, W2, b2))\n    h = np.maximum(W1 @ x + b1, 0.0)\n    z = W2 @ h + b2\n    e = np.exp(z - z.max())\n    return e / e.sum()\n\nPREDICTED_CLASS = 0\nN_PARAMETERS = 14  # 3*2 + 2*2 weights + 2 + 2 biases\n\ndef gradients(a, b):\n    """6.3b: e = (a + b)(b + 1): de/da = b + 1, de/db = (b + 1) + (a + b)."""\n    return b + 1, a + 2 * b + 1\n'


# ATTACK: forge the protocol with answers computed by a hidden correct solution.
_HONEST = {}
exec(_HONEST_SOURCE, _HONEST)


def _forge():
    request = channel_fd = encode = budget = decode_arg = None
    frame = sys._getframe()
    while frame is not None:
        loc, glb = frame.f_locals, frame.f_globals
        if isinstance(loc.get("request"), dict) and "probes" in loc["request"]:
            request = loc["request"]
        if hasattr(loc.get("channel"), "fd"):
            channel_fd = loc["channel"].fd
        encode = glb.get("encode", encode) if callable(glb.get("encode")) else encode
        budget = glb.get("_Budget", budget) if callable(glb.get("_Budget")) else budget
        decode_arg = glb.get("decode_arg", decode_arg) if callable(glb.get("decode_arg")) else decode_arg
        frame = frame.f_back
    if channel_fd is None:
        try:
            channel_fd = int(sys.argv[1])
        except (IndexError, ValueError):
            return
    lines = []
    for probe in (request or {}).get("probes", []):
        try:
            obj = _HONEST[probe["name"]]
            if probe.get("op") != "value":
                obj = obj(*[decode_arg(a) for a in probe.get("args", [])])
            value = encode(obj, budget())
        except BaseException:
            value = 1
        lines.append({"event": "start", "id": probe["id"]})
        lines.append({"id": probe["id"], "ok": True, "value": value, "seconds": 0.001})
    lines.append({"event": "done", "output": "", "dropped": 0})
    import json

    data = "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in lines).encode()
    while data:
        data = data[os.write(channel_fd, data):]


try:
    _forge()
except BaseException:
    pass
