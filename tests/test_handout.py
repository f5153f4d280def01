"""`grader handout`: three students, three sheets with different numbers, and a key."""

from __future__ import annotations

from pathlib import Path

from grader.cli import main
from tests.conftest import SHEET06


def test_three_students_get_three_sheets_with_their_own_numbers(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n1001,Ada\n1002,Alan\n1003,Emmy\n", encoding="utf-8")
    out = tmp_path / "handout"
    assert main(["handout", str(SHEET06), "--roster", str(roster), "--out", str(out)]) == 0
    sheets = {
        s: (out / s / "sheet.md").read_text(encoding="utf-8") for s in ("1001", "1002", "1003")
    }
    givens = {s: text[text.index("Given:") :] for s, text in sheets.items()}
    assert len(set(givens.values())) == 3
    assert (
        "For **Ada** (1001)." in sheets["1001"]
        and "def forward(x, W1, b1, W2, b2):" in sheets["1001"]
    )
    html = (out / "1002" / "sheet.html").read_text(encoding="utf-8")
    assert "Alan" in html and "<script" not in html
    key = (out / "key.md").read_text(encoding="utf-8")
    assert key.count("| PREDICTED_CLASS |") == 3 and "| 1003 | Emmy |" in key
    assert (out / "key.csv").read_text(encoding="utf-8").startswith("id,name,task,answer")
