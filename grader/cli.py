"""The ``grader`` command: thin functions over the library; user errors exit 2."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from grader import __version__
from grader.errors import GraderError, UsageError
from grader.reports._text import clean

EXIT_OK, EXIT_NOT_FULL, EXIT_USAGE = 0, 1, 2


def run() -> None:
    """The `grader` console command: ``main``, then a fast exit.

    Tearing down an interpreter full of sympy objects, and waiting for the sandbox's fork
    server to exit, takes ~0.3 s that a student checking their file should not wait for.
    Everything is written and flushed by then; the fork server and anything it started die
    with this process (parent-death signal, pid namespace).
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(level=logging.WARNING, format="grader: %(message)s")
    try:
        return int(args.func(args))
    except GraderError as exc:
        # messages quote file names and CSV cells: no escape sequence reaches the terminal
        print(f"grader: {clean(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("grader: interrupted; results written so far are kept", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="grader", description="Grade maths and ML exercise hand-ins.")
    p.add_argument("--version", action="version", version=f"grader {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("grade", help="grade a class: every hand-in in the PATHs")
    g.add_argument("sheet", type=Path)
    g.add_argument("paths", type=Path, nargs="+")
    g.add_argument("--out", type=Path, default=Path("reports"))
    g.add_argument("--jobs", type=int, default=None, help="parallel hand-ins (default: cores)")
    g.add_argument("--force", action="store_true", help="regrade hand-ins already graded")
    g.add_argument(
        "--task",
        action="append",
        metavar="ID",
        dest="tasks",
        help="regrade only this task's checks (repeatable), keeping the rest of each stored "
        "result",
    )
    g.add_argument("--executor", choices=["local", "dask"], default="local")
    g.add_argument(
        "--scheduler", default=None, help="dask scheduler address (with --executor dask)"
    )
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument(
        "--roster",
        type=Path,
        metavar="ROSTER.csv",
        help="grade each hand-in with its first listed author's variant (columns id, name)",
    )
    g.set_defaults(func=cmd_grade)

    c = sub.add_parser("check", help="check your own hand-in before you hand it in")
    c.add_argument("path", type=Path)
    c.add_argument("--sheet", type=Path, required=True)
    c.add_argument("--out", type=Path, default=Path("reports"))
    c.add_argument("--json", action="store_true", help="print the verdicts as JSON")
    c.add_argument("--student", metavar="ID", help="check with your own variant's numbers")
    c.set_defaults(func=cmd_check)

    ci = sub.add_parser("ci", help="autograde in CI: JUnit, Gradescope, GitHub step summary")
    ci.add_argument("path", type=Path)
    ci.add_argument("--sheet", type=Path, required=True)
    ci.add_argument("--junit", type=Path)
    ci.add_argument("--gradescope", type=Path)
    ci.add_argument("--out", type=Path, default=Path("reports"))
    ci.add_argument(
        "--fail-under",
        type=_points,
        metavar="POINTS",
        help="exit 0 from this auto-graded score on (default: full marks)",
    )
    ci.set_defaults(func=cmd_ci)

    v = sub.add_parser(
        "validate", help="check that a sheet loads, solves and its solution scores full marks"
    )
    v.add_argument("sheet", type=Path)
    v.set_defaults(func=cmd_validate)

    t = sub.add_parser("template", help="print a hand-in skeleton for a sheet")
    t.add_argument("sheet", type=Path)
    t.add_argument(
        "--notebook",
        type=Path,
        nargs="?",
        const=Path(""),
        help="write a starter notebook instead (to FILE, default SHEET-ID.ipynb here)",
    )
    t.set_defaults(func=cmd_template)
    h = sub.add_parser("handout", help="each student's own sheet, and the instructor's key")
    h.add_argument("sheet", type=Path)
    h.add_argument("--roster", type=Path, required=True, metavar="ROSTER.csv")
    h.add_argument("--out", type=Path, required=True)
    h.set_defaults(func=cmd_handout)
    _add_generate(sub)
    return p


def _add_generate(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    gen = sub.add_parser("generate", help="ready-made CI setups: Gradescope, GitHub Actions")
    targets = gen.add_subparsers(dest="target", required=True)
    gs = targets.add_parser(
        "gradescope", help="a Gradescope autograder zip (setup.sh, run_autograder, full sheet)"
    )
    gs.add_argument("sheet", type=Path)
    gs.add_argument("--out", type=Path, required=True, help="the zip to write")
    gs.set_defaults(func=cmd_generate_gradescope)
    gh = targets.add_parser(
        "github", help="a GitHub Actions workflow running grader ci, and the public sheet"
    )
    gh.add_argument("sheet", type=Path)
    gh.add_argument("--out", type=Path, required=True, help="the template repository's folder")
    gh.add_argument("--handin", help="the file students hand in (default: SHEET-ID.py)")
    gh.add_argument(
        "--fail-under",
        type=_points,
        metavar="POINTS",
        help="the job passes from this score (default: full marks of the public checks)",
    )
    gh.set_defaults(func=cmd_generate_github)


def _points(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of points") from None
    if not value >= 0:  # also NaN
        raise argparse.ArgumentTypeError(f"{text!r}: points are a number from 0 up")
    return value


def _say_how_isolated() -> None:
    """Where the sandbox is weaker than full isolation, say so once, plainly (on stderr)."""
    from grader.sandbox.runner import sandbox_isolation

    sandbox_isolation()  # logs its summary once when isolation is not full


def cmd_grade(args: argparse.Namespace) -> int:
    from grader.batch import grade_batch
    from grader.sheet.loader import load_sheet

    sheet = load_sheet(args.sheet)
    _say_how_isolated()
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(map(str, missing))}")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    roster = _roster(args.roster, sheet)
    if args.executor == "dask":
        from grader.distributed import grade_batch_dask

        if not args.scheduler:
            raise UsageError("--executor dask needs --scheduler ADDRESS")
        batch = grade_batch_dask(
            sheet=sheet,
            paths=args.paths,
            out_dir=args.out,
            scheduler=args.scheduler,
            force=args.force,
            tasks=args.tasks,
            roster=roster,
        )
    else:
        from grader.progress import BatchProgress

        with BatchProgress(enabled=not args.quiet and sys.stderr.isatty()) as bar:
            batch = grade_batch(
                sheet=sheet,
                paths=args.paths,
                out_dir=args.out,
                jobs=args.jobs,
                force=args.force,
                progress=bar.advance,
                on_start=bar.start,
                tasks=args.tasks,
                roster=roster,
            )
    _print_batch(batch)
    return EXIT_OK


def _roster(path: Path | None, sheet):  # noqa: ANN001, ANN202 - lazily imported types
    if path is None:
        return None
    from grader.variants import read_roster

    if sheet.model.variants is None:
        print(
            f"grader: {sheet.path} has no `variants:`: the roster only names the authors",
            file=sys.stderr,
        )
    return read_roster(path)


def _print_batch(batch) -> None:  # noqa: ANN001 - grader.batch.BatchResult, imported lazily
    from grader.reports.numbers import points, seconds

    def name(text: str) -> str:
        return clean(text, multiline=False, limit=200)

    for skipped in batch.skipped:
        print(f"grader: skipped {name(skipped.name)}: {name(skipped.reason)}", file=sys.stderr)
    if not batch.items:
        print("grader: no hand-ins (.py, .ipynb, .md, .tex) found", file=sys.stderr)
    reused = len(batch.items) - batch.graded
    print(
        f"Graded {batch.graded} hand-in(s)"
        + (f", {reused} unchanged since the last run" if reused else "")
        + f" in {seconds(batch.seconds)}. Gradebook: {name(str(batch.gradebook))}"
        + f"  Summary: {name(str(batch.summary))}"
        + (f"  Instructor's page: {name(str(batch.instructor))}" if batch.instructor else "")
    )
    for item in batch.items:
        r = item.result
        flag = "  (did not import)" if r.import_error else ""
        score = f"{points(r.score):>6} / {points(r.max_score)}"
        print(f"  {name(item.name):<32} {score}{flag}")


def _grade_one(  # noqa: ANN202
    path: Path, sheet_path: Path, *, visible_only: bool, student: str | None = None
):
    from grader.intake import HandInRefused, vet
    from grader.sandbox.runner import warm_up

    if path.is_dir():
        raise UsageError(
            f"{path} is a folder: this command checks one hand-in file "
            "(`grader grade SHEET FOLDER` grades every hand-in in a folder)"
        )
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    try:
        vet(path)
    except HandInRefused as exc:
        raise UsageError(f"{path}: {exc.reason}") from None
    warm_up()  # first: the sandbox boots while sympy is imported and the sheet loads

    from grader.grading import GradeOptions
    from grader.handin import grade_handin
    from grader.intake import text_name
    from grader.sheet.loader import load_sheet

    sheet = load_sheet(sheet_path)
    if student is not None:
        from dataclasses import replace

        from grader.variants import variant_sheet

        sheet = variant_sheet(sheet, student)  # the student's own numbers
    _say_how_isolated()
    options = GradeOptions(visible_only=visible_only)
    result = grade_handin(sheet, path, options=options, name=text_name(path.name))
    return sheet, replace(result, variant=student) if student is not None else result


def _write_report(result, sheet, out: Path, path: Path) -> Path:  # noqa: ANN001
    """The report goes where `grader grade` would put it: ``<out>/handins/<name>/``, a
    folder inside ``out`` whatever the file is called (``...py`` included); ``mine.py`` and
    ``mine.ipynb`` side by side keep their extensions, so neither overwrites the other."""
    from grader.handin.formats import siblings
    from grader.output import REPORT_FILE, atomic_write_text, handin_folders
    from grader.reports.html import render_report

    names = [result.submission, *(p.name for p in siblings(path))]
    folder = handin_folders(names)[result.submission]
    report = out / folder / REPORT_FILE
    atomic_write_text(report, render_report(result, sheet_title=sheet.model.title))
    return report


def _exit_for(result) -> int:  # noqa: ANN001
    full = all(t.score >= t.max_score - 1e-9 for t in result.tasks if t.status != "manual")
    return EXIT_OK if full else EXIT_NOT_FULL


def cmd_check(args: argparse.Namespace) -> int:
    from grader.reports.terminal import check_json, print_check_table

    sheet, result = _grade_one(args.path, args.sheet, visible_only=True, student=args.student)
    report = _write_report(result, sheet, args.out, args.path)
    if args.json:
        print(check_json(result))
    else:
        print_check_table(result, stream=sys.stdout, report_path=report)
    return _exit_for(result)


def cmd_ci(args: argparse.Namespace) -> int:
    from grader.output import atomic_write_text
    from grader.reports.ci import gradescope_json, junit_xml, step_summary_markdown
    from grader.reports.terminal import print_check_table

    sheet, result = _grade_one(args.path, args.sheet, visible_only=False)
    report = _write_report(result, sheet, args.out, args.path)
    if args.junit:
        atomic_write_text(args.junit, junit_xml(result))
    if args.gradescope:
        atomic_write_text(args.gradescope, json.dumps(gradescope_json(result), indent=2) + "\n")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(step_summary_markdown(result))
    print_check_table(result, stream=sys.stdout, color=False, report_path=report)
    if args.fail_under is None:
        return _exit_for(result)
    return _exit_reaching(result, args.fail_under)


def _exit_reaching(result, points: float) -> int:  # noqa: ANN001
    if points > result.max_score + 1e-9:
        raise UsageError(
            f"--fail-under {points:g}: the sheet gives at most {result.max_score:g} points"
        )
    reached = result.auto_score >= points - 1e-9
    print(
        f"{'Reaches' if reached else 'Does not reach'} the pass line of {points:g} points "
        f"({result.auto_score:g} from automatic checks)."
    )
    return EXIT_OK if reached else EXIT_NOT_FULL


def cmd_handout(args: argparse.Namespace) -> int:
    from grader.handout import write_handouts
    from grader.sheet.loader import load_sheet
    from grader.variants import read_roster

    sheet = load_sheet(args.sheet)
    roster = read_roster(args.roster)
    if sheet.model.variants is None:
        print(
            f"grader: {args.sheet} has no `variants:`: every student gets the same numbers",
            file=sys.stderr,
        )
    done = write_handouts(sheet=sheet, roster=roster, out_dir=args.out)
    print(f"Wrote {len(done.folders)} sheets under {args.out}; the key: {done.key_md}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    from grader.validate import validate_sheet

    report = validate_sheet(args.sheet)
    print(report.summary)
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    from grader.sheet.loader import load_sheet
    from grader.template import notebook_template, submission_template

    sheet = load_sheet(args.sheet)
    if args.notebook is None:
        print(submission_template(sheet), end="")
        return EXIT_OK
    target = args.notebook if args.notebook != Path("") else Path(f"{sheet.id}.ipynb")
    if target.exists():
        raise UsageError(f"{target} exists already; name another file after --notebook")
    target.write_text(notebook_template(sheet), encoding="utf-8")
    print(f"Wrote {target}: a starter notebook for {sheet.model.title or sheet.id}.")
    return EXIT_OK


def cmd_generate_gradescope(args: argparse.Namespace) -> int:
    from grader.generate.gradescope import build_gradescope_package

    print(build_gradescope_package(args.sheet, args.out).summary())
    return EXIT_OK


def cmd_generate_github(args: argparse.Namespace) -> int:
    from grader.generate.github import build_github_setup

    setup = build_github_setup(
        args.sheet, args.out, handin=args.handin, fail_under=args.fail_under
    )
    print(setup.summary())
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
