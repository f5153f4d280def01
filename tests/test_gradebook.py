"""Does `grader grade` give every author a row, and merge the scores an instructor writes?"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import pytest

from grader.cli import main
from tests.conftest import SHEET06, SUBMISSIONS

# slow: whole batches, graded again and again
pytestmark = pytest.mark.slow


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_gradebook_manual_scores_and_result_json(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ["seed_group.py", "reference.py"]:
        shutil.copy(SUBMISSIONS / name, subs / name)
    out = tmp_path / "out"
    assert (
        main(["grade", str(SHEET06), str(subs), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    )

    book = rows(out / "gradebook.csv")
    assert [r["name"] for r in book] == [
        "Anna Krasilnikova",
        "Mirza Misbah Mubeen Baig",
        "Reference Solution",
        "Shahzain Mehboob",
    ]
    seed_rows = [r for r in book if r["submission"] == "seed_group.py"]
    assert {r["total"] for r in seed_rows} == {seed_rows[0]["total"]} and len(seed_rows) == 3
    assert all(r["pending_manual"] == "6.1b" for r in book)
    assert list(book[0])[3:13] == [
        "6.1a",
        "6.1b",
        "6.1c",
        "6.1d",
        "6.2a",
        "6.2b",
        "6.2c",
        "6.2d",
        "6.3a",
        "6.3b",
    ]

    result = json.loads((out / "handins" / "reference" / "result.json").read_text(encoding="utf-8"))
    assert {"submission", "sheet", "authors", "score", "max_score", "tasks"} <= set(result)
    assert result["authors"] == [{"name": "Reference Solution", "id": "0000000"}]
    assert (result["score"], result["max_score"]) == (20, 22)
    assert [t["id"] for t in result["tasks"]][:2] == ["6.1a", "6.1b"]
    assert {t["status"] for t in result["tasks"]} == {"passed", "manual"}

    # The instructor grades the essay of the reference hand-in and reruns.
    manual = out / "manual_scores.csv"
    pending = rows(manual)
    assert {(r["submission"], r["task"]) for r in pending} == {
        ("seed_group.py", "6.1b"),
        ("reference.py", "6.1b"),
    }
    assert "data-generating distribution" in next(
        r["answer"] for r in pending if r["submission"] == "reference.py"
    )
    for r in pending:
        if r["submission"] == "reference.py":
            r["score"], r["comment"] = "1.5", "Clear, but say why p_hat converges."
    with manual.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(pending[0]))
        writer.writeheader()
        writer.writerows(pending)

    assert (
        main(["grade", str(SHEET06), str(subs), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    )
    ref = json.loads((out / "handins" / "reference" / "result.json").read_text(encoding="utf-8"))
    essay = next(t for t in ref["tasks"] if t["id"] == "6.1b")
    assert (essay["status"], essay["score"]) == ("partial", 1.5)
    assert "Clear, but say why p_hat converges." in essay["feedback"]
    assert ref["score"] == 21.5
    book = rows(out / "gradebook.csv")
    assert next(r for r in book if r["name"] == "Reference Solution")["total"] == "21.5"
    # the score the instructor typed is kept, the other row still waits
    again = {(r["submission"], r["score"]) for r in rows(manual)}
    assert again == {("reference.py", "1.5"), ("seed_group.py", "")}


def test_a_hand_in_the_grader_failed_on_is_graded_again(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import grader.batch as batch
    from grader.sheet.loader import load_sheet

    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SUBMISSIONS / "reference.py", subs / "reference.py")
    sheet = load_sheet(SHEET06)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker lost")

    monkeypatch.setattr(batch, "grade_submission", broken)
    first = batch.grade_batch(sheet=sheet, paths=[subs], out_dir=tmp_path / "out", jobs=1)
    assert first.items[0].result.score == 0
    assert "the grader failed on this hand-in" in (first.items[0].result.import_error or "")
    monkeypatch.undo()
    second = batch.grade_batch(sheet=sheet, paths=[subs], out_dir=tmp_path / "out", jobs=1)
    assert second.graded == 1 and second.items[0].result.auto_score == 20


# ----------------------------------------------------------------- helpers for the rest
REFERENCE = (SUBMISSIONS / "reference.py").read_text(encoding="utf-8")


def grade(subs: Path, out: Path, *extra: str) -> int:
    args = ["grade", str(SHEET06), str(subs), "--out", str(out), "--jobs", "1", "--quiet"]
    return main([*args, *extra])


def write_rows(path: Path, header: list[str], body: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(body)


def handin(
    folder: Path, name: str, *, authors: str | None = None, essay: str | None = None
) -> Path:
    text = REFERENCE
    if authors is not None:
        text = text.replace('AUTHORS = [("Reference Solution", "0000000")]', f"AUTHORS = {authors}")
    if essay is not None:
        start = text.index("EMPIRICAL_VS_DATA_GENERATING = (")
        end = text.index(")\n", start) + 2
        text = text[:start] + f"EMPIRICAL_VS_DATA_GENERATING = {essay!r}\n" + text[end:]
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def result_json(out: Path, folder: str) -> dict:
    return json.loads((out / "handins" / folder / "result.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------- manual answers
def test_manual_answers_survive_any_number_of_reruns(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    handin(subs, "ann.py", essay="Ann's own words about p_data and p_hat.")
    handin(subs, "ben.py", essay="Ben writes something else entirely, at some length.")
    for run in range(4):
        assert grade(subs, out) == 0
        answers = {r["submission"]: r["answer"] for r in rows(out / "manual_scores.csv")}
        assert answers == {
            "ann.py": "Ann's own words about p_data and p_hat.",
            "ben.py": "Ben writes something else entirely, at some length.",
        }, f"run {run + 1}"
        stored = result_json(out, "ann")
        essay = next(t for t in stored["tasks"] if t["id"] == "6.1b")
        assert essay["manual_answer"] == "Ann's own words about p_data and p_hat."
    # an instructor's score and comment are kept through further reruns too
    body = rows(out / "manual_scores.csv")
    for r in body:
        r["score"], r["comment"] = ("2", "Good.") if r["submission"] == "ann.py" else ("", "")
    write_rows(out / "manual_scores.csv", list(body[0]), body)
    for _ in range(3):
        assert grade(subs, out) == 0
        again = {r["submission"]: r for r in rows(out / "manual_scores.csv")}
        assert again["ann.py"]["score"] == "2" and again["ann.py"]["comment"] == "Good."
        assert again["ann.py"]["answer"] == "Ann's own words about p_data and p_hat."
        assert again["ben.py"]["answer"].startswith("Ben writes")


# ----------------------------------------------------------------- formula injection
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


def test_names_and_answers_never_reach_a_spreadsheet_as_formulas(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    names = [(f, str(i)) for i, f in enumerate(FORMULAS)]
    handin(subs, "evil.py", authors=repr(names), essay="=1+1 is my essay")
    handin(subs, "=cmd.py")
    handin(subs, "tab.py", essay="\t=2+2 after a tab")
    assert grade(subs, out) == 0
    book = rows(out / "gradebook.csv")
    by_id = {r["id"]: r for r in book if r["submission"] == "evil.py"}
    for i, formula in enumerate(FORMULAS):
        cell, name = by_id[str(i)]["name"], formula.strip()  # AUTHORS names are stripped
        # read back, a formula is text that starts with a quote: no spreadsheet evaluates it
        assert cell == ("'" + name if name[0] in "=+-@" else name)
    assert {r["submission"] for r in book} == {"evil.py", "'=cmd.py", "tab.py"}
    # scores stay numbers, not quoted text
    assert all(r["total"].replace(".", "").isdigit() for r in book)
    manual = {r["submission"]: r for r in rows(out / "manual_scores.csv")}
    assert manual["evil.py"]["answer"] == "'=1+1 is my essay"
    assert manual["tab.py"]["answer"] == "'\t=2+2 after a tab"
    assert "'=cmd.py" in manual

    # the quoted name still matches its hand-in when the instructor enters a score
    body = rows(out / "manual_scores.csv")
    for r in body:
        r["score"] = "1.5"
    write_rows(out / "manual_scores.csv", list(body[0]), body)
    assert grade(subs, out) == 0
    cmd = result_json(out, "=cmd")
    assert next(t for t in cmd["tasks"] if t["id"] == "6.1b")["score"] == 1.5


def test_csv_cells() -> None:
    from grader.output import csv_number, csv_text, csv_unquote

    assert csv_text("=A1") == "'=A1" and csv_text("Anna") == "Anna"
    assert csv_number("-1.5") == "-1.5" and csv_number("12") == "12"
    assert csv_number("-1+2") == "'-1+2"  # not a number: text, neutralised
    for cell in ("=A1", "+1", "-x", "@x", "\tx", "\rx", "plain", "'quoted"):
        assert csv_unquote(csv_text(cell)) == cell


# ----------------------------------------------------------------- names and folders
def test_hand_ins_are_their_path_and_never_collide_with_class_files(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in [
        "a/hw.py",
        "b/hw.py",
        "gradebook.csv.py",
        "summary.html.py",
        "manual_scores.csv.py",
        "instructor.html.py",
        "handins.py",
    ]:
        handin(subs, name)
    for _ in range(2):  # the second run into the same folder works as well as the first
        assert grade(subs, out) == 0
        assert (out / "gradebook.csv").is_file() and (out / "summary.html").is_file()
        assert (out / "manual_scores.csv").is_file() and (out / "instructor.html").is_file()
    assert result_json(out, "a/hw")["submission"] == "a/hw.py"
    assert result_json(out, "b/hw")["submission"] == "b/hw.py"
    assert result_json(out, "gradebook.csv")["submission"] == "gradebook.csv.py"
    book = rows(out / "gradebook.csv")
    assert sorted(r["submission"] for r in book) == sorted(
        [
            "a/hw.py",
            "b/hw.py",
            "gradebook.csv.py",
            "summary.html.py",
            "manual_scores.csv.py",
            "instructor.html.py",
            "handins.py",
        ]
    )
    manual = {r["submission"] for r in rows(out / "manual_scores.csv")}
    assert {"a/hw.py", "b/hw.py"} <= manual
    summary = (out / "summary.html").read_text(encoding="utf-8")
    assert 'href="handins/a/hw/report.html"' in summary
    assert 'href="handins/b/hw/report.html"' in summary

    # a score written for a/hw.py is a/hw.py's alone
    body = rows(out / "manual_scores.csv")
    for r in body:
        r["score"] = "2" if r["submission"] == "a/hw.py" else ""
    write_rows(out / "manual_scores.csv", list(body[0]), body)
    assert grade(subs, out) == 0
    a, b = result_json(out, "a/hw"), result_json(out, "b/hw")
    assert (a["score"], b["score"]) == (22, 20)


def test_a_file_name_that_is_not_utf8_keeps_its_manual_score(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    raw = os.fsencode(subs) + b"/m\xfcller.py"  # latin-1 bytes, not UTF-8
    with open(raw, "w", encoding="utf-8") as fh:
        fh.write(REFERENCE)
    assert grade(subs, out) == 0
    body = rows(out / "manual_scores.csv")
    assert [r["submission"] for r in body] == ["m\\xfcller.py"]
    body[0]["score"] = "1"
    write_rows(out / "manual_scores.csv", list(body[0]), body)
    for _ in range(2):
        assert grade(subs, out) == 0
        stored = json.loads(
            (out / "handins" / "m\\xfcller" / "result.json").read_text(encoding="utf-8")
        )
        assert stored["submission"] == "m\\xfcller.py" and stored["score"] == 21
        assert [r["score"] for r in rows(out / "manual_scores.csv")] == ["1"]


# ------------------------------------------------------------------------ overrides
def test_an_override_changes_a_score_with_its_reason_and_survives_reruns(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    shutil.copy(SUBMISSIONS / "lost_signs.py", subs / "lost_signs.py")
    assert grade(subs, out) == 0
    before = result_json(out, "lost_signs")
    task = next(t for t in before["tasks"] if t["id"] == "6.2a")
    assert task["score"] == 0
    # grader grade created overrides.csv with its header, for the instructor to fill in
    assert rows(out / "overrides.csv") == []
    reason = "Regrade request: the sign slip is a typo in an otherwise right derivation."
    write_rows(
        out / "overrides.csv",
        ["submission", "task", "score", "reason"],
        [{"submission": "lost_signs.py", "task": "6.2a", "score": "1.5", "reason": reason}],
    )
    for _ in range(3):
        assert grade(subs, out) == 0
        after = result_json(out, "lost_signs")
        task = next(t for t in after["tasks"] if t["id"] == "6.2a")
        assert (task["score"], task["status"]) == (1.5, "partial")
        assert task["override"] == {"score": 1.5, "reason": reason, "auto_score": 0}
        assert after["score"] == before["score"] + 1.5
        report = (out / "handins" / "lost_signs" / "report.html").read_text(encoding="utf-8")
        assert "Score changed by the instructor" in report and "Regrade request" in report
        instructor = (out / "instructor.html").read_text(encoding="utf-8")
        assert "Regrade request" in instructor
        book = rows(out / "gradebook.csv")[0]
        assert book["6.2a"] == "1.5"


def test_scores_outside_the_points_are_refused_not_capped(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    subs, out = tmp_path / "subs", tmp_path / "out"
    handin(subs, "ann.py")
    assert grade(subs, out) == 0
    body = rows(out / "manual_scores.csv")
    body[0]["score"] = "5"  # 6.1b is worth 2
    write_rows(out / "manual_scores.csv", list(body[0]), body)
    capsys.readouterr()
    assert grade(subs, out) == 2
    err = capsys.readouterr().err
    assert f"{out / 'manual_scores.csv'}:2: ann.py 6.1b: the score 5 is outside 0 … 2" in err
    assert "Nothing was graded" in err
    assert result_json(out, "ann")["score"] == 20  # the stored result is untouched

    body[0]["score"] = "-1"
    write_rows(out / "manual_scores.csv", list(body[0]), body)
    assert grade(subs, out) == 2
    assert "the score -1 is outside 0 … 2" in capsys.readouterr().err

    body[0]["score"] = "2"
    write_rows(out / "manual_scores.csv", list(body[0]), body)
    write_rows(
        out / "overrides.csv",
        ["submission", "task", "score", "reason"],
        [
            {"submission": "ann.py", "task": "6.2a", "score": "3", "reason": "too generous"},
            {"submission": "ann.py", "task": "6.2b", "score": "1", "reason": ""},
            {"submission": "ann.py", "task": "6.9", "score": "1", "reason": "no such task"},
            {"submission": "ann.py", "task": "6.1b", "score": "1", "reason": "by hand"},
            {"submission": "ann.py", "task": "6.2c", "score": "two", "reason": "words"},
        ],
    )
    assert grade(subs, out) == 2
    err = capsys.readouterr().err
    where = out / "overrides.csv"
    assert f"{where}:2: ann.py 6.2a: the score 3 is outside 0 … 2" in err
    assert f"{where}:3: ann.py 6.2b: an override needs a reason" in err
    assert f"{where}:4: ann.py 6.9: the sheet has no task '6.9'" in err
    assert f"{where}:5: ann.py 6.1b: task 6.1b is graded by hand" in err
    assert f"{where}:6: ann.py 6.2c: the score 'two' is not a number" in err


def test_grading_refuses_an_out_of_range_score_given_through_the_api(sheet06) -> None:  # noqa: ANN001
    import pytest

    from grader.grading import GradeOptions, grade_submission
    from grader.instructor_scores import ManualScore

    options = GradeOptions(manual_scores={("reference.py", "6.1b"): ManualScore(3.0)})
    with pytest.raises(ValueError, match="outside 0 … 2"):
        grade_submission(sheet06, SUBMISSIONS / "reference.py", options=options)


# --------------------------------------------------------------------- --task ID
def test_task_option_regrades_one_task_and_keeps_the_rest(tmp_path: Path) -> None:
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    shutil.copy(SUBMISSIONS / "lost_signs.py", subs / "lost_signs.py")
    assert grade(subs, out) == 0
    path = out / "handins" / "lost_signs" / "result.json"
    stored = json.loads(path.read_text(encoding="utf-8"))
    # mark two tasks' stored feedback: only the task named by --task may lose its mark
    for task in stored["tasks"]:
        if task["id"] in ("6.2a", "6.3b"):
            task["feedback"] = ["MARK"]
            for check in task["checks"]:
                check["feedback"] = ["MARK"]
    path.write_text(json.dumps(stored), encoding="utf-8")
    assert grade(subs, out, "--task", "6.2a") == 0
    again = json.loads(path.read_text(encoding="utf-8"))
    by_id = {t["id"]: t for t in again["tasks"]}
    assert "MARK" not in by_id["6.2a"]["feedback"]
    assert by_id["6.2a"]["feedback"] and by_id["6.2a"]["score"] == 0
    assert by_id["6.3b"]["feedback"] == ["MARK"]  # kept from the stored result
    assert [t["id"] for t in again["tasks"]] == [t["id"] for t in stored["tasks"]]
    assert again["score"] == stored["score"]
    # a plain rerun reuses the merged result: nothing changed since
    assert grade(subs, out) == 0
    assert json.loads(path.read_text(encoding="utf-8"))["tasks"] == again["tasks"]


def test_task_option_runs_only_that_tasks_probes(sheet06) -> None:  # noqa: ANN001
    from grader.grading import GradeOptions, grade_submission
    from grader.sandbox.runner import RunReport

    asked: list[str] = []

    def runner(path, probes, limits):  # noqa: ANN001, ANN202
        asked.extend(p.id for p in probes)
        return RunReport(outcomes={})

    options = GradeOptions(tasks=frozenset({"6.2d"}))
    result = grade_submission(sheet06, SUBMISSIONS / "reference.py", options=options, runner=runner)
    assert [t.task_id for t in result.tasks] == ["6.2d"]
    assert asked and all(p == "meta/authors" or p.startswith("6.2d") for p in asked), asked


def test_an_unknown_task_is_a_usage_error(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    subs = tmp_path / "subs"
    handin(subs, "ann.py")
    assert grade(subs, tmp_path / "out", "--task", "6.9") == 2
    assert "--task 6.9: the sheet has no such task" in capsys.readouterr().err
