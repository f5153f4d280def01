"""Per-student variants: does each student get their own numbers, is a correct hand-in
graded full with its own and told when its answers are another student's, and does a bad
roster say what is wrong without stopping the batch?"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from grader.batch import grade_batch
from grader.cli import main
from grader.errors import SheetError
from grader.variants import RosterError, load_variant, read_roster, variant_given
from tests.conftest import SHEET06, SUBMISSIONS

ROSTER = "id,name\n" + "".join(f"{1001 + k},Student {k + 1}\n" for k in range(6))


def roster_file(tmp_path: Path, text: str = ROSTER) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def predicted_class(sheet, student: str) -> int:  # noqa: ANN001
    net = variant_given(sheet, student)["net"]
    x, W1, b1, W2, b2 = (np.asarray(net[k], dtype=float) for k in ("x", "W1", "b1", "W2", "b2"))
    return int(np.argmax(W2 @ np.maximum(W1 @ x + b1, 0) + b2))


def gradients_at(sheet, student: str) -> tuple[int, int]:  # noqa: ANN001
    point = variant_given(sheet, student)["point"]
    a, b = point["a"], point["b"]
    return b + 1, a + 2 * b + 1


def correct_handin(sheet, student: str, folder: Path) -> Path:  # noqa: ANN001
    """The reference solution as this student would hand it in: their AUTHORS, and the
    predicted class of their own network written as a number."""
    text = (SUBMISSIONS / "reference.py").read_text(encoding="utf-8")
    text = text.replace(
        'AUTHORS = [("Reference Solution", "0000000")]', f'AUTHORS = [("S", "{student}")]'
    )
    text = text.replace(
        "PREDICTED_CLASS = 0", f"PREDICTED_CLASS = {predicted_class(sheet, student)}"
    )
    path = folder / f"{student}.py"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_student_gets_their_own_numbers_the_same_every_time(sheet06) -> None:  # noqa: ANN001
    given = {s: variant_given(sheet06, s) for s in ("1001", "1002", "1003")}
    nets = [str(g["net"]) for g in given.values()]
    assert len(set(nets)) == 3
    assert variant_given(sheet06, "1001") == given["1001"]
    # and each is sensible: one hidden unit cut by ReLU, a clear winner
    for g in given.values():
        net = {k: np.asarray(v, dtype=float) for k, v in g["net"].items()}
        h = net["W1"] @ net["x"] + net["b1"]
        assert h.min() < 0 < h.max()


def test_a_variant_shares_every_check_that_does_not_use_its_numbers(sheet06) -> None:  # noqa: ANN001
    variant = load_variant(sheet06, "1001")
    base = {c.check_id: c for t in sheet06.tasks for c in t.checks}
    for task in variant.tasks:
        for check in task.checks:
            shared = check is base[check.check_id]
            assert shared == (task.spec.id not in ("6.3a", "6.3b")), check.check_id
    assert variant.digest != sheet06.digest and variant.variant == "1001"


@pytest.mark.slow
def test_a_correct_hand_in_is_full_with_its_own_variant_and_told_with_anothers(
    sheet06,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    students = ["1001", "1002", "1003"]
    victim, owner = students[0], students[1]
    subs = tmp_path / "subs"
    subs.mkdir()
    for s in students:
        correct_handin(sheet06, s, subs)
    # the owner's values of 6.3b, copied as numbers into a hand-in under another's name
    copied = (subs / f"{owner}.py").read_text(encoding="utf-8").replace(f'"{owner}"', f'"{victim}"')
    copied += f"\n\ndef gradients(a, b):\n    return {gradients_at(sheet06, owner)}\n"
    (subs / "copy_of_owner.py").write_text(copied, encoding="utf-8")
    roster = read_roster(roster_file(tmp_path))
    out = tmp_path / "out"
    batch = grade_batch(sheet=sheet06, paths=[subs], out_dir=out, jobs=2, roster=roster)
    results = {i.name: i.result for i in batch.items}
    for s in students:
        r = results[f"{s}.py"]
        assert (r.variant, r.auto_score, r.auto_max_score) == (s, 20, 20), r.notes
    copy = results["copy_of_owner.py"]
    assert copy.variant == victim and copy.task("6.3b").score < 2
    assert any("numbers of another student's sheet" in n for n in copy.notes)
    assert owner in copy.other_variants and owner not in " ".join(copy.notes)
    rows = list(csv.DictReader((tmp_path / "out" / "gradebook.csv").open(encoding="utf-8")))
    row = next(r for r in rows if r["submission"] == "copy_of_owner.py")
    assert (row["variant"], row["other_variants"]) == (victim, owner)


@pytest.mark.slow
def test_an_author_not_in_the_roster_gets_the_sheets_numbers_flagged(
    sheet06,
    tmp_path: Path,  # noqa: ANN001
) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "stranger.py").write_text(
        (SUBMISSIONS / "reference.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    batch = grade_batch(
        sheet=sheet06, paths=[subs], out_dir=tmp_path / "out", jobs=1,
        roster=read_roster(roster_file(tmp_path)),
    )  # fmt: skip
    [item] = batch.items
    assert item.result.variant is None and item.result.auto_score == 20
    assert "is in the roster" in item.result.notes[0]
    [row] = csv.DictReader((tmp_path / "out" / "gradebook.csv").open(encoding="utf-8"))
    assert row["variant"] == "default"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("student,name\n1,A\n", "needs the columns id and name; id missing"),
        ("id,name\n1,A\n1,B\n", ":3: the id 1 appears twice"),
        ("id,name\n", "lists no students"),
        ("id,name\n,A\n", ":2: a row without an id"),
    ],
)
def test_a_bad_roster_says_what_is_wrong(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(RosterError, match=words):
        read_roster(roster_file(tmp_path, text))


def test_grade_with_a_bad_roster_exits_2_before_grading(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    roster = roster_file(tmp_path, "id,name\n1,A\n1,B\n")
    code = main(["grade", str(SHEET06), str(SUBMISSIONS / "reference.py"), "--roster",
                 str(roster), "--out", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert code == 2 and "appears twice" in capsys.readouterr().err


def test_check_with_a_student_id_uses_that_variant(sheet06, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    handin = correct_handin(sheet06, "1002", tmp_path)
    args = ["check", str(handin), "--sheet", str(SHEET06), "--out", str(tmp_path / "o"), "--json"]
    assert main([*args, "--student", "1002"]) == 0
    capsys.readouterr()


def test_variants_that_cannot_be_sensible_fail_validation(tmp_path: Path) -> None:
    text = SHEET06.read_text(encoding="utf-8").replace(
        "require:\n", 'require:\n    - "sum(x) > 1000"\n', 1
    )
    text = text.replace("solution: ../submissions/sheet06/reference.py", "")
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "sheet06_ref.py").write_text(
        (SHEET06.parent / "sheet06_ref.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    from grader.validate import validate_sheet

    with pytest.raises(SheetError, match="no sensible variant for sample-1 in 200 draws"):
        validate_sheet(tmp_path / "s.yaml")
