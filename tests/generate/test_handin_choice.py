"""Which file of a Gradescope upload is graded, and does the student learn why?"""

from __future__ import annotations

from pathlib import Path

from grader.generate.handin_choice import choose_handin


def upload(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "submission"
    folder.mkdir(parents=True)
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("x = 1\n", encoding="utf-8")
    return folder


def test_the_only_hand_in_is_graded_whatever_its_name(tmp_path: Path) -> None:
    folder = upload(tmp_path, "my answers.ipynb", "scan.pdf")
    choice = choose_handin(folder, sheet_id="sheet06")
    assert choice.path == folder / "my answers.ipynb"
    assert choice.note == "Graded my answers.ipynb, the only hand-in file in your upload."


def test_a_file_named_after_the_sheet_comes_first(tmp_path: Path) -> None:
    folder = upload(tmp_path, "helpers.py", "sheet06.ipynb", "notes.md")
    choice = choose_handin(folder, sheet_id="sheet06")
    assert choice.path == folder / "sheet06.ipynb"
    assert "named after the sheet" in choice.note
    assert "Not graded: helpers.py, notes.md." in choice.note


def test_code_is_graded_before_a_notebook_and_written_work(tmp_path: Path) -> None:
    folder = upload(tmp_path, "work.md", "work.ipynb", "work.py")
    choice = choose_handin(folder, sheet_id="sheet06")
    assert choice.path == folder / "work.py"
    assert "a Python file is graded before a notebook" in choice.note
    written = upload(tmp_path / "w", "answers.tex")
    assert choose_handin(written, sheet_id="sheet06").path == written / "answers.tex"


def test_a_repository_upload_skips_readme_hidden_folders_and_checkpoints(tmp_path: Path) -> None:
    folder = upload(
        tmp_path,
        "README.md",
        ".github/workflows/check.py",
        ".ipynb_checkpoints/hw-checkpoint.ipynb",
        "_helpers.py",
        "src/hw.py",
    )
    choice = choose_handin(folder, sheet_id="sheet06")
    assert choice.path == folder / "src" / "hw.py"
    assert choice.note == "Graded src/hw.py, the only hand-in file in your upload."


def test_between_equals_the_shallowest_then_the_first_by_name_is_graded(tmp_path: Path) -> None:
    folder = upload(tmp_path, "b.py", "a/a.py", "c.py")
    choice = choose_handin(folder, sheet_id="sheet06")
    assert choice.path == folder / "b.py"
    assert "the first by name" in choice.note and "Not graded: c.py, a/a.py." in choice.note


def test_an_upload_without_a_hand_in_says_what_it_holds(tmp_path: Path) -> None:
    folder = upload(tmp_path, "answers.pdf")
    choice = choose_handin(folder, sheet_id="sheet06")
    assert choice.path is None
    assert choice.note.startswith("No hand-in found: upload one Python file (.py)")
    assert "Your upload holds: answers.pdf." in choice.note
    empty = choose_handin(tmp_path / "nothing-uploaded", sheet_id="sheet06")
    assert empty.path is None and "Your upload is empty." in empty.note


def test_a_symbolic_link_is_never_graded(tmp_path: Path) -> None:
    """A link could lead to the reference module beside the upload on Gradescope's machine."""
    secret = tmp_path / "source" / "sheet06_ref.py"
    secret.parent.mkdir()
    secret.write_text("def likelihood(p, X, theta): ...\n", encoding="utf-8")
    folder = upload(tmp_path, "notes.md")
    (folder / "sheet06.py").symlink_to(secret)
    choice = choose_handin(folder, sheet_id="sheet06")
    assert choice.path == folder / "notes.md"
    assert choice.note.endswith("Not graded: sheet06.py (a symbolic link).")
    (folder / "notes.md").unlink()
    alone = choose_handin(folder, sheet_id="sheet06")
    assert alone.path is None and "Not graded: sheet06.py (a symbolic link)." in alone.note
