"""Kind ``divergence`` (task 6.1d): values, properties, argmin = MLE, named mistakes.

Every hand-in variant is a function in one module: one sandbox run answers all.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader.checks.divergence import DivergenceCheck
from grader.results import CheckResult
from grader.sandbox.runner import run_probes
from grader.sheet.common import Family
from grader.sheet.context import SheetContext, SpecError

SHEET = Path(__file__).resolve().parents[2] / "exercises" / "sheet06.yaml"


def families() -> dict[str, Family]:
    data = yaml.safe_load(SHEET.read_text(encoding="utf-8"))
    return {name: Family.model_validate(f) for name, f in data["families"].items()}


@pytest.fixture(scope="module")
def ctx() -> SheetContext:
    return SheetContext(sheet_id="t", families=families())


def ce(ctx: SheetContext, name: str, check_id: str, **spec: Any) -> DivergenceCheck:
    spec = {"kind": "divergence", "points": 1.5, "quantity": "cross_entropy", "name": name, **spec}
    return DivergenceCheck(DivergenceCheck.Spec.model_validate(spec), ctx, check_id=check_id)


def kl(ctx: SheetContext, name: str, check_id: str, **spec: Any) -> DivergenceCheck:
    return ce(ctx, name, check_id, quantity="kl", **spec)


HANDIN = """
import numpy as np

def cross_entropy(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    mask = p > 0
    return float(-np.sum(p[mask] * np.log(q[mask])))

def kl_divergence(p, q):
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    mask = p > 0
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))

def kl_from_ce(p, q):
    return cross_entropy(p, q) - cross_entropy(p, p)

def ce_log2(p, q):
    return cross_entropy(p, q) / np.log(2)

def ce_swapped(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.sum(np.asarray(q) * np.log(p)))

def ce_no_minus(p, q):
    return -cross_entropy(p, q)

def ce_nan(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(-np.sum(np.asarray(p) * np.log(q)))

def kl_q_log_q_over_p(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.asarray(q) * np.log(np.asarray(q) / p)))

def kl_nan(p, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum(np.asarray(p) * np.log(np.asarray(p) / q)))

def kl_log2(p, q):
    return kl_divergence(p, q) / np.log(2)

def ce_text(p, q):
    return {"H": 1.0}

def ce_raises(p, q):
    raise ZeroDivisionError("division by zero")
"""


def run(tmp_path: Path, checks: list[DivergenceCheck]) -> list[CheckResult]:
    path = tmp_path / "handin.py"
    path.write_text(textwrap.dedent(HANDIN))
    trials = [c.trial(np.random.default_rng(i + 1)) for i, c in enumerate(checks)]
    report = run_probes(path, [p for t in trials for p in t.probes])
    return [t.judge(report.outcomes) for t in trials]


def keys(result: CheckResult) -> set[str]:
    return {m.key.split(":")[-1] for m in result.mistakes}


def test_divergences(ctx: SheetContext, tmp_path: Path) -> None:
    fam = {"family": "bernoulli", "support": [0, 1]}
    checks = [
        ce(ctx, "cross_entropy", "6.1d#1", **fam),
        kl(ctx, "kl_divergence", "6.1d#2", **fam),
        kl(ctx, "kl_from_ce", "6.1d#3", **fam),
        ce(ctx, "ce_log2", "6.1d#4", **fam),
        ce(ctx, "ce_swapped", "6.1d#5"),
        ce(ctx, "ce_no_minus", "6.1d#6", **fam),
        ce(ctx, "ce_nan", "6.1d#7"),
        kl(ctx, "kl_q_log_q_over_p", "6.1d#8"),
        kl(ctx, "kl_nan", "6.1d#9"),
        kl(ctx, "kl_log2", "6.1d#10", **fam),
        ce(ctx, "ce_text", "6.1d#11"),
        ce(ctx, "ce_raises", "6.1d#12"),
    ]
    (
        ref_ce, ref_kl, kl_from_ce, log2, swapped, no_minus, ce_nan, kl_swapped, kl_nan,
        kl_log2, text, raises,
    ) = run(tmp_path, checks)  # fmt: skip

    for result in (ref_ce, ref_kl, kl_from_ce):
        assert result.passed and result.points == 1.5, result.feedback
    assert any("gives the maximum likelihood estimate p =" in f for f in ref_ce.feedback)
    assert any("H(p, q) - H(p)" in f for f in ref_kl.feedback)

    # base 2: values wrong, Gibbs and the argmin still hold
    assert keys(log2) == {"log2"} and log2.points == pytest.approx(1.5 * 0.5)
    assert "swapped" in keys(swapped)
    assert keys(no_minus) == {"sign"}
    assert any("smallest at" in f for f in no_minus.feedback)  # its argmin is the argmax
    assert keys(ce_nan) == {"nan_zero"} and any("0·log 0" in f for f in ce_nan.feedback)
    assert "swapped" in keys(kl_swapped)
    assert keys(kl_nan) == {"nan_zero"}
    # KL in bits breaks KL = H(p, q) - H(p) against the natural-log cross_entropy
    assert keys(kl_log2) == {"log2"}
    assert any("does not hold" in f for f in kl_log2.feedback)

    assert text.points == 0 and any("should be a number" in f for f in text.feedback)
    assert raises.points == 0 and raises.error == "exception"
    assert any("ZeroDivisionError" in f for f in raises.feedback)


# ------------------------------------------------------------------ bad specs
def test_unknown_family(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        ce(ctx, "cross_entropy", "x", family="binomial")
    assert exc.value.field == ("family",)


def test_family_must_be_discrete_with_finite_support(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        ce(ctx, "cross_entropy", "x", family="gaussian")
    assert exc.value.field == ("family",) and "discrete" in str(exc.value)
    with pytest.raises(SpecError) as exc:
        ce(ctx, "cross_entropy", "x", family="poisson")  # default support [0, 1]
    assert exc.value.field == ("support",)
    with pytest.raises(SpecError) as exc:
        ce(ctx, "cross_entropy", "x", support=[0, 1])
    assert exc.value.field == ("support",)


def test_bad_mistake_value(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        ce(ctx, "cross_entropy", "x", mistakes=[{"value": "H_pp", "message": "?"}])
    assert exc.value.field == ("mistakes", 0, "value") and "H_pq" in str(exc.value)
