"""Reference functions for exercise sheet 6, and the mistakes students make, as functions.

Trusted instructor code: the grader runs it in its own process (never in a student's
sandbox). `sheet06.yaml` names these functions as references (`reference: likelihood`) and
as known mistakes (`ref: sum_of_densities`); each mistake computes what a student who made it
would return, so the grader can recognise and name it.
"""

from __future__ import annotations

import numpy as np

# --- 6.1a, 6.1c: likelihoods of a sample under p_model(x, theta) --------------------


def _p(p_model, X, theta):
    return np.asarray(p_model(np.asarray(X, dtype=float), theta), dtype=float)


def likelihood(p_model, X, theta):
    return float(np.prod(_p(p_model, X, theta)))


def log_likelihood(p_model, X, theta):
    return float(np.sum(np.log(_p(p_model, X, theta))))


def mean_log_likelihood(p_model, X, theta):
    return float(np.mean(np.log(_p(p_model, X, theta))))


def negative_mean_log_likelihood(p_model, X, theta):
    return -mean_log_likelihood(p_model, X, theta)


def sum_of_densities(p_model, X, theta):
    return float(np.sum(_p(p_model, X, theta)))


def mean_of_densities(p_model, X, theta):
    return float(np.mean(_p(p_model, X, theta)))


def log_of_mean_density(p_model, X, theta):
    return float(np.log(np.mean(_p(p_model, X, theta))))


def product_of_logs(p_model, X, theta):
    return float(np.prod(np.log(_p(p_model, X, theta))))


def last_sample_m_times(p_model, X, theta):
    """Π_{m=1}^{m} p(x^(m)): the seed's index, every factor the last sample's density."""
    p = _p(p_model, X, theta)
    return float(p[-1] ** len(p))


def density_of_last(p_model, X, theta):
    return float(_p(p_model, X, theta)[-1])


def density_of_first(p_model, X, theta):
    return float(_p(p_model, X, theta)[0])


def log_density_of_last(p_model, X, theta):
    return float(np.log(_p(p_model, X, theta)[-1]))


def log_density_of_first(p_model, X, theta):
    return float(np.log(_p(p_model, X, theta)[0]))


def densities(p_model, X, theta):
    return _p(p_model, X, theta)


def log_densities(p_model, X, theta):
    return np.log(_p(p_model, X, theta))


def log_of_product_over_m(p_model, X, theta):
    """log(Π p)/m: right until the product underflows to 0 (2000 samples), then -inf."""
    with np.errstate(divide="ignore"):
        return float(np.log(np.prod(_p(p_model, X, theta))) / len(X))


# --- 6.1a: the Gaussian MLE ------------------------------------------------------------


def mle_gaussian(X):
    X = np.asarray(X, dtype=float)
    return float(X.mean()), float(X.var())


def mle_gaussian_unbiased(X):
    X = np.asarray(X, dtype=float)
    return float(X.mean()), float(X.var(ddof=1))


def mle_gaussian_swapped(X):
    mu, var = mle_gaussian(X)
    return var, mu


# --- 6.1d: cross-entropy and KL divergence (natural log, 0 log 0 = 0) ------------------


def cross_entropy(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    keep = p > 0
    with np.errstate(divide="ignore"):
        return float(-np.sum(p[keep] * np.log(q[keep])))


def kl_divergence(p, q):
    return cross_entropy(p, q) - cross_entropy(p, p)


def empirical(X):
    """The empirical distribution of 0/1 samples, as a probability vector (P(0), P(1))."""
    mean = float(np.mean(X))
    return np.array([1.0 - mean, mean])


# --- 6.3a: the network: ReLU hidden layer, softmax output, rows of W are units ------------


def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def forward(x, W1, b1, W2, b2):
    h = np.maximum(W1 @ x + b1, 0.0)
    return softmax(W2 @ h + b2)


def forward_without_relu(x, W1, b1, W2, b2):
    return softmax(W2 @ (W1 @ x + b1) + b2)


def forward_transposed(x, W1, b1, W2, b2):
    h = np.maximum(W1.T @ x + b1, 0.0)
    return softmax(W2.T @ h + b2)


def forward_without_biases(x, W1, b1, W2, b2):
    return softmax(W2 @ np.maximum(W1 @ x, 0.0))


def forward_logits(x, W1, b1, W2, b2):
    return W2 @ np.maximum(W1 @ x + b1, 0.0) + b2


def forward_per_summand(x, W1, b1, W2, b2):
    """The seed's 6.3a: row i is the softmax over the summands W2[i, j]·h[j] of logit i,
    with the biases never used."""
    h = np.maximum(W1 @ x, 0.0)
    terms = W2 * h[np.newaxis, :]
    e = np.exp(terms - terms.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def n_parameters(*weights):
    return int(sum(np.size(w) for w in weights))
