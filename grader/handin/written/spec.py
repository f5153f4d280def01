"""What a sheet says about written answers: which checks accept one, what it is, and what a
broken step costs when the final answer is right.

It hangs off a check's spec as ``written:`` (one optional field of ``CheckSpec``)::

    - kind: graph_gradient
      name: gradients
      ...
      written:
        definitions: {c: "a + b", d: "b + 1", e: "c * d"}
        answers:
          gradients:
            form: values
            at: {a: 2, b: 1}
            components:
              - ["\\frac{\\partial e}{\\partial a}", "\\partial e / \\partial a"]
              - ["\\frac{\\partial e}{\\partial b}", "\\partial e / \\partial b"]
        step_cost: 0.125
        max_step_cost: 0.25

A check without ``written:`` gets no points from a written hand-in: its task waits for a
person, with the text. Names are LaTeX, compared by meaning after reading
(``\\sigma'(x)`` and ``\\frac{d\\sigma(x)}{dx}`` are the same name).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Model(BaseModel):
    """As ``grader.sheet.common.Model`` (which imports this module): unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


AnswerForm = Literal["expression", "numbers", "vector", "number", "values", "text"]


class WrittenValue(Model):
    """How one name the check asks for is found in a written answer.

    ``form``:

    - ``expression``: a formula in ``args`` (the last side of a derivation of one of
      ``names``), e.g. the derivative of the sigmoid;
    - ``numbers``: a list of numbers: the coefficients of ``series`` (x^0 … x^(count-1)) of the
      last polynomial the task writes, or one number per entry of ``components``;
    - ``vector``: a list of numbers asked for at the point ``at`` (e.g. a network's outputs);
    - ``number``: one number, from an equation of one of ``names`` or from prose such as
      "14 learnable parameters" (``words: [parameters]``);
    - ``values``: a tuple, one entry per ``components`` (each a list of names): the formula
      the text gives for it in ``args``, and its value at ``at`` (what the text says there,
      else the formula evaluated there);
    - ``text``: the task's prose, for a person to grade.
    """

    form: AnswerForm
    names: list[str] = []
    components: list[list[str]] = []
    words: list[str] = []
    series: str | None = None
    count: Annotated[int, Field(ge=1, le=30)] | None = None
    #: the arguments of the function the check calls, in order (default: the keys of ``at``,
    #: else x)
    args: list[str] = []
    #: the point (arguments by name, in order) where the answer is asked for, or the name
    #: of the sheet's given data holding it (so that each student's variant is asked)
    at: dict[str, Any] | str = {}

    def point(self, given: Any) -> dict[str, Any]:
        """The point, with the given data (``given(name)``) looked up where it is named."""
        return dict(given(self.at)) if isinstance(self.at, str) else dict(self.at)

    def arg_names(self, given: Any = None) -> list[str]:
        """The function's arguments: ``args``, else the point's names, else x."""
        at = self.point(given) if isinstance(self.at, str) and given is not None else self.at
        return list(self.args or (at if isinstance(at, dict) else {}) or ["x"])


class WrittenAnswer(Model):
    """The ``written:`` block of a check."""

    #: the names the check's probes ask for, and how each is read from the text
    answers: Annotated[dict[str, WrittenValue], Field(min_length=1)]
    #: names the text may use, with their meaning in the sheet's symbols (a graph's nodes)
    definitions: dict[str, str] = {}
    #: what each broken step of the task's derivations costs when the final answer is right,
    #: as a fraction of the check's points; at most ``max_step_cost`` in all
    step_cost: Annotated[float, Field(ge=0, le=1)] = 0.25
    max_step_cost: Annotated[float, Field(ge=0, le=1)] = 0.5
