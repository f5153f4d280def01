"""Reference solution to exercise sheet 6 (full marks; `grader validate` grades it)."""

import numpy as np
import sympy

AUTHORS = [("Reference Solution", "0000000")]


# --- 6.1 MLE and cross-entropy -------------------------------------------------
def likelihood(p_model, X, theta):
    """L(theta) = prod_i p_model(x_i; theta)."""
    return float(np.prod([p_model(x, theta) for x in X]))


def mle_gaussian(X):
    """The Gaussian MLE: the sample mean and the variance dividing by m (not m - 1)."""
    X = np.asarray(X, dtype=float)
    mu = X.mean()
    return float(mu), float(np.mean((X - mu) ** 2))


EMPIRICAL_VS_DATA_GENERATING = (
    "The data-generating distribution p_data is the true, unknown distribution that the "
    "samples are drawn from. The empirical distribution p_hat_data is built from the m "
    "observed samples alone: it puts probability 1/m on each sample, so it is a discrete "
    "approximation of p_data that converges to it as m grows. We can only ever compute with "
    "the empirical one."
)


def mean_log_likelihood(p_model, X, theta):
    """(1/m) sum_i log p_model(x_i; theta): the expectation of log p_model under p_hat_data."""
    return float(np.mean([np.log(p_model(x, theta)) for x in X]))


def _xlogy(p, q):
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    out = np.zeros_like(p)
    nz = p > 0
    out[nz] = p[nz] * np.log(q[nz])
    return out


def cross_entropy(p, q):
    """H(p, q) = -sum p log q, with 0 log 0 = 0."""
    return float(-_xlogy(p, q).sum())


def kl_divergence(p, q):
    """KL(p || q) = sum p log(p / q) = H(p, q) - H(p)."""
    return float(_xlogy(p, p).sum() - _xlogy(p, q).sum())


# --- 6.2 The sigmoid ----------------------------------------------------------------
def sigmoid(x):
    """Stable for |x| up to 1000: exp is only ever taken of a non-positive number."""
    if isinstance(x, sympy.Basic):
        return 1 / (1 + sympy.exp(-x))
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_derivative(x):
    """sigma'(x) = sigma(x) - sigma(x)^2; symbolic for sympy input."""
    s = sigmoid(x)
    return s - s**2


def sigmoid_gradient(x):
    s = sigmoid(np.asarray(x, dtype=float))
    return s * (1 - s)


# f(0), f'(0), f''(0)/2!, f'''(0)/3!, worked out by hand
TAYLOR_COEFFICIENTS = [sympy.Rational(1, 2), sympy.Rational(1, 4), 0, sympy.Rational(-1, 48)]


# --- 6.3 Forward and backward passes ---------------------------------------------
def _softmax(z):
    z = z - np.max(z)
    e = np.exp(z)
    return e / e.sum()


def forward(x, W1, b1, W2, b2):
    """ReLU hidden layer, softmax output; row i of W holds the weights into unit i."""
    h = np.maximum(0, np.asarray(W1) @ np.asarray(x) + np.asarray(b1))
    return _softmax(np.asarray(W2) @ h + np.asarray(b2))


PREDICTED_CLASS = 0
N_PARAMETERS = 3 * 2 + 2 * 2 + 2 + 2


def gradients(a, b):
    """c = a + b, d = b + 1, e = c * d: de/da = d, de/db = d + c."""
    c = a + b
    d = b + 1
    return d, d + c
