"""The sheet format, defined once as typed models; allowed check kinds come from the registry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field, model_validator

from grader.checks import REGISTRY
from grader.checks.cases import GeneratorSpec
from grader.sheet.common import CheckSpec, Definition, Domain, Family, Model

if TYPE_CHECKING:
    # mypy cannot follow a Union built from the registry; every member is a CheckSpec
    CheckSpecs = CheckSpec
else:
    CheckSpecs = Annotated[
        Union[tuple(cls.Spec for cls in REGISTRY.values())],  # noqa: UP007
        Field(discriminator="kind"),
    ]


class Task(Model):
    id: str
    title: str = ""
    points: Annotated[float, Field(gt=0)]
    #: what the task asks, shown in `grader template` and the reports
    prompt: str = ""
    checks: Annotated[list[CheckSpecs], Field(min_length=1)]

    @model_validator(mode="after")
    def _points_add_up(self) -> Task:
        total = sum(c.points for c in self.checks)
        if abs(total - self.points) > 1e-9:
            raise ValueError(
                f"the checks of task {self.id} give {total:g} points, "
                f"but the task is worth {self.points:g}"
            )
        return self


class Variants(Model):
    """Each student's own numbers: given data drawn per student (from the roster id and the
    sheet's seed), redrawn until every `require` formula holds."""

    #: a dotted path into `given:` (``net.W1``) and the generator its value is drawn from
    given: Annotated[dict[str, GeneratorSpec], Field(min_length=1)]
    #: case formulas over the given data that keep a variant sensible (no tie, no overflow)
    require: list[str] = []
    tries: Annotated[int, Field(ge=1, le=10_000)] = 200


class Signature(Model):
    """A name a hand-in defines, for `grader template`."""

    signature: str
    doc: str = ""


class Sheet(Model):
    id: str
    title: str = ""
    #: the reference hand-in that `grader validate` grades (relative to the sheet file)
    solution: str | None = None
    #: trusted Python beside the sheet: reference functions and known mistakes
    reference: str | None = None
    #: seed of the random instances; each hand-in's instance also depends on its content
    seed: int = 0
    #: the sheet's data (a network's weights, a point), named for checks and formulas
    given: dict[str, Any] = {}
    #: per-student numbers for the given data (`grader handout`, `grade --roster`)
    variants: Variants | None = None
    symbols: dict[str, Domain] = {}
    definitions: dict[str, Definition] = {}
    families: dict[str, Family] = {}
    names: dict[str, Signature] = {}
    tasks: Annotated[list[Task], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> Sheet:
        seen: set[str] = set()
        for t in self.tasks:
            if t.id in seen:
                raise ValueError(f"task id {t.id} appears twice")
            seen.add(t.id)
        return self
