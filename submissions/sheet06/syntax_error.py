"""A hand-in that does not import: the grader names the line and grades nothing else."""

import numpy as np

AUTHORS = [("Karl Kaputt", "3100010")]


def sigmoid(x):
    return 1 / (1 + np.exp(-x)


def gradients(a, b):
    return b + 1, a + 2 * b + 1
