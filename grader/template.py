"""`grader template`: a hand-in skeleton listing every name a sheet asks for."""

from __future__ import annotations

from grader.sheet.loader import LoadedSheet


def submission_template(sheet: LoadedSheet) -> str:
    model = sheet.model
    lines = [
        f'"""Hand-in for {model.title or model.id}."""',
        "",
        "import numpy as np",
        "import sympy",
        "",
        "# Everyone in your group, with their matriculation number:",
        'AUTHORS = [("Your Name", "1234567")]',
        "",
    ]
    done: set[str] = set()
    for task in sheet.tasks:
        names = [c.spec.name for c in task.checks if c.spec.name not in done]
        if not names:
            continue
        lines += [
            "",
            f"# --- {task.spec.id} ({task.spec.points:g} points) {task.spec.title}".rstrip(),
        ]
        if task.spec.prompt:
            lines += [f"# {line}" for line in task.spec.prompt.strip().splitlines()]
        for name in dict.fromkeys(names):
            done.add(name)
            sig = model.names.get(name)
            doc = sig.doc.strip() if sig else ""
            if name.isupper():
                value = sig.signature if sig else "None"
                if doc:
                    lines += [f"# {d}" for d in doc.splitlines()]
                lines.append(f"{name} = {value}")
            else:
                signature = sig.signature if sig else f"{name}(*args)"
                lines += [f"def {signature}:"]
                if doc:
                    lines.append(f'    """{doc}"""')
                lines.append("    raise NotImplementedError")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
