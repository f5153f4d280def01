from __future__ import annotations

import json

import junitparser
from report_fixtures import HIDDEN_FEEDBACK, HIDDEN_GIVEN, HIDDEN_SECRET, HIDDEN_WITNESS, SCRIPT

from grader.reports.ci import gradescope_json, junit_xml, step_summary_markdown

HIDDEN = (HIDDEN_SECRET, HIDDEN_GIVEN, HIDDEN_WITNESS, HIDDEN_FEEDBACK)


def _read(tmp_path, text: str) -> junitparser.JUnitXml:
    path = tmp_path / "junit.xml"
    path.write_text(text, encoding="utf-8")
    return junitparser.JUnitXml.fromfile(str(path))


def test_junit_counts_and_cases(tmp_path, realistic):
    xml = _read(tmp_path, junit_xml(realistic))
    suites = list(xml)
    assert len(suites) == 1
    suite = suites[0]
    # 7 tasks: 6.2d passed; 6.1a, 6.2a, 6.2b, 6.3b short of full marks; 6.2c error; 6.1b manual
    assert (suite.tests, suite.failures, suite.errors, suite.skipped) == (7, 4, 1, 1)
    cases = {case.name: case for case in suite}
    assert "6.2a Derivative of the sigmoid" in cases
    assert all(case.classname == "sheet06" for case in suite)
    kinds = {name: [type(r).__name__ for r in case.result] for name, case in cases.items()}
    assert kinds["6.2d Taylor coefficients"] == []
    assert kinds["6.2c A sigmoid that does not overflow"] == ["Error"]
    assert kinds["6.1b Empirical vs data-generating distribution"] == ["Skipped"]
    assert kinds["6.2a Derivative of the sigmoid"] == ["Failure"]
    failure = cases["6.1a Likelihood and the Gaussian MLE"].result[0]
    assert failure.message == "1/2 points (partial)"
    assert "The variance divides by m - 1" in failure.text
    error = cases["6.2c A sigmoid that does not overflow"].result[0]
    assert "line 14 of your file" in error.message


def test_junit_hides_hidden_checks_and_survives_hostile_text(tmp_path, realistic, hostile, broken):
    text = junit_xml(realistic)
    for secret in HIDDEN:
        assert secret not in text
    assert "A hidden check did not pass." in text
    hostile_text = junit_xml(hostile)
    assert "\x1b" not in hostile_text and "\x07" not in hostile_text
    assert SCRIPT not in hostile_text  # escaped as XML
    xml = _read(tmp_path, hostile_text)
    suite = next(iter(xml))
    assert (suite.tests, suite.failures, suite.skipped) == (2, 1, 1)
    broken_suite = next(iter(_read(tmp_path, junit_xml(broken))))
    assert broken_suite.errors == 2


def test_gradescope_schema(realistic):
    data = gradescope_json(realistic)
    json.dumps(data)  # serialisable
    assert set(data) >= {"score", "tests"}
    for t in data["tests"]:
        assert set(t) == {"score", "max_score", "name", "number", "output", "status", "visibility"}
        assert t["status"] in ("passed", "failed")
        assert t["visibility"] in ("visible", "after_published")
        assert isinstance(t["score"], float | int) and isinstance(t["max_score"], float | int)
        assert isinstance(t["output"], str) and isinstance(t["number"], str)
    assert data["score"] == sum(t["score"] for t in data["tests"])
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert len(hidden) == 2
    assert {t["output"] for t in hidden} == {
        "A hidden check passed.",
        "A hidden check did not pass.",
    }
    # manual 6.1b is left to Gradescope's own hand grading, and said so
    assert not [t for t in data["tests"] if t["number"].startswith("6.1b")]
    assert "6.1b" in data["output"]
    assert data["stdout_visibility"] == "hidden"
    text = json.dumps(data, ensure_ascii=False)
    for secret in HIDDEN:
        assert secret not in text
    assert "epoch 1 loss" not in text


def test_gradescope_import_error(broken):
    data = gradescope_json(broken)
    assert data["score"] == 0
    assert "could not be run" in data["output"]


def test_step_summary_markdown(realistic, hostile):
    md = step_summary_markdown(realistic)
    lines = md.splitlines()
    assert "| Task | Status | Points | Feedback |" in lines
    rows = [line for line in lines if line.startswith("| 6.")]
    assert len(rows) == len(realistic.tasks)
    assert all(row.count(" | ") == 3 for row in rows)  # pipes in content never break the table
    assert "**5 / 14 points**" in md
    for secret in HIDDEN:
        assert secret not in md
    evil = step_summary_markdown(hostile)
    assert "<script" not in evil and "\x1b" not in evil
    assert "&lt;script&gt;" in evil
    rows = [line for line in evil.splitlines() if line.startswith("| 6.")]
    assert all(row.count(" | ") == 3 for row in rows)


def test_step_summary_makes_no_mentions_or_links_from_student_text(realistic):
    from dataclasses import replace

    from grader.results import Author

    result = replace(
        realistic,
        authors=(Author("@octocat see https://evil.example/login and www.evil.example #12"),),
        submission="@team.py",
    )
    md = step_summary_markdown(result)
    assert "@octocat" not in md and "@team" not in md
    assert "@&#8203;octocat" in md and "@&#8203;team.py" in md
    assert "https://" not in md and "https&#58;//evil.example/login" in md
    assert "www.evil" not in md and "www&#46;evil.example" in md
    assert "#12" not in md
