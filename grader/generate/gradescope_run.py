"""What the Gradescope package runs for each submission (``run_autograder`` calls it).

It chooses the hand-in in the upload, grades it with ``grader ci`` and the full sheet (hidden
checks included), and leaves ``results.json`` where Gradescope reads it, with a line saying
which file was graded. An upload without a hand-in gets a score of 0 and says why. A failure
on the course's side (a sheet that does not load) writes no score at all: Gradescope then
shows the submission as not graded, the instructor reads why in the autograder output, fixes
the package and regrades; a student is never given a 0 that nobody judged.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader.generate.handin_choice import choose_handin
from grader.output import atomic_write_text
from grader.sheet.yamlsource import load_yaml


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.generate.gradescope_run")
    parser.add_argument("--sheet", type=Path, required=True)
    parser.add_argument("--submission", type=Path, required=True)
    parser.add_argument("--results", type=Path, required=True)
    args = parser.parse_args(argv)
    return run(args.sheet, args.submission, args.results)


def run(sheet: Path, submission: Path, results: Path) -> int:
    """Grade the upload in ``submission``; 0 once ``results/results.json`` is written."""
    print(f"grader {_installed_version()} on Python {sys.version.split()[0]}; sheet {sheet}")
    try:
        sheet_id = str(load_yaml(sheet).data.get("id", sheet.stem))
    except GraderError as exc:
        print(f"grader: {exc}\nThe hand-in was not graded and no score was written.")
        return 1
    choice = choose_handin(submission, sheet_id=sheet_id)
    print(choice.note)
    target = results / "results.json"
    if choice.path is None:
        _write(target, {"score": 0, "output": choice.note, "tests": []})
        return 0
    from grader.cli import main as grader_main

    with tempfile.TemporaryDirectory(prefix="grader-reports-") as reports:
        argv = ["ci", str(choice.path), "--sheet", str(sheet), "--gradescope", str(target)]
        code = grader_main([*argv, "--out", reports])
    if code not in (0, 1) or not target.is_file():
        print(
            f"grader ci stopped with exit status {code}: the hand-in was not graded and no "
            "score was written (see the messages above)."
        )
        return 1
    data = json.loads(target.read_text(encoding="utf-8"))
    data["output"] = "\n".join(filter(None, [choice.note, data.get("output", "")]))
    _write(target, data)
    return 0


def _write(target: Path, data: dict[str, Any]) -> None:
    # plain text: a file name in the note must not be read as HTML (the top level's default)
    data = {**data, "output_format": "text", "stdout_visibility": "hidden"}
    atomic_write_text(target, json.dumps(data, indent=2) + "\n")


def _installed_version() -> str:
    try:
        return importlib.metadata.version("grader")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        from grader import __version__

        return __version__


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
