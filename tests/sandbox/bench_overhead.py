"""Per-hand-in overhead of the sandbox: fork server vs a fresh interpreter per hand-in.

Run from the repository root:  python -m tests.sandbox.bench_overhead [runs]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from grader.sandbox.protocol import Probe
from grader.sandbox.runner import Sandbox

HAND_IN = """
import numpy as np
import sympy as sp

N_PARAMETERS = 3

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))

def derivative(expr, var):
    return sp.diff(expr, var)

def mean(xs):
    return float(np.mean(xs))
"""


def probes() -> list[Probe]:
    out = [Probe("n", "N_PARAMETERS", op="value")]
    for i in range(20):
        out.append(Probe(f"s{i}", "sigmoid", args=(np.linspace(-i, i, 50),)))
    for i in range(19):
        out.append(Probe(f"m{i}", "mean", args=([float(j) for j in range(i + 1)],)))
    return out


def median_seconds(sandbox: Sandbox, path: Path, runs: int) -> float:
    ps = probes()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        report = sandbox.run(path, ps)
        times.append(time.perf_counter() - t)
        assert all(o.ok for o in report.outcomes.values()), report
    return statistics.median(times)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hand_in.py"
        path.write_text(HAND_IN)
        with Sandbox() as sandbox:
            print(sandbox.isolation.summary)
            sandbox.run(path, probes())  # warm up: the fork server imports numpy and sympy once
            warm = median_seconds(sandbox, path, runs)
        with Sandbox(fork_server=False) as fresh:
            cold = median_seconds(fresh, path, max(5, runs // 5))
    print(f"{len(probes())} probes, median per hand-in over {runs} runs:")
    print(f"  fork server:       {warm * 1000:8.1f} ms")
    print(f"  fresh interpreter: {cold * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
