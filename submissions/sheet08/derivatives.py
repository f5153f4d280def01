"""Taylor 'coefficients' that are derivatives, and tanh with the 2 in the wrong place."""

import numpy as np
import sympy

AUTHORS = [("Ines Imhof", "3200009")]


def _sigmoid(x):
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    ex = np.exp(x[~pos])
    out[~pos] = ex / (1 + ex)
    return out


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_regression(x, W, b):
    return softmax(np.asarray(W) @ np.asarray(x) + b)


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
    return np.where(x > 0, alpha, 1.0)


def ridge(X, y, lam):
    return np.linalg.solve(X.T @ X + lam * np.identity(X.shape[1]), X.T @ y)


def gd_step(w, eta):
    return w - 2 * eta * (w - 3)


def mse_gradients(w, b, x, y):
    r = w * x + b - y
    return 2 * np.mean(r * x), 2 * np.mean(r)


def mlp_forward(x, W1, W2, b2):
    return W2 @ _sigmoid(W1 @ x) + b2


N_PARAMETERS = 22


def conv_params(k, c_in, c_out):
    return k * k * c_in * c_out + c_out


# f(0), f'(0), f''(0), f'''(0), f''''(0)
_x = sympy.Symbol("x")
SOFTPLUS_TAYLOR = [sympy.diff(sympy.log(1 + sympy.exp(_x)), _x, k).subs(_x, 0).simplify() for k in range(5)]
LOG1P_TAYLOR = [sympy.diff(sympy.log(1 + _x), _x, k).subs(_x, 0) for k in range(5)]


def tanh_via_sigmoid(x):
    return 2 * _sigmoid(x) - 1


DYING_RELU = (
    "During training a ReLU unit can end up with a negative input for every example. Then it "
    "always outputs zero and its gradient is zero too, so the unit is dead and does not learn. "
    "Leaky ReLU replaces the zero by alpha times x, so the gradient is alpha instead of zero."
)
