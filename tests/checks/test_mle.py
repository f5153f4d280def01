"""Kind ``mle`` (task 6.1a): the Gaussian MLE, its named mistakes, wrong types, bad specs.

Every hand-in variant is a function in one module: one sandbox run answers all.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader.checks.mle import MleCheck
from grader.results import CheckResult
from grader.sandbox.runner import run_probes
from grader.sheet.common import Family
from grader.sheet.context import SheetContext, SpecError

SHEET = Path(__file__).resolve().parents[2] / "exercises" / "sheet06.yaml"
DDOF = "The variance of the MLE divides by m, not m - 1."
SHEET_MISTAKES = [{"output": 1, "value": "ref * m/(m - 1)", "message": DDOF}]


def families() -> dict[str, Family]:
    data = yaml.safe_load(SHEET.read_text(encoding="utf-8"))
    return {name: Family.model_validate(f) for name, f in data["families"].items()}


@pytest.fixture(scope="module")
def ctx() -> SheetContext:
    return SheetContext(sheet_id="t", families=families())


def make(ctx: SheetContext, check_id: str = "6.1a#2", **spec: Any) -> MleCheck:
    spec = {"kind": "mle", "points": 1, "family": "gaussian", "returns": ["mu", "s**2"], **spec}
    return MleCheck(MleCheck.Spec.model_validate(spec), ctx, check_id=check_id)


HANDIN = """
import numpy as np

def mle_gaussian(X):
    X = np.asarray(X, dtype=float)
    return X.mean(), X.var()

def mle_list(X):
    mu = sum(X) / len(X)
    return [mu, sum((x - mu) ** 2 for x in X) / len(X)]

def mle_array(X):
    return np.array([np.mean(X), np.var(X)])

def mle_ddof(X):
    return np.mean(X), np.var(X, ddof=1)

def mle_std(X):
    return np.mean(X), np.std(X)

def mle_swapped(X):
    return np.var(X), np.mean(X)

def mle_text(X):
    return "mu and var"

def mle_one(X):
    return np.mean(X)

def mle_raises(X):
    raise RuntimeError("todo")

def mle_poisson(X):
    return float(np.mean(X))
"""


def run(tmp_path: Path, checks: list[MleCheck]) -> list[CheckResult]:
    path = tmp_path / "handin.py"
    path.write_text(textwrap.dedent(HANDIN))
    trials = [c.trial(np.random.default_rng(i + 1)) for i, c in enumerate(checks)]
    report = run_probes(path, [p for t in trials for p in t.probes])
    return [t.judge(report.outcomes) for t in trials]


def test_mle_reference_mistakes_and_types(ctx: SheetContext, tmp_path: Path) -> None:
    names = [
        "mle_gaussian", "mle_list", "mle_array", "mle_ddof", "mle_std", "mle_swapped",
        "mle_text", "mle_one", "mle_raises",
    ]  # fmt: skip
    checks = [make(ctx, f"6.1a#{i}", name=n, mistakes=SHEET_MISTAKES) for i, n in enumerate(names)]
    checks.append(make(ctx, "6.1a#p", name="mle_poisson", family="poisson", returns=["lam"]))
    ref, as_list, as_array, ddof, std, swapped, text, one, raises, poisson = run(tmp_path, checks)

    for result in (ref, as_list, as_array, poisson):
        assert result.passed and result.points == 1, result.feedback
    assert "(m = 2, 3, 10, 50)" in ref.feedback[0]

    # the mean is right, the variance is not: half the points, the sheet's message
    assert ddof.points == pytest.approx(0.5)
    assert [m.message for m in ddof.mistakes] == [DDOF]
    assert DDOF in ddof.feedback
    assert ddof.expected is not None and ddof.given is not None

    assert std.points == pytest.approx(0.5)
    assert [m.key for m in std.mistakes] == ["mle:sqrt"]
    assert any("standard deviation" in f for f in std.feedback)

    assert swapped.points == 0 and [m.key for m in swapped.mistakes] == ["mle:order"]

    for result in (text, one):
        assert result.points == 0 and result.error is None
        wanted = ("should be a sequence", "return (mu, s**2)")
        assert any(all(w in f for w in wanted) for f in result.feedback)
    assert raises.points == 0 and raises.error == "exception"
    assert any("RuntimeError: todo" in f for f in raises.feedback)


def test_missing_function(ctx: SheetContext, tmp_path: Path) -> None:
    (result,) = run(tmp_path, [make(ctx, name="mle_nowhere")])
    assert result.points == 0 and any("is not defined" in f for f in result.feedback)


# ------------------------------------------------------------------ bad specs
def test_unknown_family(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        make(ctx, name="mle_gaussian", family="normal")
    assert exc.value.field == ("family",) and "gaussian" in str(exc.value)


def test_returns_unknown_param(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        make(ctx, name="mle_gaussian", returns=["mu", "sigma**2"])
    assert exc.value.field == ("returns", 1) and "sigma" in str(exc.value)


def test_returns_does_not_parse(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        make(ctx, name="mle_gaussian", returns=["mu", "s**"])
    assert exc.value.field == ("returns", 1)


def test_bad_density() -> None:
    fams = families()
    fams["gaussian"] = fams["gaussian"].model_copy(update={"density": "exp(-(x - mu)**2/"})
    with pytest.raises(SpecError) as exc:
        make(SheetContext(sheet_id="t", families=fams), name="mle_gaussian")
    assert exc.value.field == ("family",) and "families.gaussian.density" in str(exc.value)


def test_size_without_mle(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        make(ctx, name="mle_gaussian", sizes=[3, 1])
    assert exc.value.field == ("sizes", 1)


def test_mistake_fields(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        make(ctx, name="m", mistakes=[{"output": 2, "value": "ref", "message": "?"}])
    assert exc.value.field == ("mistakes", 0, "output")
    with pytest.raises(SpecError) as exc:
        make(ctx, name="m", mistakes=[{"output": 1, "value": "ref * k", "message": "?"}])
    assert exc.value.field == ("mistakes", 0, "value")
