"""Pieces of the sheet format that check kinds share."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from grader.handin.written.spec import WrittenAnswer

DomainName = Literal["real", "positive", "nonnegative", "integer", "positive_integer"]
#: a named domain, or an open interval ``[lo, hi]``
Domain = DomainName | tuple[float, float]


class Model(BaseModel):
    """Base of every sheet model: unknown fields are errors (typos must not pass silently)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Definition(Model):
    """A named function the sheet's expressions may call, e.g. ``sigma(x)``."""

    args: list[str]
    expr: str


class Family(Model):
    """A parametric family of distributions ``p_model(x; theta)``.

    ``density`` is a sympy expression in ``variable`` and the ``params``;
    ``sample`` draws data with numpy's Generator (``normal(mu, s)``,
    ``binomial(1, p)``, ``exponential(1/lam)``, ``poisson(lam)``);
    ``theta`` gives the range each parameter is drawn from for random instances.
    """

    variable: str = "x"
    params: dict[str, Domain]
    density: str
    sample: str
    theta: dict[str, tuple[float, float]]
    discrete: bool = False


class Mistake(Model):
    """A known mistake: what it looks like, and the message that names it.

    ``expr`` is the mistaken answer as a formula (in the check's arguments, and ``ref`` for the
    right answer); ``ref`` names a function of the sheet's reference module that computes the
    mistaken answer from the same arguments as the reference; ``behaviour`` names a way of
    failing rather than a value (``warning``: numpy warned; ``nonfinite``: NaN or infinity).
    """

    message: str
    key: str | None = None
    expr: str | None = None
    ref: str | None = None
    #: for answers with several items: the item the mistake is about (0-based, or its name)
    output: int | str | None = None
    behaviour: Literal["warning", "nonfinite"] | None = None


class CheckSpec(Model):
    """Fields every check kind has."""

    kind: str
    #: the name the hand-in defines
    name: str
    points: Annotated[float, Field(gt=0)]
    #: hidden checks are run by ``grader grade`` only, and never shown in detail
    hidden: bool = False
    #: a visible check may still keep its expected answer to itself
    show_expected: bool = True
    id: str | None = None
    #: wall seconds per call of the student's code
    timeout: Annotated[float, Field(gt=0, le=120)] = 2.0
    mistakes: list[Mistake] = []
    title: str | None = None
    #: what a written (markdown/LaTeX) hand-in may answer here (grader.handin.written.spec)
    written: WrittenAnswer | None = None

