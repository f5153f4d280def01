"""Kind ``likelihood`` (tasks 6.1a, 6.1c) and the estimation solver behind it.

Every hand-in variant is a function in one module, so one sandbox run answers
all the checks of a test (each check reads its own ``name``). The families
are the ones of the 6.1 YAML snippet, so the snippet is exercised too.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from grader.checks.likelihood import LikelihoodCheck
from grader.results import CheckResult
from grader.sandbox.runner import run_probes
from grader.sheet.common import Family
from grader.sheet.context import SheetContext, SpecError
from grader.solver.estimation import family_model

SHEET = Path(__file__).resolve().parents[2] / "exercises" / "sheet06.yaml"


def families() -> dict[str, Family]:
    data = yaml.safe_load(SHEET.read_text(encoding="utf-8"))
    return {name: Family.model_validate(f) for name, f in data["families"].items()}


@pytest.fixture(scope="module")
def ctx() -> SheetContext:
    return SheetContext(sheet_id="t", families=families())


def make(ctx: SheetContext, check_id: str = "6.1a#1", **spec: Any) -> LikelihoodCheck:
    spec.setdefault("kind", "likelihood")
    spec.setdefault("points", 2)
    return LikelihoodCheck(LikelihoodCheck.Spec.model_validate(spec), ctx, check_id=check_id)


def run(tmp_path: Path, source: str, checks: list[LikelihoodCheck]) -> list[CheckResult]:
    path = tmp_path / "handin.py"
    path.write_text(textwrap.dedent(source))
    trials = [c.trial(np.random.default_rng(i + 1)) for i, c in enumerate(checks)]
    report = run_probes(path, [p for t in trials for p in t.probes])
    return [t.judge(report.outcomes) for t in trials]


def keys(result: CheckResult) -> set[str]:
    return {m.key.split(":")[-1] if ":" in m.key else m.key for m in result.mistakes}


PRODUCT_HANDIN = """
import numpy as np

def likelihood(p_model, X, theta):
    out = 1.0
    for x in X:
        out *= p_model(x, theta)
    return out

def lik_vectorised(p_model, X, theta):
    return float(np.exp(np.sum(np.log(p_model(np.asarray(X, dtype=float), theta)))))

def lik_log(p_model, X, theta):
    return float(np.sum(np.log(p_model(np.asarray(X, dtype=float), theta))))

def lik_seed(p_model, X, theta):
    m = len(X)
    return float(np.prod([p_model(X[m - 1], theta) for _ in range(m)]))

def lik_sum(p_model, X, theta):
    return float(np.sum(p_model(np.asarray(X, dtype=float), theta)))

def lik_text(p_model, X, theta):
    return "the product"

def lik_raises(p_model, X, theta):
    raise ValueError("not done yet")

def lik_per_sample(p_model, X, theta):
    return p_model(np.asarray(X, dtype=float), theta)
"""


def test_product_reference_and_mistakes(ctx: SheetContext, tmp_path: Path) -> None:
    names = [
        "likelihood", "lik_vectorised", "lik_log", "lik_seed", "lik_sum", "lik_text",
        "lik_raises", "lik_per_sample",
    ]  # fmt: skip
    checks = [make(ctx, f"6.1a#{i}", name=n, points=1) for i, n in enumerate(names)]
    ref, vec, log, seed, add, text, raises, per_sample = run(tmp_path, PRODUCT_HANDIN, checks)

    for result in (ref, vec):
        assert result.passed and result.points == 1, result.feedback
        assert "Correct values of the likelihood on 4 data sets." in result.feedback
    assert log.points == 0 and keys(log) == {"log_likelihood"}
    assert any("log-likelihood" in f for f in log.feedback)
    assert log.expected is not None and log.given is not None  # visible: values shown
    assert keys(seed) == {"last_sample"}
    assert any("m = 1..m" in f for f in seed.feedback)
    assert keys(add) == {"sum_p"}
    assert text.points == 0 and any("should be a number" in f for f in text.feedback)
    assert raises.points == 0 and raises.error == "exception"
    assert any("ValueError: not done yet" in f for f in raises.feedback)
    assert keys(per_sample) == {"per_sample"}


MEAN_LOG_HANDIN = """
import math
import numpy as np

def mean_log_likelihood(p_model, X, theta):
    return float(np.mean(np.log(p_model(np.asarray(X, dtype=float), theta))))

def mll_loop(p_model, X, theta):
    return sum(math.log(p_model(x, theta)) for x in X) / len(X)

def mll_log_prod(p_model, X, theta):
    with np.errstate(divide="ignore"):
        return float(np.log(np.prod(p_model(np.asarray(X, dtype=float), theta))))

def mll_seed(p_model, X, theta):
    m = len(X)
    return sum(math.log(p_model(X[m - 1], theta)) for _ in range(1, m + 1)) / m

def mll_no_log(p_model, X, theta):
    return float(np.mean(p_model(np.asarray(X, dtype=float), theta)))

def mll_negative(p_model, X, theta):
    return -float(np.mean(np.log(p_model(np.asarray(X, dtype=float), theta))))

def mll_wrong_argmax(p_model, X, theta):
    # right values on the value cases would need the reference; this one peaks at theta = 0
    t = theta if np.ndim(theta) == 0 else theta[0]
    return -float(t) ** 2
"""


def test_mean_log_reference_mistakes_and_argmax(ctx: SheetContext, tmp_path: Path) -> None:
    sheet_msg = "Seed mistake: the sum runs over i, not over m = 1..m."
    base = {"reduce": "mean_log", "argmax_family": "gaussian", "points": 2}
    checks = [
        make(ctx, "6.1c#0", name="mean_log_likelihood", **base),
        make(ctx, "6.1c#1", name="mll_loop", **base),
        make(ctx, "6.1c#2", name="mll_log_prod", **base),
        make(
            ctx, "6.1c#3", name="mll_seed",
            mistakes=[{"key": "last_sample", "message": sheet_msg}], **base,
        ),
        make(ctx, "6.1c#4", name="mll_no_log", **base),
        make(ctx, "6.1c#5", name="mll_negative", **base),
        make(ctx, "6.1c#6", name="mll_wrong_argmax", **base),
    ]  # fmt: skip
    ref, loop, log_prod, seed, no_log, negative, wrong_argmax = run(
        tmp_path, MEAN_LOG_HANDIN, checks
    )

    for result in (ref, loop):
        assert result.passed and result.points == 2, result.feedback
        assert any("maximum likelihood estimate mu =" in f for f in result.feedback)

    # log(prod) is the sum (m times too large) and underflows to -inf at m = 2000;
    # the argmax is still right, which earns the argmax share
    assert {"sum_not_mean", "underflow"} <= keys(log_prod)
    assert log_prod.points == pytest.approx(0.25 * 2)
    assert any("divides it by m" in f for f in log_prod.feedback)

    assert sheet_msg in seed.feedback and keys(seed) == {"last_sample"}
    assert keys(no_log) == {"forgot_log"}
    assert keys(negative) == {"negative"} and negative.points == 0  # its argmax is the argmin
    assert wrong_argmax.points == 0
    assert any("largest at mu = 0" in f for f in wrong_argmax.feedback)


def test_hidden_check_keeps_values_back(ctx: SheetContext, tmp_path: Path) -> None:
    check = make(ctx, name="lik_log", hidden=True, points=1)
    (result,) = run(tmp_path, PRODUCT_HANDIN, [check])
    assert result.points == 0 and result.expected is None and result.given is None
    assert result.student_view().feedback == ("A hidden check did not pass.",)


def test_sheet_value_mistake(ctx: SheetContext, tmp_path: Path) -> None:
    mistakes = [{"value": "sum_log", "message": "That is the log-likelihood (sheet wording)."}]
    check = make(ctx, name="lik_log", points=1, mistakes=mistakes)
    (result,) = run(tmp_path, PRODUCT_HANDIN, [check])
    # the sheet's mistake wins over the built-in with the same value
    assert [m.message for m in result.mistakes] == ["That is the log-likelihood (sheet wording)."]


# ------------------------------------------------------------------ bad specs
def test_unknown_family(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        make(ctx, name="likelihood", families=["gaussian", "cauchy"])
    assert exc.value.field == ("families",) and "cauchy" in str(exc.value)


def test_bad_density() -> None:
    fams = families()
    fams["gaussian"] = fams["gaussian"].model_copy(update={"density": "exp(-(x - mu)**2/(2*s**2)"})
    bad = SheetContext(sheet_id="t", families=fams)
    with pytest.raises(SpecError) as exc:
        make(bad, name="likelihood", families=["gaussian"])
    assert exc.value.field == ("families",)
    assert "families.gaussian.density" in str(exc.value)


def test_density_with_stray_symbol() -> None:
    fams = families()
    fams["poisson"] = fams["poisson"].model_copy(update={"density": "lamda**x*exp(-lam)"})
    bad = SheetContext(sheet_id="t", families=fams)
    with pytest.raises(SpecError, match="lamda"):
        make(bad, name="likelihood", families=["poisson"])


def test_bad_mistake_and_argmax_fields(ctx: SheetContext) -> None:
    with pytest.raises(SpecError) as exc:
        make(ctx, name="x", mistakes=[{"value": "ref * n", "message": "?"}])
    assert exc.value.field == ("mistakes", 0, "value") and "n" in str(exc.value)
    with pytest.raises(SpecError) as exc:
        make(ctx, name="x", mistakes=[{"key": "nonsense", "message": "?"}])
    assert exc.value.field == ("mistakes", 0)
    with pytest.raises(SpecError) as exc:
        make(ctx, name="x", reduce="mean_log", argmax_family="gaussian", argmax_param="sigma")
    assert exc.value.field == ("argmax_param",)


# --------------------------------------------------------------------- solver
def test_solver_mle_closed_form_and_newton(ctx: SheetContext) -> None:
    rng = np.random.default_rng(3)
    gauss = family_model(ctx, "gaussian")
    assert gauss.closed_form, "sympy should solve the Gaussian score equations"
    data = rng.normal(1.0, 2.0, size=7)
    mu, s = gauss.mle(data)
    assert mu == pytest.approx(data.mean()) and s**2 == pytest.approx(data.var())
    for name, expected in (("bernoulli", np.mean), ("poisson", np.mean)):
        model = family_model(ctx, name)
        sample = model.sample(rng, model.random_theta(rng), 30)
        assert model.mle(sample)[0] == pytest.approx(expected(sample))
    expo = family_model(ctx, "exponential")
    sample = expo.sample(rng, (2.0,), 40)
    assert expo.mle(sample)[0] == pytest.approx(1 / sample.mean())
    # Newton alone agrees with the closed form
    closed, expo._closed = expo._closed, []
    try:
        assert expo.mle(sample)[0] == pytest.approx(1 / sample.mean(), rel=1e-9)
    finally:
        expo._closed = closed


def test_solver_non_smooth_family() -> None:
    laplace = Family(
        params={"mu": "real"}, density="exp(-Abs(x - mu))/2", sample="laplace(mu, 1)",
        theta={"mu": (-1, 1)},
    )  # fmt: skip
    model = family_model(SheetContext(sheet_id="t", families={"laplace": laplace}), "laplace")
    data = np.array([0.3, -1.2, 2.5, 0.9, 0.1])
    assert model.mle(data)[0] == pytest.approx(np.median(data), abs=1e-8)


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"sample": "os.system('ls')"}, "sample"),
        ({"sample": "shuffle(mu)"}, "sample"),
        ({"theta": {"mu": (-1, 1)}}, "theta"),
        ({"theta": {"mu": (-1, 1), "s": (-1, 1)}}, "theta"),
        ({"density": "exp(-(x - mu)**2/(2*s**2))/sqrt(2*pi*s**2) - 1"}, "density"),
    ],
)
def test_solver_family_errors(update: dict[str, Any], field: str) -> None:
    fams = families()
    fams["gaussian"] = fams["gaussian"].model_copy(update=update)
    with pytest.raises(SpecError) as exc:
        family_model(SheetContext(sheet_id="t", families=fams), "gaussian")
    assert exc.value.field[0] == field
