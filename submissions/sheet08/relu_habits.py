"""ReLU everywhere: the derivative, the hidden layer, and a hidden bias counted."""

import numpy as np
import sympy

AUTHORS = [("Felix Fuchs", "3200006")]


def softmax_regression(x, W, b):
    logits = np.asarray(W) @ np.asarray(x) + np.asarray(b)
    logits -= logits.max()
    p = np.exp(logits)
    return p / p.sum()


PREDICTED_CLASS = 1


def ce_gradient(z, y):
    z = np.asarray(z, dtype=float)
    p = np.exp(z - z.max())
    p /= p.sum()
    return p - np.eye(len(z))[y]


def mle_bernoulli(X):
    return np.mean(X)


def mle_poisson(X):
    return np.mean(X)


def bernoulli_log_likelihood(p, X):
    X = np.asarray(X, dtype=float)
    return float(X @ np.log(np.full(len(X), p)) + (1 - X) @ np.log(np.full(len(X), 1 - p)))


def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_derivative(x, alpha=0.01):
    return (np.asarray(x) > 0).astype(float)


def ridge(X, y, lam):
    return np.linalg.inv(X.T @ X + lam * np.eye(X.shape[1])) @ X.T @ y


def gd_step(w, eta):
    return w - 2 * eta * (w - 3)


def mse_gradients(w, b, x, y):
    r = w * x + b - y
    return 2 * np.mean(r * x), 2 * np.mean(r)


def mlp_forward(x, W1, W2, b2):
    h = np.maximum(0, W1 @ x)
    return W2 @ h + b2


# W1 and b1, W2 and b2
N_PARAMETERS = 4 * 3 + 4 + 2 * 4 + 2


def conv_params(k, c_in, c_out):
    return k**2 * c_in * c_out + c_out


SOFTPLUS_TAYLOR = [sympy.log(2), sympy.Rational(1, 2), sympy.Rational(1, 8), 0, -sympy.Rational(1, 192)]
LOG1P_TAYLOR = [0, 1, -sympy.Rational(1, 2), sympy.Rational(1, 3), -sympy.Rational(1, 4)]


def tanh_via_sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-2 * np.abs(x))
    return np.where(x >= 0, 2 / (1 + e) - 1, 2 * e / (1 + e) - 1)


def softmax(z):
    z = np.asarray(z, dtype=float)
    p = np.exp(z - z.max())
    return p / p.sum()


DYING_RELU = (
    "ReLU neurons can die: when the input is negative the output is zero and the gradient is "
    "zero, so if that happens for all examples the weights are never updated. A leaky ReLU "
    "returns alpha * x for negative x, which keeps a small gradient alive."
)
