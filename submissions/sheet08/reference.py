"""Reference solution to exercise sheet 8 (full marks; `grader validate` grades it)."""

import numpy as np
import sympy

AUTHORS = [("Reference Solution", "0000000")]


def _softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return e / e.sum()


def _sigmoid(x):
    """Stable for any |x|: exp is only ever taken of a non-positive number."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# --- 8.1 Softmax regression ----------------------------------------------------------
def softmax_regression(x, W, b):
    """softmax(W x + b); row c of W holds the weights of class c."""
    return _softmax(np.asarray(W, dtype=float) @ np.asarray(x, dtype=float) + np.asarray(b))


# z = W x + b = (-1, 1.5, -2): the largest logit is class 1 (0-based)
PREDICTED_CLASS = 1


def ce_gradient(z, y):
    """dL/dz of L = -log softmax(z)_y: softmax(z) - onehot(y)."""
    g = _softmax(z)
    g[y] -= 1
    return g


# --- 8.2 Maximum likelihood -------------------------------------------------------------
def mle_bernoulli(X):
    return float(np.mean(X))


def mle_poisson(X):
    return float(np.mean(X))


def bernoulli_log_likelihood(p, X):
    X = np.asarray(X, dtype=float)
    return float(np.sum(X * np.log(p) + (1 - X) * np.log(1 - p)))


# --- 8.3 Leaky ReLU ---------------------------------------------------------------------
def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_derivative(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha)


# --- 8.4 Ridge regression ------------------------------------------------------------------
def ridge(X, y, lam):
    X = np.asarray(X, dtype=float)
    n = X.shape[1]
    return np.linalg.solve(X.T @ X + lam * np.eye(n), X.T @ np.asarray(y, dtype=float))


# --- 8.5 Gradient descent -----------------------------------------------------------------
def gd_step(w, eta):
    """w - eta f'(w) with f(w) = (w - 3)^2, f'(w) = 2 (w - 3)."""
    return w - eta * 2 * (w - 3)


def mse_gradients(w, b, x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    r = w * x + b - y
    return 2 * np.mean(r * x), 2 * np.mean(r)


# --- 8.6 A network without hidden bias --------------------------------------------------
def mlp_forward(x, W1, W2, b2):
    h = _sigmoid(np.asarray(W1) @ np.asarray(x))
    return np.asarray(W2) @ h + np.asarray(b2)


# W1: 4 x 3, W2: 2 x 4, b2: 2 (no hidden bias)
N_PARAMETERS = 4 * 3 + 2 * 4 + 2


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


# --- 8.7 Taylor series at 0 -----------------------------------------------------------------
# softplus: log 2 + x/2 + x^2/8 - x^4/192; log(1 + x): x - x^2/2 + x^3/3 - x^4/4
SOFTPLUS_TAYLOR = [sympy.log(2), sympy.Rational(1, 2), sympy.Rational(1, 8), 0,
                   sympy.Rational(-1, 192)]
LOG1P_TAYLOR = [0, 1, sympy.Rational(-1, 2), sympy.Rational(1, 3), sympy.Rational(-1, 4)]


# --- 8.8 Two identities ------------------------------------------------------------------
def tanh_via_sigmoid(x):
    """tanh(x) = 2 sigma(2x) - 1."""
    return 2 * _sigmoid(2 * np.asarray(x, dtype=float)) - 1


def softmax(z):
    return _softmax(z)


# --- 8.9 -----------------------------------------------------------------------------------
DYING_RELU = (
    "A ReLU unit whose pre-activation is negative for every training example outputs 0 and "
    "has gradient 0 there, so gradient descent never changes its weights again: the unit is "
    "dead, for instance after a large update or a large negative bias. The leaky ReLU has a "
    "small slope alpha for negative inputs, so the gradient never vanishes completely and "
    "the unit can come back to life."
)
