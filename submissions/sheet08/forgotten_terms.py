"""Each formula is missing a piece: the bias, the one-hot, the factor 2, the x."""

import numpy as np
import sympy

AUTHORS = [("Jana Jost", "3200010"), ("Kai Koch", "3200011")]


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_regression(x, W, b):
    return softmax(np.asarray(W) @ np.asarray(x))


PREDICTED_CLASS = 1


def ce_gradient(z, y):
    # the derivative of -log softmax(z)_y
    return softmax(z)


def mle_bernoulli(X):
    return np.mean(X)


def mle_poisson(X):
    return np.mean(X)


def bernoulli_log_likelihood(p, X):
    X = np.asarray(X, dtype=float)
    return np.sum(X * np.log(p) + (1 - X) * np.log(1 - p))


def leaky_relu(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.maximum(x, alpha * x)


def leaky_relu_derivative(x, alpha=0.01):
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, 1.0, alpha)


def ridge(X, y, lam):
    X = np.asarray(X, dtype=float)
    return np.linalg.solve(X.T @ X + lam * np.eye(X.shape[1]), X.T @ np.asarray(y))


def gd_step(w, eta):
    return w - eta * (w - 3)


def mse_gradients(w, b, x, y):
    r = w * np.asarray(x) + b - np.asarray(y)
    return 2 * np.mean(r), 2 * np.mean(r)


def mlp_forward(x, W1, W2, b2):
    z = np.asarray(W1) @ np.asarray(x)
    h = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))
    return np.asarray(W2) @ h + b2


N_PARAMETERS = 4 * 3 + 2 * 4 + 2


def conv_params(k, c_in, c_out):
    return k**2 * c_in * c_out + c_out


SOFTPLUS_TAYLOR = [sympy.log(2), sympy.Rational(1, 2), sympy.Rational(1, 8), 0, sympy.Rational(-1, 192)]
LOG1P_TAYLOR = [0, 1, sympy.Rational(-1, 2), sympy.Rational(1, 3), sympy.Rational(-1, 4)]


def tanh_via_sigmoid(x):
    x = 2 * np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    s = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return 2 * s - 1


DYING_RELU = (
    "A dead ReLU is a unit that outputs 0 for every input because its pre-activation is always "
    "negative; the gradient through it is 0 as well, so its weights stop changing. Using a "
    "leaky ReLU, whose slope for negative inputs is a small alpha instead of 0, keeps the "
    "gradient non-zero and lets the unit recover."
)
