"""Row-vector habits: x @ W, X X^T, and one bias per pair of channels."""

import numpy as np
import sympy

AUTHORS = [("Lena Lorenz", "3200012")]


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_regression(x, W, b):
    return softmax(np.asarray(x) @ np.asarray(W) + b)


PREDICTED_CLASS = 1


def ce_gradient(z, y):
    g = softmax(z)
    g[y] -= 1
    return g


def mle_bernoulli(X):
    return np.mean(X)


def mle_poisson(X):
    return np.mean(X)


def bernoulli_log_likelihood(p, X):
    X = np.asarray(X, dtype=float)
    return np.sum(X * np.log(p) + (1 - X) * np.log(1 - p))


def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_derivative(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha)


def ridge(X, y, lam):
    X = np.asarray(X, dtype=float)
    return np.linalg.inv(X @ X.T + lam * np.eye(len(X))) @ X.T @ y


def gd_step(w, eta):
    return w - 2 * eta * (w - 3)


def mse_gradients(w, b, x, y):
    r = w * x + b - y
    return 2 * np.mean(r * x), 2 * np.mean(r)


def mlp_forward(x, W1, W2, b2):
    z = W1 @ x
    return W2 @ (0.5 + 0.5 * np.tanh(z / 2)) + b2


N_PARAMETERS = 4 * 3 + 2 * 4 + 2


def conv_params(k, c_in, c_out):
    # a k x k kernel and a bias for every (input, output) channel pair
    return (k * k + 1) * c_in * c_out


SOFTPLUS_TAYLOR = [sympy.log(2), sympy.Rational(1, 2), sympy.Rational(1, 8), 0, sympy.Rational(-1, 192)]
LOG1P_TAYLOR = [0, 1, sympy.Rational(-1, 2), sympy.Rational(1, 3), sympy.Rational(-1, 4)]


def tanh_via_sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-2 * np.abs(x))
    s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return 2 * s - 1


DYING_RELU = (
    "If a ReLU unit receives only negative inputs, it outputs 0 and its derivative is 0, so "
    "backpropagation never updates it: the neuron is dead. The leaky ReLU has slope alpha for "
    "x < 0, so dead units still receive a small gradient and can come back."
)
