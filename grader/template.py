"""`grader template`: a hand-in skeleton listing every name a sheet asks for, as a Python
module or as a starter notebook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grader.checks.base import Check
from grader.sheet.loader import LoadedSheet
from grader.sheet.model import Signature

_IMPORTS = ["import numpy as np", "import sympy"]
_AUTHORS = [
    "# Everyone in your group, with their matriculation number:",
    'AUTHORS = [("Your Name", "1234567")]',
]


@dataclass(frozen=True)
class TaskPart:
    heading: str
    prompt: str
    given: list[str]
    code: list[str]


def task_parts(sheet: LoadedSheet) -> list[TaskPart]:
    """Per task (that asks for a name not asked before): its heading, prompt, given data and
    the code defining its names (the signature from the sheet's `names:`, else from the
    check: a function's arguments, a constant's shape)."""
    model = sheet.model
    done: set[str] = set()
    parts = []
    for task in sheet.tasks:
        checks = [c for c in task.checks if c.spec.name not in done]
        if not checks:
            continue
        code: list[str] = []
        for check in {c.spec.name: c for c in checks}.values():
            done.add(check.spec.name)
            code += _definition(check, model.names.get(check.spec.name))
        given = [
            line
            for name in dict.fromkeys(n for c in task.checks for n in c.given_data())
            for line in _given_lines(sheet, name)
        ]
        points = f"{task.spec.points:g} point{'s' if task.spec.points != 1 else ''}"
        heading = f"{task.spec.id} ({points}) {task.spec.title}".rstrip()
        parts.append(TaskPart(heading, task.spec.prompt.strip(), given, code))
    return parts


def _definition(check: Check, sig: Signature | None) -> list[str]:
    doc = sig.doc.strip() if sig else ""
    name = check.spec.name
    skeleton = check.skeleton()
    if not skeleton.startswith("def "):
        value = f"{name} = {sig.signature}" if sig else skeleton
        return [*(f"# {d}" for d in doc.splitlines()), value, ""]
    header = f"def {sig.signature}:" if sig else skeleton
    lines = [header]
    if doc:
        lines.append(f'    """{doc}"""')
    return [*lines, "    raise NotImplementedError", ""]


def _given_lines(sheet: LoadedSheet, name: str) -> list[str]:
    """The sheet's given data, as Python a student can paste."""
    data: Any = sheet.context.given
    for step in name.split("."):
        data = data.get(step) if isinstance(data, dict) else None
    if isinstance(data, dict):
        return [f"{key} = {_literal(value)}" for key, value in data.items()]
    return [] if data is None else [f"{name.split('.')[-1]} = {_literal(data)}"]


def _literal(value: Any) -> str:
    """Data as a Python literal a student can paste, whole numbers without a trailing .0."""
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def submission_template(sheet: LoadedSheet) -> str:
    model = sheet.model
    lines = [f'"""Hand-in for {model.title or model.id}."""', "", *_IMPORTS, "", *_AUTHORS, ""]
    for part in task_parts(sheet):
        lines += ["", f"# --- {part.heading}"]
        if part.prompt:
            lines += [f"# {line}" for line in part.prompt.splitlines()]
        if part.given:
            lines += ["# Given:", *(f"#   {line}" for line in part.given)]
        lines += part.code
    return "\n".join(lines).rstrip() + "\n"


def notebook_template(sheet: LoadedSheet) -> str:
    """A starter notebook (nbformat 4 JSON): per task a markdown cell with its prompt and
    given data, and a code cell with the names to define."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    model = sheet.model
    cells = [
        new_markdown_cell(
            f"# {model.title or model.id}\n\nRun every cell in order before you hand in."
        ),
        new_code_cell("\n".join([*_IMPORTS, "", *_AUTHORS])),
    ]
    for part in task_parts(sheet):
        text = [f"## {part.heading}"]
        if part.prompt:
            text += ["", part.prompt]
        if part.given:
            text += ["", "Given:", "", "```python", *part.given, "```"]
        cells.append(new_markdown_cell("\n".join(text)))
        cells.append(new_code_cell("\n".join(part.code).rstrip()))
    for i, cell in enumerate(cells, start=1):
        cell["id"] = f"cell-{i}"  # stable ids: the same sheet gives the same notebook
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    return nbformat.writes(nb)
