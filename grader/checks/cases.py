"""Cases: the inputs a check asks the hand-in about, drawn from the sheet's generators.

A check's ``cases:`` is a list of parts. A part is the sheet's own data (``given: net``), a
list of chosen inputs (``each: {x: [-1000, 0, 1000]}``), ``count`` random inputs drawn from
the check's ``args`` generators (a part may override some of them: logits near 1000), or
several of these. Each part has a weight and a label.

Random cases are drawn once per sheet into a pool (reference values and known mistakes
computed there, once), and each hand-in gets its own draw from the pool: two hand-ins see
different numbers, a rerun sees the same, and the per-hand-in cost is a lookup.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BeforeValidator, Field, field_validator

from grader.generators import Draw, Each, Generator, parse_generator, pick
from grader.sheet.common import Model
from grader.sheet.context import SheetContext, SpecError

GeneratorSpec = Annotated[Generator, BeforeValidator(parse_generator)]
#: a dimension: fixed, a range (inclusive), one per case in turn, or another dimension's name
DimSpec = int | tuple[int, int] | Each[int] | str

#: alternatives kept per random case slot (a hand-in draws one of each); parts of many
#: cases keep fewer (4 alternatives of 40 slots already give each hand-in its own draw)
POOL = 12
POOL_LARGE = 4
#: parts with more random cases than this are not redrawn for telling cases
TELLING_MAX = 8


class PartSpec(Model):
    """One group of cases with a weight (``cases:`` of a check)."""

    #: how one case reads ("random network" is numbered: "random network 2")
    label: str
    #: how the part reads in a sentence ("other networks"); default: the label
    title: str | None = None
    weight: Annotated[float, Field(ge=0)] = 1.0
    #: random cases drawn from the generators
    count: Annotated[int, Field(ge=0, le=500)] = 0
    #: chosen inputs, one case per entry (lists of equal length, zipped)
    each: dict[str, list[Any]] = {}
    #: the sheet's given data (the name of an entry of `given:`) or inline data
    given: str | dict[str, Any] | None = None
    args: dict[str, GeneratorSpec] = {}
    dims: dict[str, DimSpec] = {}
    #: "share": the share of right cases counts; "all": all must be right
    scoring: Literal["share", "all"] = "share"
    #: redraw random cases on which a known mistake gives the reference's answer (parts of
    #: up to TELLING_MAX cases: among more, a mistake shows by itself, and redrawing would
    #: bias the draw, e.g. to negative x only where σ(|x|) is the mistake)
    telling: bool = True

    @field_validator("each")
    @classmethod
    def _equal_lengths(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        if len({len(x) for x in v.values()}) > 1:
            raise ValueError("every list under `each` needs the same length (one per case)")
        return v


def arg_names(args: Mapping[str, Any]) -> list[str]:
    """Argument names in order; ``"p_model, X, theta"`` is three names filled by one draw."""
    return [n.strip() for key in args for n in key.split(",")]


@dataclass
class Case:
    """One case: its inputs, what the reference answers, what each known mistake answers."""

    part: str
    label: str
    values: dict[str, Any]
    expected: Any = None
    #: mistake index -> the mistake's answer, where it differs from the reference
    mistakes: dict[int, Any] = field(default_factory=dict)
    #: the case's own data, however it is named, is the sheet's (given / each)
    fixed: bool = False
    #: how many known mistakes could be worked out on this case (a transposed network
    #: needs square weights): a telling case has all of them in ``mistakes``
    applicable: int = 0
    #: known mistakes that give the reference's answer here (this case cannot tell them)
    agrees: tuple[int, ...] = ()


@dataclass
class CaseDrawer:
    """Draws the cases of one check from its generators, parts and dimensions."""

    ctx: SheetContext
    args: Mapping[str, Generator]
    dims: Mapping[str, DimSpec]
    parts: Sequence[PartSpec]
    field_path: tuple[str | int, ...] = ()
    #: the parts are the sheet's own `cases:` (errors point there), not a default
    parts_written: bool = True

    def __post_init__(self) -> None:
        self.names = arg_names(self.args)
        for key, gen in self.args.items():
            n = len(key.split(","))
            if gen.outputs() != n:
                raise SpecError(
                    ("args", key), f"this generator gives {gen.outputs()} value(s) for {n} name(s)"
                )
        for i, part in enumerate(self.parts):
            self._check_part(i, part)

    def _check_part(self, i: int, part: PartSpec) -> None:
        where = ("cases", i)
        if not (part.count or part.each or part.given is not None):
            raise SpecError(where, "a part needs `count`, `each` or `given`")
        for name in part.each:
            if name not in self.names:
                raise SpecError((*where, "each", name), self._unknown(name))
        for key in part.args:
            if key not in self.args:
                raise SpecError((*where, "args", key), self._unknown(key))
        if isinstance(part.given, dict):
            for name in part.given:
                if name not in self.names:
                    raise SpecError((*where, "given", name), self._unknown(name))
        elif isinstance(part.given, str):
            try:
                self.ctx.given_value(part.given)
            except KeyError:
                known = ", ".join(self.ctx.given) or "none"
                message = f"no given data {part.given!r} (known: {known})"
                raise SpecError((*where, "given"), message) from None

    def _unknown(self, name: str) -> str:
        return f"`{name}` is not an argument of this check ({', '.join(self.names)})"

    # ------------------------------------------------------------------ drawing
    def fixed_cases(self, i: int, part: PartSpec) -> list[dict[str, Any]]:
        """The part's listed inputs (``given``, ``each``), completed by its generators."""
        out: list[dict[str, Any]] = []
        base = self._given(part)
        n_each = len(next(iter(part.each.values()))) if part.each else 0
        rng = np.random.default_rng(stable_seed(self.ctx.seed, *self.field_path, "part", i))
        for k in range(max(n_each, 1 if part.given is not None else 0)):
            values = {**base, **{n: _data(v[k]) for n, v in part.each.items()}}
            out.append(self.draw(rng, k, part, fixed=values))
        return out

    def _given(self, part: PartSpec) -> dict[str, Any]:
        if part.given is None:
            return {}
        data = part.given if isinstance(part.given, dict) else self.ctx.given_value(part.given)
        if not isinstance(data, Mapping):
            raise SpecError("given", f"{part.given!r} is not a mapping of argument names")
        return {n: _data(v) for n, v in data.items() if n in self.names}

    def draw(
        self,
        rng: np.random.Generator,
        index: int,
        part: PartSpec,
        fixed: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        fixed = fixed or {}
        dims = self._dims(rng, index, part)
        draw = Draw(rng, index, dims, self.ctx)
        for key, gen in {**self.args, **part.args}.items():
            names = [n.strip() for n in key.split(",")]
            if all(n in fixed for n in names):
                draw.values.update({n: fixed[n] for n in names})
                continue
            value = gen.draw(draw)
            draw.values.update(dict(zip(names, value if len(names) > 1 else (value,), strict=True)))
        draw.values.update(fixed)
        return {n: draw.values[n] for n in self.names}

    def _dims(self, rng: np.random.Generator, index: int, part: PartSpec) -> dict[str, int]:
        specs = {**self.dims, **part.dims}
        dims: dict[str, int] = {}
        for name, spec in specs.items():
            value = pick(spec, index)
            if isinstance(value, (tuple, list)):
                dims[name] = int(rng.integers(value[0], value[1], endpoint=True))
            elif isinstance(value, int):
                dims[name] = value
        for name, spec in specs.items():
            if isinstance(spec, str):
                if spec not in dims:
                    raise SpecError(("dims", name), f"`{spec}` is not a dimension")
                dims[name] = dims[spec]
        return dims


def stable_seed(*parts: Any) -> int:
    """A seed from text (Python's own ``hash`` changes between processes)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _data(value: Any) -> Any:
    from grader.generators import as_data

    return as_data(value)


@dataclass
class Pool:
    """The cases a check asks about: fixed ones, and random slots with alternatives."""

    #: per part: the fixed cases, and for each random slot its alternatives
    fixed: list[list[Case]]
    slots: list[list[list[Case]]]

    def choose_all(self) -> list[Case]:
        """Every case of the pool (to lint a sheet)."""
        return [c for fixed in self.fixed for c in fixed] + [
            c for slots in self.slots for alts in slots for c in alts
        ]

    def choose(self, rng: np.random.Generator) -> list[Case]:
        chosen: list[Case] = []
        for fixed, slots in zip(self.fixed, self.slots, strict=True):
            chosen += fixed
            chosen += [alts[int(rng.integers(len(alts)))] for alts in slots]
        return chosen


def build_pool(drawer: CaseDrawer, seed: int, solve: Callable[[Case], Case]) -> Pool:
    """Draw every case and solve it (reference and mistakes) once.

    ``solve`` fills in a case's expected value and mistakes; it raises ``Unsolvable`` for a
    case the reference cannot answer (redrawn; a fixed case is the sheet's error). Random
    cases where a known mistake gives the right answer are redrawn a few times (a forgotten
    ReLU only shows where a unit is negative).
    """
    rng = np.random.default_rng(seed)
    fixed: list[list[Case]] = []
    slots: list[list[list[Case]]] = []
    for i, part in enumerate(drawer.parts):
        cases = []
        listed = drawer.fixed_cases(i, part)
        for k, values in enumerate(listed):
            label = f"{part.label} {k + 1}" if len(listed) > 1 else part.label
            try:
                cases.append(solve(Case(part_key(i, part), label, values, fixed=True)))
            except Unsolvable as exc:
                where = ("cases", i) if drawer.parts_written else ("reference",)
                raise SpecError(where, f"the reference cannot answer {label}: {exc}") from None
        fixed.append(cases)
        part_slots = []
        for k in range(part.count):
            label = f"{part.label} {k + 1}" if part.count > 1 else part.label
            draw = functools.partial(drawer.draw, rng, k, part)
            alternatives = POOL if part.count <= TELLING_MAX else POOL_LARGE
            part_slots.append([_telling(draw, part, i, label, solve) for _ in range(alternatives)])
        slots.append(part_slots)
    return Pool(fixed, slots)


def _telling(
    draw: Callable[[], dict[str, Any]],
    part: PartSpec,
    part_index: int,
    label: str,
    solve: Callable[[Case], Case],
    tries: int = 8,
) -> Case:
    """A random case; where known mistakes hide on it, the most telling of a few draws."""
    best: Case | None = None
    solved = 0
    reason = ""
    for _ in range(tries * 4):
        try:
            case = solve(Case(part_key(part_index, part), label, draw()))
        except Unsolvable as exc:
            reason = reason or str(exc)
            continue
        solved += 1
        if not part.telling or part.count > TELLING_MAX or len(case.mistakes) >= case.applicable:
            return case
        if best is None or len(case.mistakes) > len(best.mistakes):
            best = case
        if solved >= tries:
            break
    if best is None:
        raise SpecError(
            ("reference",), f"the reference cannot answer any {part.label} drawn: {reason}"
        )
    return best


class Unsolvable(Exception):
    """The reference has no answer for a case (it raises, or gives NaN)."""


def part_key(index: int, part: PartSpec) -> str:
    return f"{index}:{part.label}"
