"""Whatever a hand-in returns (huge, NaN, nested, wrong types, formulas that would take
forever), does every check kind come back with a verdict within its budget, never a crash,
never a score outside its range?"""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.grading import JUDGE_SECONDS, judge_check
from grader.results import CheckResult
from grader.sandbox.protocol import Expr, Outcome, ProbeError, Unsupported
from grader.sheet.loader import load_sheet
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

NASTY_TEXTS = [
    "x" + "!" * 20000,
    "exp(exp(exp(exp(10))))",
    "Sum(1/n**(1+1/10**9), (n, 1, oo))",
    "9**9**9**9",
    "(" * 400 + "x" + ")" * 400,
    "\\frac{1}{0}",
    "zoo",
    "nan",
    "oo - oo",
    "1/0",
    "factorial(10**6)",
    "x**(10**10)",
    "Integral(exp(-x**2)*sin(x**9), (x, 0, oo))",
    "sigma(sigma(sigma(x)))",
    "1e308*1e308",
    "",
    "import os",
    "$\\sum_{i=1}^{10^{12}} i^i$",
]

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.fractions(max_denominator=10**6).map(Fraction),
    st.text(max_size=30),
    st.sampled_from(NASTY_TEXTS),
    st.sampled_from(NASTY_TEXTS).map(Expr),
    st.just(Unsupported("Liar", "<Liar: equal to everything>")),
    st.builds(
        lambda shape, kind: np.zeros(shape, dtype=kind),
        st.lists(st.integers(0, 5), max_size=3).map(tuple),
        st.sampled_from(["float64", "int64", "bool", "complex128", "float32"]),
    ),
    st.builds(lambda n: np.full(n, np.nan), st.integers(0, 50)),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=6), st.lists(inner, max_size=6).map(tuple)),
    max_leaves=30,
)
errors = st.builds(
    ProbeError,
    st.sampled_from(
        ["missing", "not_callable", "exception", "timeout", "memory", "output", "crashed",
         "bad_value", "sandbox", "unanswerable"]
    ),
    st.text(max_size=40),
)  # fmt: skip


def all_checks() -> list:  # noqa: ANN201
    out = []
    for name in ("sheet06.yaml", "sheet07.yaml", "sheet08.yaml"):
        sheet = load_sheet(ROOT / "exercises" / name)
        out += [c for t in sheet.tasks for c in t.checks]
    return out


CHECKS = all_checks()


@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    index=st.integers(0, len(CHECKS) - 1),
    answer=values,
    error=st.one_of(st.none(), errors),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_kind_gives_a_verdict_within_its_budget(index, answer, error, seed) -> None:  # noqa: ANN001
    check = CHECKS[index]
    trial = check.trial(np.random.default_rng(seed))
    outcomes = {
        p.id: Outcome(p.id, error=error) if error is not None else Outcome(p.id, answer)
        for p in trial.probes
    }
    started = time.thread_time()
    result = judge_check(check, trial, outcomes)
    spent = time.thread_time() - started
    assert isinstance(result, CheckResult)
    assert 0 <= result.points <= result.max_points + 1e-9
    assert spent <= JUDGE_SECONDS * 1.1, (check.check_id, spent)
    if not result.passed:
        assert result.feedback or result.undetermined, check.check_id
