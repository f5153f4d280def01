"""Argument generators, registered by the YAML key that selects them.

``args: {X: {array: [m, n]}, lam: {real: [0.01, 10]}}``: each argument's mapping has exactly
one generator key; the rest are that generator's settings. The sheet schema takes the allowed
keys from :data:`GENERATORS`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from grader.generators.arrays import Array, ClassIndex, OneHot, PositiveDefinite, Probability
from grader.generators.base import Draw, Each, Generator, pick
from grader.generators.data import FamilySample, Formula, Given, SymbolArg, Value, as_data
from grader.generators.numbers import Integer, Real

GENERATORS: dict[str, type[Generator]] = {
    cls.key: cls
    for cls in (
        Real,
        Integer,
        Array,
        Probability,
        ClassIndex,
        OneHot,
        PositiveDefinite,
        FamilySample,
        SymbolArg,
        Value,
        Given,
        Formula,
    )
}


def parse_generator(raw: Any) -> Generator:
    """The generator a YAML mapping describes; ``ValueError`` says what is expected."""
    if isinstance(raw, Generator):
        return raw
    if not isinstance(raw, dict):
        raise ValueError(
            f"an argument is a mapping with one generator key ({', '.join(GENERATORS)}), "
            f"e.g. {{real: [-1, 1]}}"
        )
    keys = [k for k in raw if k in GENERATORS]
    if len(keys) != 1:
        found = "none" if not keys else " and ".join(keys)
        raise ValueError(
            f"an argument names exactly one generator ({', '.join(GENERATORS)}); found {found}"
        )
    cls = GENERATORS[keys[0]]
    try:
        return cls.model_validate(raw)
    except ValidationError as exc:
        raise ValueError(_generator_message(cls, exc)) from None


def _generator_message(cls: type[Generator], exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        fields = ", ".join(cls.model_fields)
        return f"`{loc}` is not a setting of a `{cls.key}` generator; it accepts: {fields}"
    return f"`{cls.key}` generator, `{loc}`: {err['msg']}"


__all__ = ["GENERATORS", "Draw", "Each", "Generator", "as_data", "parse_generator", "pick"]
