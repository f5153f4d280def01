"""Does `grader grade` give every author a row, and merge the scores an instructor writes?"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from grader.cli import main
from tests.conftest import SHEET06, SUBMISSIONS


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
