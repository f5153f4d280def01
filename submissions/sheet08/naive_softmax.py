"""Softmax straight from the formula, and classes counted from 1 as in the lecture's slides."""

import numpy as np
import sympy

AUTHORS = [("Anna Albrecht", "3200001"), ("Ben Bauer", "3200002")]


def softmax_regression(x, W, b):
    z = np.dot(W, x) + b
    return np.exp(z) / np.sum(np.exp(z))


# z = (-1, 1.5, -2): the second class has the largest probability
PREDICTED_CLASS = 2


def ce_gradient(z, y):
    p = np.exp(z) / np.sum(np.exp(z))
    p[y - 1] -= 1  # class y sits at position y - 1
    return p


def mle_bernoulli(X):
    return np.mean(X)


def mle_poisson(X):
    return np.mean(X)


def bernoulli_log_likelihood(p, X):
    X = np.asarray(X)
    return np.sum(X * np.log(p) + (1 - X) * np.log(1 - p))


def leaky_relu(x, alpha=0.01):
    return np.maximum(x, alpha * np.asarray(x))


def leaky_relu_derivative(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, 1, alpha)


def ridge(X, y, lam):
    n = X.shape[1]
    return np.linalg.solve(X.T @ X + lam * np.eye(n), X.T @ y)


def gd_step(w, eta):
    return w - 2 * eta * (w - 3)


def mse_gradients(w, b, x, y):
    e = w * x + b - y
    return 2 * np.mean(e * x), 2 * np.mean(e)


def sigmoid(t):
    return 1 / (1 + np.exp(-t))


def mlp_forward(x, W1, W2, b2):
    return W2 @ sigmoid(W1 @ x) + b2


N_PARAMETERS = 12 + 8 + 2


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


SOFTPLUS_TAYLOR = [sympy.log(2), sympy.Rational(1, 2), sympy.Rational(1, 8), 0,
                   sympy.Rational(-1, 192)]
LOG1P_TAYLOR = [0, 1, sympy.Rational(-1, 2), sympy.Rational(1, 3), sympy.Rational(-1, 4)]


def tanh_via_sigmoid(x):
    x = np.asarray(x, dtype=float)
    s = np.where(x >= 0, 1 / (1 + np.exp(-2 * np.abs(x))), np.exp(-2 * np.abs(x)) / (1 + np.exp(-2 * np.abs(x))))
    return 2 * s - 1


def softmax(z):
    return np.exp(z) / np.sum(np.exp(z))


DYING_RELU = (
    "A ReLU neuron dies when its input is always negative: then its output is 0 and the "
    "gradient is 0, so it never learns again. Leaky ReLU has a small slope for negative "
    "inputs so the gradient is not zero."
)
