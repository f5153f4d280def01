"""`grader template`: a hand-in skeleton listing every name a sheet asks for, as a Python
module or as a starter notebook."""

from __future__ import annotations

from dataclasses import dataclass

from grader.sheet.loader import LoadedSheet

_IMPORTS = ["import numpy as np", "import sympy"]
_AUTHORS = [
    "# Everyone in your group, with their matriculation number:",
    'AUTHORS = [("Your Name", "1234567")]',
]


@dataclass(frozen=True)
class _TaskPart:
    heading: str
    prompt: str
    given: list[str]
    code: list[str]


def _task_parts(sheet: LoadedSheet) -> list[_TaskPart]:
    """Per task (that asks for a name not asked before): its heading, prompt, given data and
    the code defining its names."""
    model = sheet.model
    done: set[str] = set()
    parts = []
    for task in sheet.tasks:
        names = [c.spec.name for c in task.checks if c.spec.name not in done]
        if not names:
            continue
        code: list[str] = []
        for name in dict.fromkeys(names):
            done.add(name)
            sig = model.names.get(name)
            doc = sig.doc.strip() if sig else ""
            if name.isupper():
                value = sig.signature if sig else "None"
                if doc:
                    code += [f"# {d}" for d in doc.splitlines()]
                code.append(f"{name} = {value}")
            else:
                signature = sig.signature if sig else f"{name}(*args)"
                code += [f"def {signature}:"]
                if doc:
                    code.append(f'    """{doc}"""')
                code.append("    raise NotImplementedError")
            code.append("")
        given = [
            f"{key} = {value}"
            for c in task.checks
            for key, value in (getattr(c.spec, "given", None) or {}).items()
        ]
        heading = f"{task.spec.id} ({task.spec.points:g} points) {task.spec.title}".rstrip()
        parts.append(_TaskPart(heading, task.spec.prompt.strip(), given, code))
    return parts


def submission_template(sheet: LoadedSheet) -> str:
    model = sheet.model
    lines = [f'"""Hand-in for {model.title or model.id}."""', "", *_IMPORTS, "", *_AUTHORS, ""]
    for part in _task_parts(sheet):
        lines += ["", f"# --- {part.heading}"]
        if part.prompt:
            lines += [f"# {line}" for line in part.prompt.splitlines()]
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
    for part in _task_parts(sheet):
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
