"""Does instructor.html put every answer waiting for a person in front of the instructor,
with the rubric, what was entered, the output, overrides and similar hand-ins?"""

from __future__ import annotations

from report_fixtures import (
    HIDDEN_FEEDBACK,
    HIDDEN_GIVEN,
    HIDDEN_SECRET,
    HIDDEN_WITNESS,
    RUBRIC,
    SCRIPT,
    hostile_result,
    overridden_result,
    realistic_result,
    similar_pairs,
)
from test_report_html import no_active_content

from grader.reports.instructor import render_instructor

LINKS = {
    "group07.py": "handins/group07/report.html",
    "carol.py": "handins/carol/report.html",
    f"evil{SCRIPT}.py": "javascript:alert(1)",
}


def page() -> str:
    return render_instructor(
        [realistic_result(), hostile_result(), overridden_result()],
        sheet_title="Sheet 6",
        report_links=LINKS,
        rubrics={"6.1b": RUBRIC},
        similar=similar_pairs(),
    )


def test_answers_waiting_for_a_person_come_with_the_rubric() -> None:
    html = page()
    assert "Answers graded by hand" in html
    assert "Rubric:</strong> Full marks: p_data is unknown, p_hat puts 1/m on each sample" in html
    assert "&lt;and&gt; converges" in html  # escaped
    assert "MANUAL-ANSWER: the empirical distribution is the data &lt;b&gt;we&lt;/b&gt;" in html
    assert html.count("waits for a score") == 2  # group07 and the hostile hand-in
    assert "<strong>2</strong> answers wait for a person" in html
    assert 'href="handins/group07/report.html"' in html


def test_a_score_already_entered_is_shown_with_its_comment() -> None:
    from dataclasses import replace

    realistic = realistic_result()
    essay = realistic.tasks[1]
    scored = replace(
        essay,
        score=1.5,
        status="partial",
        checks=tuple(
            replace(c, method="manual-scored", feedback=("Graded by hand.", "Say why."))
            for c in essay.checks
        ),
    )
    result = replace(realistic, tasks=(realistic.tasks[0], scored, *realistic.tasks[2:]))
    html = render_instructor([result], sheet_title="S", report_links={}, rubrics={})
    assert "<strong>1.5</strong> / 2 entered" in html
    assert "Comment entered:</strong> Say why." in html
    assert "waits for a score" not in html


def test_overrides_output_and_every_report_are_listed() -> None:
    html = page()
    assert "Regrade request: the slip in line 3 is a typo." in html
    assert "<td class=\"num\">2</td><td class=\"num\"><strong>1.5</strong> / 2</td>" in html
    assert "epoch 1 loss 0.69" in html  # captured output of each hand-in
    assert "pid namespace unavailable" in html
    for href in ("handins/group07/report.html", "handins/carol/report.html"):
        assert f'href="{href}"' in html
    assert 'href="summary.html"' in html and 'href="manual_scores.csv"' in html


def test_similar_hand_ins_show_every_pair_and_passage() -> None:
    html = page()
    assert "2 hand-ins with near-identical answers to 6.1b" in html
    assert "2 hand-ins with near-identical code" in html
    assert "93% shared" in html and "lines 8–12" in html and "lines 9–13" in html
    assert "Near-identical to the answer of carol.py" in html


def test_hostile_text_is_escaped_and_hidden_checks_stay_hidden() -> None:
    html = page()
    no_active_content(html)
    assert SCRIPT not in html and "javascript:" not in html
    for secret in (HIDDEN_SECRET, HIDDEN_GIVEN, HIDDEN_WITNESS, HIDDEN_FEEDBACK):
        assert secret not in html


def test_an_empty_class() -> None:
    html = render_instructor([], sheet_title="Empty", report_links={})
    assert "No task of this sheet is graded by hand." in html
    assert "No two hand-ins are near-identical" in html
