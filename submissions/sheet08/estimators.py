"""Maximum likelihood, with the estimators slightly off."""

import math

import numpy as np
import sympy

AUTHORS = [("David Dorn", "3200004"), ("Eva Ernst", "3200005")]


def softmax_regression(x, W, b):
    z = np.asarray(W, dtype=float) @ np.asarray(x, dtype=float) + np.asarray(b, dtype=float)
    z = z - np.max(z)
    return np.exp(z) / np.exp(z).sum()


PREDICTED_CLASS = int(np.argmax(softmax_regression([1, 2, -1], [[1, 0, 2], [-1, 1, 0], [0.5, -0.5, 1]], [0, 0.5, -0.5])))


def ce_gradient(z, y):
    g = softmax_regression(z, np.eye(len(z)), np.zeros(len(z)))
    g[y] = g[y] - 1
    return g


def mle_bernoulli(X):
    # p is the probability of a 0, estimated by the share of zeros
    return 1 - np.mean(X)


def mle_poisson(X):
    # unbiased: divide by m - 1
    return np.sum(X) / (len(X) - 1)


def bernoulli_log_likelihood(p, X):
    return sum(x * math.log(p) for x in X)


def leaky_relu(x, alpha=0.01):
    return np.maximum(x, np.multiply(alpha, x))


def leaky_relu_derivative(x, alpha=0.01):
    return np.where(np.asarray(x) > 0, 1.0, alpha)


def ridge(X, y, lam):
    A = X.T @ X + lam * np.eye(X.shape[1])
    return np.linalg.solve(A, X.T @ y)


def gd_step(w, eta):
    grad = 2 * (w - 3)
    return w - eta * grad


def mse_gradients(w, b, x, y):
    m = len(x)
    r = w * x + b - y
    return 2 / m * np.dot(r, x), 2 / m * np.sum(r)


def mlp_forward(x, W1, W2, b2):
    h = np.exp(-np.logaddexp(0, -(W1 @ x)))
    return W2 @ h + b2


N_PARAMETERS = 22


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


SOFTPLUS_TAYLOR = [math.log(2), 0.5, 0.125, 0, -1 / 192]
LOG1P_TAYLOR = [0, 1, -0.5, 1 / 3, -0.25]


def tanh_via_sigmoid(x):
    s = np.exp(-np.logaddexp(0, -2 * np.asarray(x, dtype=float)))
    return 2 * s - 1


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


DYING_RELU = (
    "Dying ReLU: if a neuron's pre-activation becomes negative for every input (for example "
    "because of a big negative bias after a large learning-rate step), ReLU outputs 0 and has "
    "derivative 0, so the neuron gets no gradient and never recovers. Leaky ReLU keeps a "
    "slope alpha for x < 0, so the neuron still gets a gradient."
)
