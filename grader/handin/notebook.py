"""A Jupyter notebook as one Python module whose lines map back to the notebook's cells.

The sandbox imports Python files and reports errors by line of that file. A notebook is
turned into a generated module that runs each code cell in order, compiling the cell's own
source with the module's file name and padded so that its line numbers fall on a copy of
the cell (commented out) in the generated file. So a traceback line of the module names one
cell and one line of it, and nothing in the sandbox needs to know about notebooks.

Each cell runs inside ``try``: a cell that raises keeps the names defined before it, and
the cells after it still run (as when a student runs all cells). Only ``Exception`` and
``SystemExit`` are caught: the sandbox stops slow code with an exception that is neither,
so a time limit still ends the import. What went wrong is kept in a module-level list the
parent reads with one probe.

Cells are numbered as they appear in the notebook, markdown cells included (cell 1 is the
first cell), which is what a student counts when scrolling.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from grader import source_names

#: module attribute where the generated module records the cells that failed
FAILED_CELLS = "__grader_failed_cells__"
#: a notebook's code may not exceed this many characters in all (outputs do not count)
MAX_SOURCE_CHARS = 2_000_000
#: nor may the file be larger than this (outputs, pictures included)
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024

#: cell magics whose body is Python: the magic line goes, the body runs once
PYTHON_BODY_MAGICS = {"%%time", "%%timeit", "%%capture", "%%prun", "%%debug"}

_MAGIC_LINE = re.compile(r"^(\s*)(%{1,2}\S.*|!.*)$")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)[A-Za-z_][\w, ]*=\s*[%!].*$")


class NotebookError(ValueError):
    """The file is not a notebook the grader can run; the message says why, for a student."""


@dataclass(frozen=True)
class CellSpan:
    """Where a code cell's lines sit in the generated module."""

    cell: int  # 1-based position in the notebook
    first_line: int  # line of the module that holds the cell's line 1
    lines: int


@dataclass(frozen=True)
class CellNote:
    """Something the grader changed or noticed in one cell, said to the student."""

    cell: int
    message: str
    #: names the cell defines at top level (to attach the note to their checks)
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class NotebookModule:
    source: str
    spans: tuple[CellSpan, ...]
    notes: tuple[CellNote, ...]

    def locate(self, line: int | None) -> tuple[int, int] | None:
        """(cell, line in the cell) of a line of the generated module."""
        if line is None:
            return None
        for span in self.spans:
            if span.first_line <= line < span.first_line + span.lines:
                return span.cell, line - span.first_line + 1
        return None


def read_notebook(data: bytes) -> list[dict[str, Any]]:
    """The notebook's cells (as plain dicts), or a ``NotebookError`` saying what is wrong."""
    import nbformat

    if len(data) > MAX_NOTEBOOK_BYTES:
        raise NotebookError(
            f"the notebook is {len(data) / 2**20:.1f} MB; the grader reads notebooks up to "
            f"{MAX_NOTEBOOK_BYTES // 2**20} MB (clear the outputs and hand it in again)"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotebookError("the notebook is not a text file (it is not UTF-8)") from exc
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise NotebookError(
            f"the file is not a Jupyter notebook: it is not valid JSON ({exc})"
        ) from exc
    if not isinstance(raw, dict):
        raise NotebookError(
            f"the file is not a Jupyter notebook: its JSON is {_json_kind(raw)}, not an object "
            "with cells and metadata"
        )
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds for a bad notebook
        raise NotebookError(f"the file is not a Jupyter notebook nbformat can read: {exc}") from exc
    language = _kernel_language(nb)
    if language.lower() not in ("python", "python3", ""):
        raise NotebookError(f"the notebook's kernel runs {language}, not Python")
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("the notebook has no list of cells")
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict):
            raise NotebookError(f"cell {number} of the notebook is {_json_kind(cell)}, not a cell")
        source = cell.get("source", "")
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(s, str) for s in source)
        ):
            raise NotebookError(f"the source of cell {number} of the notebook is not text")
    return [dict(c) for c in cells]


def _kernel_language(nb: Any) -> str:
    """The language the notebook's kernel runs ("" when the notebook does not say).

    nbformat reads a notebook whose metadata does not follow the format (it only warns), so
    every level is checked here: a malformed one is a ``NotebookError``, never a traceback.
    A kernelspec written as a bare name (``"kernelspec": "python3"``) is read as that name.
    """
    metadata = nb.get("metadata")
    if metadata is None:
        return ""
    if not isinstance(metadata, dict):
        raise NotebookError(
            f"the notebook's metadata is {_json_kind(metadata)}, not an object: the file is "
            "damaged (save it again from Jupyter)"
        )
    spec = metadata.get("kernelspec")
    if spec is None:
        return ""
    if isinstance(spec, str):
        name = spec.strip()
        return "python" if name.lower().startswith("python") or not name else name
    if not isinstance(spec, dict):
        raise NotebookError(
            f"the notebook's kernelspec is {_json_kind(spec)}, not an object: the file is "
            "damaged (save it again from Jupyter)"
        )
    language = spec.get("language")
    if language is None:
        return ""
    if not isinstance(language, str):
        raise NotebookError(
            f"the notebook's kernel language is {_json_kind(language)}, not a name: the file is "
            "damaged (save it again from Jupyter)"
        )
    return language.strip()


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def notebook_module(cells: list[dict[str, Any]], *, notebook_name: str) -> NotebookModule:
    """The generated module that runs the notebook's code cells in order."""
    header = [
        f"# Code cells of {_one_line(notebook_name)}, run in order (generated by the grader).",
        f"{FAILED_CELLS} = []",
        "",
        "",
        "def __grader_run_cell__(cell, first_line, source):",
        *_RUN_CELL_BODY,
        "",
        "",
    ]
    lines = list(header)
    spans: list[CellSpan] = []
    notes: list[CellNote] = []
    total = 0
    for number, cell in enumerate(cells, start=1):
        if cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        source = "".join(raw) if isinstance(raw, list) else str(raw)
        total += len(source)
        if total > MAX_SOURCE_CHARS:
            raise NotebookError(
                f"the notebook's code is longer than {MAX_SOURCE_CHARS:,} characters"
            )
        code, cell_notes = strip_magics(source, number)
        names = _top_level_names(code)
        notes += [CellNote(n.cell, n.message, names) for n in cell_notes]
        if code is None or not code.strip():
            continue
        code_lines = code.split("\n")
        first = len(lines) + 1
        lines.append(f"# --- cell {number}")
        first += 1
        lines += ["# " + _printable(line) for line in code_lines]
        lines.append(f"__grader_run_cell__({number}, {first}, {code!r})")
        lines.append("")
        spans.append(CellSpan(number, first, len(code_lines)))
    lines.append("del __grader_run_cell__")
    return NotebookModule("\n".join(lines) + "\n", tuple(spans), tuple(notes))


_RUN_CELL_BODY = [
    # compile with this file's name and padded lines: tracebacks point into the cell's copy
    "    try:",
    '        code = compile("\\n" * (first_line - 1) + source, __file__, "exec")',
    "    except (SyntaxError, ValueError) as exc:",
    f"        {FAILED_CELLS}.append(",
    '            {"cell": cell, "line": getattr(exc, "lineno", None),',
    '             "error": "SyntaxError: " + str(getattr(exc, "msg", exc))[:300]})',
    "        return",
    "    try:",
    "        exec(code, globals())",
    # never BaseException: the sandbox's time limit must still end the import
    "    except (Exception, SystemExit) as exc:",
    "        line = None",
    "        tb = exc.__traceback__",
    "        while tb is not None:",
    "            if tb.tb_frame.f_code.co_filename == __file__:",
    "                line = tb.tb_lineno",
    "            tb = tb.tb_next",
    "        try:",
    "            text = type(exc).__name__ + ': ' + str(exc)[:300]",
    "        except Exception:",
    "            text = type(exc).__name__",
    f'        {FAILED_CELLS}.append({{"cell": cell, "line": line, "error": text}})',
]


def strip_magics(source: str, cell: int) -> tuple[str | None, list[CellNote]]:
    """The cell's code without IPython magics and shell escapes, and what was removed.

    A cell that already compiles is left alone (a ``%`` inside a string is not a magic).
    Removed lines become ``pass`` at their indentation, so that line numbers stay and an
    ``if`` block that held only a magic still compiles. Returns None for a cell that is not
    Python at all (``%%bash``, ``%%html`` …).
    """
    if _compiles(source):
        return source, []
    lines = source.split("\n")
    notes: list[CellNote] = []
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = lines[first].split()[0]
        if magic not in PYTHON_BODY_MAGICS:
            return None, [
                CellNote(cell, f"cell {cell}: a `{magic}` cell is not Python; it was not run")
            ]
        notes.append(
            CellNote(cell, f"cell {cell}: the cell magic `{magic}` was removed (its code ran once)")
        )
        lines[first] = ""
    for i, line in enumerate(lines):
        m = _MAGIC_LINE.match(line) or _ASSIGNED_MAGIC.match(line)
        if m is None or (i == first and not line.strip()):
            continue
        stripped = line.strip()
        command = stripped.split("=", 1)[1].strip() if m.re is _ASSIGNED_MAGIC else stripped
        what = "shell command" if command.startswith("!") else "magic"
        shown = _printable(stripped)[:80]
        notes.append(CellNote(cell, f"cell {cell}, line {i + 1}: the {what} `{shown}` was removed"))
        lines[i] = m.group(1) + "pass"
    return "\n".join(lines), notes


def _compiles(source: str) -> bool:
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _top_level_names(code: str | None) -> tuple[str, ...]:
    tree = source_names.parse(code) if code else None
    return tuple(sorted(source_names.defined_names(tree))) if tree is not None else ()


def _printable(text: str) -> str:
    """One line with no control characters (the copy is a comment; it must stay one)."""
    return "".join(ch if ch.isprintable() or ch == "\t" else "?" for ch in text)


def _one_line(text: str) -> str:
    return _printable(text.replace("\n", " "))[:200]
