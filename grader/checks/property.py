"""Kind ``property``: relations the hand-in's functions must satisfy over generated cases.

``softmax(z + c) == softmax(z)`` for every shift ``c``; ``sum(softmax(z)) == 1``;
``kl_divergence(p, q) == cross_entropy(p, q) - cross_entropy(p, p)`` with the hand-in's own
cross-entropy; ``argmax_over(grid, [log_likelihood(p, X) for p in grid]) == mean(X)``. With a
``reference``, the function's values are compared too, so that a function that satisfies
the relations trivially (a constant vector) does not pass.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from grader.checks.cases import DimSpec, GeneratorSpec, PartSpec, arg_names
from grader.checks.function import FunctionCheck, FunctionSpec
from grader.checks.relations import PropertySpec
from grader.sheet.common import CheckSpec
from grader.sheet.context import SpecError


class RelationSpec(PropertySpec):
    """A property as the ``holds:`` list of a property check writes it."""

    message: str = ""


class PropertyCheckSpec(CheckSpec):
    kind: Literal["property"]
    args: dict[str, GeneratorSpec] = {}
    dims: dict[str, DimSpec] = {}
    #: the arguments the function takes, when values are compared (default: the first one)
    signature: list[str] | None = None
    #: the relations; each a formula, or a mapping with its own message, generators, weight
    holds: Annotated[list[str | RelationSpec], Field(min_length=1)]
    #: cases per relation
    count: Annotated[int, Field(ge=1, le=500)] = 12
    #: also compare the function's values with this reference (formula or module function)
    reference: str | None = None
    #: share of the points for the values, when there is a reference
    values_weight: Annotated[float, Field(ge=0)] = 1.0
    rtol: Annotated[float, Field(ge=0, lt=1)] = 1e-7
    atol: Annotated[float, Field(ge=0)] = 1e-9
    vectorised: bool = False


class PropertyCheck(FunctionCheck):
    """A function check whose weight is on its relations (values optional)."""

    kind = "property"
    Spec = PropertyCheckSpec  # type: ignore[assignment]

    def __init__(self, spec: Any, ctx: Any, *, check_id: str) -> None:
        super().__init__(_as_function(spec), ctx, check_id=check_id)
        self.spec_as_written = spec

    @property
    def title(self) -> str:
        return self.spec.title or f"`{self.spec.name}`"


def _as_function(spec: PropertyCheckSpec) -> FunctionSpec:
    relations = [
        PropertySpec(
            holds=h if isinstance(h, str) else h.holds,
            message=(h.message if not isinstance(h, str) else "") or _message(spec, h),
            args={} if isinstance(h, str) else h.args,
            over=None if isinstance(h, str) else h.over,
            count=spec.count if isinstance(h, str) else h.count,
            weight=1.0 if isinstance(h, str) else h.weight,
            rtol=spec.rtol if isinstance(h, str) else h.rtol,
            atol=spec.atol if isinstance(h, str) else h.atol,
        )
        for h in spec.holds
    ]
    if spec.reference is None and spec.values_weight != 1.0:
        raise SpecError("values_weight", "values are compared only with a `reference`")
    fields = spec.model_dump(
        exclude={"kind", "holds", "count", "reference", "values_weight"}, exclude_unset=True
    )
    return FunctionSpec.model_validate(
        {
            **fields,
            "kind": "function",
            "args": spec.args,
            "reference": spec.reference,
            "signature": spec.signature or arg_names(spec.args)[:1],
            "properties": relations,
            "values_weight": spec.values_weight if spec.reference is not None else 0.0,
            "cases": [PartSpec(label="random input", title="random inputs", count=spec.count)]
            if spec.reference is not None
            else [],
            "samples": 0,
        }
    )


def _message(spec: PropertyCheckSpec, holds: str | RelationSpec) -> str:
    text = holds if isinstance(holds, str) else holds.holds
    return f"`{spec.name}` should satisfy {text}"
