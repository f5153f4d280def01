"""Least squares where ridge was asked for, sums instead of means, and no biases counted."""

import numpy as np
import sympy

AUTHORS = [("Greta Graf", "3200007"), ("Hannes Horn", "3200008")]


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def softmax_regression(x, W, b):
    return softmax(np.matmul(W, x) + b)


PREDICTED_CLASS = 1


def ce_gradient(z, y):
    g = softmax(z)
    g[y] -= 1
    return g


def mle_bernoulli(X):
    return np.sum(X) / len(X)


def mle_poisson(X):
    return np.sum(X) / len(X)


def bernoulli_log_likelihood(p, X):
    X = np.asarray(X)
    return np.sum(np.log(np.where(X == 1, p, 1 - p)))


def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_derivative(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha)


def ridge(X, y, lam):
    # the normal equations, solved by numpy's least squares
    w, *_ = np.linalg.lstsq(X, y, rcond=None)
    return w


def gd_step(w, eta):
    return w - 2 * eta * (w - 3)


def mse_gradients(w, b, x, y):
    r = w * x + b - y
    return 2 * np.sum(r * x), 2 * np.sum(r)


def mlp_forward(x, W1, W2, b2):
    h = 1 / (1 + np.exp(-np.clip(W1 @ x, -500, 500)))
    return W2 @ h + b2


# the weights of both layers
N_PARAMETERS = 4 * 3 + 2 * 4


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out


SOFTPLUS_TAYLOR = [sympy.log(2), sympy.Rational(1, 2), sympy.Rational(1, 8), 0, sympy.Rational(-1, 192)]
LOG1P_TAYLOR = [0, 1, sympy.Rational(-1, 2), sympy.Rational(1, 3), sympy.Rational(-1, 4)]


def tanh_via_sigmoid(x):
    x = np.asarray(x, dtype=float)
    s = np.empty_like(x)
    pos = x >= 0
    s[pos] = 1 / (1 + np.exp(-2 * x[pos]))
    s[~pos] = np.exp(2 * x[~pos]) / (1 + np.exp(2 * x[~pos]))
    return 2 * s - 1


DYING_RELU = (
    "The dying ReLU problem: a neuron whose weighted input is negative for the whole training "
    "set always outputs 0, and since the derivative of ReLU is 0 there, no gradient reaches "
    "its weights and it stays inactive forever. The leaky ReLU's small negative slope alpha "
    "lets gradient through, so such neurons can still be trained."
)
