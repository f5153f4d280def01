from __future__ import annotations

import io
import json
from pathlib import Path

from report_fixtures import HIDDEN_FEEDBACK, HIDDEN_GIVEN, HIDDEN_SECRET, HIDDEN_WITNESS

from grader.reports.terminal import check_json, print_check_table

HIDDEN = (HIDDEN_SECRET, HIDDEN_GIVEN, HIDDEN_WITNESS, HIDDEN_FEEDBACK)


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_when_not_a_tty(realistic):
    out = io.StringIO()
    print_check_table(realistic, stream=out, report_path=Path("reports/group07/report.html"))
    text = out.getvalue()
    assert "\x1b" not in text
    for word in ("passed", "partly right", "not right yet", "error", "graded by hand"):
        assert word in text
    assert "The variance divides by m - 1" in text  # hints name the mistake
    assert "line 14 of your file" in text
    assert "likelihood is right" not in text  # only failures get hints
    assert text.rstrip().endswith("reports/group07/report.html")
    for secret in HIDDEN:
        assert secret not in text


def test_colour_on_a_tty_unless_no_color(realistic, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    out = Tty()
    print_check_table(realistic, stream=out)
    assert "\x1b[" in out.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    out = Tty()
    print_check_table(realistic, stream=out)
    assert "\x1b" not in out.getvalue()
    out = io.StringIO()
    print_check_table(realistic, stream=out, color=True)
    assert "\x1b[" in out.getvalue()


def test_hostile_text_cannot_style_the_terminal(hostile):
    out = Tty()
    print_check_table(hostile, stream=out, color=False)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "<script>alert(1)</script>" in text  # shown literally, not interpreted


def test_ascii_stream_does_not_crash(realistic):
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    print_check_table(realistic, stream=stream)
    stream.flush()
    assert b"[x] not right yet" in raw.getvalue()


def test_check_json(realistic, hostile, perfect, broken):
    data = json.loads(check_json(realistic))
    assert data["auto_score"] == 5 and data["auto_max_score"] == 12
    assert data["pending_manual"] == ["6.1b"]
    assert data["all_full_marks"] is False
    assert json.loads(check_json(perfect))["all_full_marks"] is True
    assert json.loads(check_json(broken))["all_full_marks"] is False
    text = check_json(realistic)
    for secret in HIDDEN:
        assert secret not in text
    assert "\\u001b" not in check_json(hostile) and "\x1b" not in check_json(hostile)


def test_the_diagnosis_comes_first_and_what_is_right_is_not_a_problem():
    from report_fixtures import check

    from grader.results import Mistake, SubmissionResult, TaskResult

    diagnosis = "You use log base 2; the cross-entropy here uses the natural log."
    lines = (
        "Values: p = [0, 0.494, 0.506], q = [0.5768, 0.2872, 0.136]: expected 1.626, "
        "yours gave 2.345.",
        "Values: wrong in 4 of 4 cases.",
        "Your H(p, q) is never below H(p, p) (Gibbs' inequality).",
        "Minimising your `cross_entropy` gives the maximum likelihood estimate p = 0.16.",
        diagnosis,
    )
    entropy = check(
        name="cross_entropy",
        points=0.75,
        max_points=1.5,
        passed=False,
        feedback=lines,
        mistakes=(Mistake("log2", diagnosis),),
        right=lines[2:4],
    )
    task = TaskResult("6.1d", "Cross-entropy", 0.75, 1.5, "partial", (entropy,))
    out = io.StringIO()
    print_check_table(SubmissionResult("t.py", "sheet06", (), (task,)), stream=out)
    text = out.getvalue()
    hints = text[text.index("What to look at") :]
    assert hints.index("log base 2") < hints.index("Values: p =")
    assert "Gibbs" not in hints and "Minimising" not in hints


def test_escape_sequences_in_names_never_reach_the_terminal(tmp_path, capsys):
    import shutil

    from grader.cli import main
    from grader.progress import bar_label
    from tests.conftest import SHEET06, SUBMISSIONS

    subs = tmp_path / "subs"
    subs.mkdir()
    evil = "x\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[8m[blink]y.py"
    shutil.copy(SUBMISSIONS / "reference.py", subs / evil)
    args = ["grade", str(SHEET06), str(subs), "--out", str(tmp_path / "out"), "--quiet"]
    assert main([*args, "--jobs", "1"]) == 0
    captured = capsys.readouterr()
    for stream in (captured.out, captured.err):
        assert "\x1b" not in stream and "\x07" not in stream
    assert "x[blink]y.py" in captured.out
    # the progress bar parses its text as markup: a name's brackets are escaped for it
    assert bar_label("a[bold red]b.py") == "a\\[bold red]b.py"
    assert "\x1b" not in bar_label(evil) and len(bar_label("n" * 80)) == 30
