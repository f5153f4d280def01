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
