"""Reference functions for exercise sheet 8, and the mistakes students make, as functions.

Trusted instructor code: the grader runs it in its own process (never in a student's
sandbox). `sheet08.yaml` names these functions as references (`reference: ridge`) and as
known mistakes (`ref: least_squares`); each mistake computes what a student who made it would
return from the same arguments, so that the grader can recognise and name it. A mistake that
cannot be worked out on a case (X Xᵀ where X is not square) raises, and is not looked for
there.
"""

from __future__ import annotations

import numpy as np


def _vector(v):
    return np.asarray(v, dtype=float)


def softmax(z):
    z = _vector(z)
    e = np.exp(z - z.max())
    return e / e.sum()


def sigmoid(x):
    """Stable: exp is only taken of non-positive numbers."""
    x = _vector(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


# --- 8.1a: softmax regression, rows of W are classes ------------------------------------


def softmax_regression(x, W, b):
    return softmax(_vector(W) @ _vector(x) + _vector(b))


def softmax_regression_without_b(x, W, b):
    return softmax(_vector(W) @ _vector(x))


def softmax_regression_transposed(x, W, b):
    return softmax(_vector(W).T @ _vector(x) + _vector(b))


# --- 8.1b: the gradient of the cross-entropy with respect to the logits -----------------


def ce_gradient(z, y):
    g = softmax(z)
    g[int(y)] -= 1.0
    return g


def ce_gradient_class_from_1(z, y):
    """`g[y - 1] -= 1`: y read as 1-based; for y = 0 numpy takes the last entry."""
    g = softmax(z)
    g[int(y) - 1] -= 1.0
    return g


# --- 8.2: maximum likelihood for Bernoulli and Poisson samples --------------------------


def bernoulli_log_likelihood(p, X):
    X = _vector(X)
    return float(np.sum(X * np.log(p) + (1 - X) * np.log(1 - p)))


def bernoulli_log_likelihood_without_failures(p, X):
    """Σ x log p: the (1 − x) log(1 − p) term of the failures left out."""
    return float(np.sum(_vector(X) * np.log(p)))


def bernoulli_mean_log_likelihood(p, X):
    return bernoulli_log_likelihood(p, X) / len(X)


# --- 8.3: the leaky ReLU and its derivative (no input is exactly 0) ---------------------


def leaky_relu(x, alpha=0.01):
    x = _vector(x)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_derivative(x, alpha=0.01):
    return np.where(_vector(x) > 0, 1.0, alpha)


def relu(x, alpha=0.01):
    return np.maximum(_vector(x), 0.0)


def relu_derivative(x, alpha=0.01):
    return np.where(_vector(x) > 0, 1.0, 0.0)


def leaky_relu_swapped(x, alpha=0.01):
    """αx for x > 0 and x for x < 0: α and 1 swapped."""
    x = _vector(x)
    return np.where(x > 0, alpha * x, x)


def leaky_relu_derivative_swapped(x, alpha=0.01):
    return np.where(_vector(x) > 0, alpha, 1.0)


# --- 8.4: ridge regression -----------------------------------------------------------------


def ridge(X, y, lam):
    X, y = _vector(X), _vector(y)
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ y)


def least_squares(X, y, lam):
    """λI left out: plain least squares (the minimum-norm solution where XᵀX is singular)."""
    return np.linalg.lstsq(_vector(X), _vector(y), rcond=None)[0]


def ridge_outer(X, y, lam):
    """X Xᵀ in place of XᵀX: its shapes fit only when X is square."""
    X, y = _vector(X), _vector(y)
    if X.shape[0] != X.shape[1]:
        raise ValueError("X X^T + lam I and X^T y do not fit unless X is square")
    return np.linalg.solve(X @ X.T + lam * np.eye(X.shape[0]), X.T @ y)


def ridge_lambda_everywhere(X, y, lam):
    """`X.T @ X + lam`: λ added to every entry, not only to the diagonal."""
    X, y = _vector(X), _vector(y)
    return np.linalg.solve(X.T @ X + lam, X.T @ y)


# --- 8.5b: gradients of the mean squared error -------------------------------------------


def mse_gradients(w, b, x, y):
    r = w * _vector(x) + b - _vector(y)
    return float(2 * np.mean(r * _vector(x))), float(2 * np.mean(r))


# --- 8.6: a two-layer network, sigmoid hidden layer without bias, linear output --------


def mlp_forward(x, W1, W2, b2):
    return _vector(W2) @ sigmoid(_vector(W1) @ _vector(x)) + _vector(b2)


def mlp_forward_relu(x, W1, W2, b2):
    return _vector(W2) @ np.maximum(_vector(W1) @ _vector(x), 0.0) + _vector(b2)


def mlp_forward_sigmoid_output(x, W1, W2, b2):
    return sigmoid(mlp_forward(x, W1, W2, b2))


def mlp_forward_transposed(x, W1, W2, b2):
    return _vector(W2).T @ sigmoid(_vector(W1).T @ _vector(x)) + _vector(b2)
