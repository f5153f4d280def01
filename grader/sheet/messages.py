"""pydantic's validation errors as an instructor needs them: one problem per mistake, in
words, at the line of the sheet where the mistake is.

* a misspelt key is one problem with "did you mean", not "unknown field" plus "Field
  required" for the key it should have been;
* no "Value error," prefixes;
* a value that fits none of a union's members is one problem (a bad domain is not
  followed by "Input should be a valid tuple");
* a duplicate task id is reported at the duplicate's line.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from grader.checks import REGISTRY
from grader.errors import Problem
from grader.sheet.model import Sheet
from grader.sheet.yamlsource import YamlSource

Loc = tuple[str | int, ...]
#: pydantic's own prefixes of messages raised by validators
_PREFIXES = ("Value error, ", "Assertion failed, ")
#: errors that only say an input was not of a union member's type
_TYPE_ONLY = {"tuple_type", "list_type", "dict_type", "model_type", "float_type", "int_type"}


def problems(source: YamlSource, exc: ValidationError) -> list[Problem]:
    errors: list[dict[str, Any]] = [dict(e) for e in exc.errors()]
    errors = _drop_duplicate_id_errors(errors, source)
    errors = _merge_misspelt_keys(errors)
    errors = _one_per_union(errors, source)
    out = [_problem(source, err) for err in errors]
    return [*_duplicate_task_ids(source), *out]


def _problem(source: YamlSource, err: dict[str, Any]) -> Problem:
    loc = tuple(err["loc"])
    message = _message(err)
    return Problem(source.location(loc), message)


def _message(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "union_tag_invalid":
        given = err.get("input")
        if isinstance(given, dict):
            return _unknown_kind(str(given.get("kind")))
    if kind == "extra_forbidden":
        near = err.get("did_you_mean")
        return f"unknown field; did you mean `{near}`?" if near else "unknown field (a typo?)"
    if kind == "literal_error":
        return _literal(err)
    message = str(err["msg"])
    for prefix in _PREFIXES:
        message = message.removeprefix(prefix)
    return message


def _unknown_kind(kind: str) -> str:
    kinds = sorted(REGISTRY)
    near = difflib.get_close_matches(kind, kinds, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else ""
    return f"unknown check kind {kind!r}{hint} Known kinds: {', '.join(kinds)}"


def _literal(err: dict[str, Any]) -> str:
    expected = str(err.get("ctx", {}).get("expected", ""))
    allowed = re.findall(r"'([^']*)'", expected)
    given = err.get("input")
    near = difflib.get_close_matches(str(given), allowed, n=1, cutoff=0.6) if allowed else []
    hint = f"; did you mean {near[0]!r}?" if near else ""
    extra = err.get("union_also", "")
    return f"{given!r} is not one of {', '.join(allowed)}{extra}{hint}"


# ------------------------------------------------------------------ misspelt keys
def _merge_misspelt_keys(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``pionts`` (unknown) and ``points`` (missing) in one mapping are one typo."""
    missing = {tuple(e["loc"]): e for e in errors if e["type"] == "missing" and e["loc"]}
    used: set[Loc] = set()
    out = []
    for e in errors:
        if e["type"] != "extra_forbidden" or not e["loc"]:
            out.append(e)
            continue
        loc = tuple(e["loc"])
        parent, key = loc[:-1], str(loc[-1])
        wanted = [str(m[-1]) for m in missing if m[:-1] == parent and m not in used]
        near = difflib.get_close_matches(key, wanted, n=1, cutoff=0.6)
        if near:
            used.add((*parent, near[0]))
        else:
            near = difflib.get_close_matches(key, sorted(_fields_at(parent)), n=1, cutoff=0.6)
        out.append({**e, "did_you_mean": near[0] if near else None})
    return [e for e in out if not (e["type"] == "missing" and tuple(e["loc"]) in used)]


def _fields_at(loc: Loc) -> set[str]:
    """The field names the schema allows at ``loc`` (a pydantic error location)."""
    node: Any = Sheet  # a model class, or the annotation of a field (list, dict, union)
    for step in loc:
        model = _model_in(node)
        if isinstance(step, str) and step in REGISTRY and model is None:
            node = REGISTRY[step].Spec  # pydantic names the union member by its tag
        elif model is not None:
            if not (isinstance(step, str) and step in model.model_fields):
                return set()
            node = model.model_fields[step].annotation
        else:
            node = _element(node)  # a list index or a dict key
            if node is None:
                return set()
    model = _model_in(node)
    return set(model.model_fields) if model is not None else set()


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _element(annotation: Any) -> Any:
    """The element type of ``list[X]`` or the value type of ``dict[K, X]``, else None."""
    args = typing.get_args(annotation)
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set) and args:
        return args[0]
    if origin is dict and len(args) == 2:
        return args[1]
    return None


# ------------------------------------------------------------------------ unions
def _one_per_union(errors: list[dict[str, Any]], source: YamlSource) -> list[dict[str, Any]]:
    """Of the errors a union's members gave for one value, the one that says what to write."""
    groups: dict[Loc, list[dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for e in errors:
        loc = tuple(e["loc"])
        real = source.real_path(loc)
        if len(real) < len(loc) and e["type"] != "extra_forbidden":
            if real not in groups:
                groups[real] = []
                out.append({"group": real})
            groups[real].append(e)
        else:
            out.append(e)
    result = []
    for e in out:
        if "group" not in e:
            result.append(e)
            continue
        members = groups[e["group"]]
        best = [m for m in members if m["type"] not in _TYPE_ONLY] or members
        chosen = dict(best[0])
        if chosen["type"] == "literal_error" and any(m["type"] == "tuple_type" for m in members):
            chosen["union_also"] = ", or an interval [lo, hi]"
        result.append(chosen)
    return result


# ------------------------------------------------------------ duplicate task ids
def _duplicate_task_ids(source: YamlSource) -> list[Problem]:
    """Each task id that appears again, at the line of the repetition."""
    tasks = source.data.get("tasks") if isinstance(source.data, dict) else None
    if not isinstance(tasks, list):
        return []
    first: dict[str, int] = {}
    found = []
    for i, task in enumerate(tasks):
        if not isinstance(task, dict) or "id" not in task:
            continue
        tid = str(task["id"])
        if tid in first:
            where = source.location(("tasks", i, "id"))
            earlier = source.location(("tasks", first[tid], "id")).line
            found.append(Problem(where, f"task id {tid} appears twice (first at line {earlier})"))
        else:
            first[tid] = i
    return found


def _drop_duplicate_id_errors(
    errors: Sequence[dict[str, Any]], source: YamlSource
) -> list[dict[str, Any]]:
    # the model's own check says the same without a line: ours (above) replaces it
    if not _duplicate_task_ids(source):
        return list(errors)
    return [e for e in errors if not (e["type"] == "value_error" and "appears twice" in e["msg"])]


__all__ = ["problems"]
