"""Right answers written differently from the reference: every one must earn full marks.

Loops instead of vectorised numpy, Python lists for vectors, np.linalg.inv (and the dual
form for wide X) in ridge, other numerically stable sigmoids, fractions, floats and strings
for the Taylor coefficients.
"""

import math
from fractions import Fraction

import numpy as np

AUTHORS = [("Karla Kern", "3100011"), ("Luis Lang", "3100012")]


def _log_sum_exp(values):
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _sigmoid(t):
    # sigma(t) = exp(-log(1 + exp(-t))), with logaddexp never overflowing
    return np.exp(-np.logaddexp(0.0, -np.asarray(t, dtype=float)))


def softmax_regression(x, W, b):
    logits = []
    for c in range(len(W)):
        logits.append(sum(W[c][j] * x[j] for j in range(len(x))) + b[c])
    lse = _log_sum_exp(logits)
    return [math.exp(z - lse) for z in logits]


_x, _W, _b = [1, 2, -1], [[1, 0, 2], [-1, 1, 0], [0.5, -0.5, 1]], [0, 0.5, -0.5]
_p = softmax_regression(_x, _W, _b)
PREDICTED_CLASS = _p.index(max(_p))


def ce_gradient(z, y):
    lse = _log_sum_exp(list(z))
    return [math.exp(zi - lse) - (1.0 if i == y else 0.0) for i, zi in enumerate(z)]


def mle_bernoulli(X):
    return sum(X) / len(X)


def mle_poisson(X):
    total = 0
    for x in X:
        total += x
    return total / len(X)


def bernoulli_log_likelihood(p, X):
    ll = 0.0
    for x in X:
        ll += math.log(p) if x == 1 else math.log(1 - p)
    return ll


def leaky_relu(x, alpha=0.01):
    return np.array([v if v > 0 else alpha * v for v in x])


def leaky_relu_derivative(x, alpha=0.01):
    return [1.0 if v > 0 else alpha for v in x]


def ridge(X, y, lam):
    X = np.array(X, dtype=float)
    m, n = X.shape
    if n > m:
        # the dual form X^T (X X^T + lam I)^-1 y: an m x m inverse instead of n x n
        return X.T @ np.linalg.inv(X @ X.T + lam * np.identity(m)) @ y
    return np.linalg.inv(X.T @ X + lam * np.identity(n)) @ X.T @ y


def gd_step(w, eta):
    return w - eta * (2 * w - 6)


def mse_gradients(w, b, x, y):
    m = len(x)
    dw = db = 0.0
    for xi, yi in zip(x, y):
        r = w * xi + b - yi
        dw += 2 * r * xi / m
        db += 2 * r / m
    return [dw, db]


def mlp_forward(x, W1, W2, b2):
    hidden = [0.5 * (1 + math.tanh(sum(w * v for w, v in zip(row, x)) / 2)) for row in W1]
    return [sum(w * h for w, h in zip(row, hidden)) + b for row, b in zip(W2, b2)]


_shapes = {"W1": (4, 3), "W2": (2, 4), "b2": (2,)}
N_PARAMETERS = sum(math.prod(s) for s in _shapes.values())


def conv_params(k, c_in, c_out):
    return c_out * (k**2 * c_in + 1)


SOFTPLUS_TAYLOR = [math.log(2), Fraction(1, 2), Fraction(1, 8), 0.0, -1 / 192]
LOG1P_TAYLOR = ["0", "1", "-1/2", "1/3", "-1/4"]


def tanh_via_sigmoid(x):
    return 2 * _sigmoid(2 * np.asarray(x, dtype=float)) - 1


def softmax(z):
    z = np.asarray(z, dtype=float)
    return np.exp(z - np.logaddexp.reduce(z))


DYING_RELU = (
    "If the input of a ReLU unit is negative for all training inputs, its output and its "
    "gradient are zero, so the weights feeding it never change any more and the neuron stays "
    "dead for the rest of training. Leaky ReLU uses alpha * x instead of 0 for negative x, "
    "so a small gradient alpha still flows and the neuron can recover."
)
