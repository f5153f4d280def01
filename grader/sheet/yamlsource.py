"""Load YAML while remembering the line of every value, for error messages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from grader.errors import Location, Problem, SheetError

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class YamlSource:
    """Plain data from a YAML file and the line of each path in it."""

    file: str
    data: Any
    lines: dict[Path_, int]

    def location(self, path: Sequence[str | int]) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one.

        ``path`` may contain steps that are not in the data (pydantic adds
        union tags to its error locations); those are skipped.
        """
        real = self.real_path(path)
        line = None
        for n in range(len(real), -1, -1):
            if real[:n] in self.lines:
                line = self.lines[real[:n]]
                break
        return Location(self.file, line, _dotted(real))

    def real_path(self, path: Sequence[str | int]) -> Path_:
        node = self.data
        out: list[str | int] = []
        for step in path:
            if isinstance(node, dict) and step in node:
                node = node[step]
                out.append(step)
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
                node = node[step]
                out.append(step)
            elif isinstance(node, dict) and isinstance(step, str) and out and step not in node:
                # a missing field: keep it for the message, the line is the parent's
                if step[:1].isalpha() and not _looks_like_tag(step, node):
                    out.append(step)
                    break
        return tuple(out)


def _looks_like_tag(step: str, node: dict[str, Any]) -> bool:
    return node.get("kind") == step


def _dotted(path: Path_) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


class _LineLoader(yaml.SafeLoader):
    pass


def load_yaml(path: Path) -> YamlSource:
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SheetError(
            [Problem(Location(file), f"cannot read the sheet: {exc.strerror}")]
        ) from exc
    except UnicodeDecodeError as exc:
        raise SheetError([Problem(Location(file), f"the sheet is not UTF-8 text: {exc}")]) from exc
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        raise SheetError([syntax_problem(file, exc)]) from exc
    except yaml.YAMLError as exc:
        raise SheetError([Problem(Location(file), f"YAML error: {exc}")]) from exc
    if node is None:
        raise SheetError([Problem(Location(file, 1), "the sheet is empty")])
    lines: dict[Path_, int] = {}
    try:
        data = _construct(node, (), lines)
    except _DuplicateKey as exc:
        raise SheetError(
            [Problem(Location(file, exc.line, exc.key), "this key appears twice")]
        ) from exc
    return YamlSource(file, data, lines)


#: PyYAML's problems said in words: (pattern in its message, explanation, which line)
_SYNTAX: tuple[tuple[str, str, str], ...] = (
    (
        "found character '\\t' that cannot start any token",
        "a tab character: YAML indents with spaces only",
        "problem",
    ),
    (
        "could not find expected ':'",
        "a line without ':' where a `key: value` is expected "
        "(a missing colon, or a line indented too far)",
        "context",
    ),
    (
        "mapping values are not allowed here",
        "a ':' where YAML does not expect one: this line is indented differently from the "
        "lines of its mapping, or a value containing ': ' needs quotes",
        "problem",
    ),
    (
        "expected <block end>, but found '<block mapping start>'",
        "the indentation of this line does not match the lines above it (keys of one "
        "mapping start in the same column; a nested mapping is indented further)",
        "problem",
    ),
    (
        "expected <block end>, but found '-'",
        "a list item ('- ') indented differently from the items before it",
        "problem",
    ),
    (
        "expected <block end>, but found '<block sequence start>'",
        "a list starts where the indentation says the mapping above goes on",
        "problem",
    ),
    (
        "expected ',' or ']'",
        "a list in [ ] is not closed, or two items lack a comma between them",
        "context",
    ),
    (
        "expected ',' or '}'",
        "a mapping in { } is not closed, or two entries lack a comma between them",
        "context",
    ),
    (
        "found unexpected end of stream",
        "the file ends inside a quoted string: a closing quote is missing",
        "context",
    ),
)


def syntax_problem(file: str, exc: yaml.MarkedYAMLError) -> Problem:
    """A YAML syntax error in words, at the line where it is (PyYAML's own message kept)."""
    problem = exc.problem or ""
    raw = " ".join(p for p in (exc.context, exc.problem) if p)
    for pattern, words, which in _SYNTAX:
        if pattern in problem:
            mark = (exc.context_mark if which == "context" else None) or exc.problem_mark
            line = mark.line + 1 if mark else None
            return Problem(Location(file, line), f"YAML syntax error: {words} [{raw}]")
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    return Problem(Location(file, line), f"YAML syntax error: {raw}")


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key, self.line = key, line


def _construct(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in out:
                raise _DuplicateKey(str(key), key_node.start_mark.line + 1)
            out[key] = _construct(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, (*path, i), lines) for i, child in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    loader = _LineLoader("")
    return loader.construct_object(node, deep=True)
