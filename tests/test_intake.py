"""Which files are hand-ins, what are they called, and which are refused before anything
reads them?"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from grader.batch import grade_batch
from grader.intake import (
    MAX_HANDIN_BYTES,
    HandInRefused,
    file_digest,
    find_handins,
    read_limited,
    text_name,
    vet,
)
from tests.conftest import SUBMISSIONS


def names(paths: list[Path]) -> list[str]:
    return [h.name for h in find_handins(paths).handins]


def test_a_hand_in_is_its_path_relative_to_the_path_given(tmp_path: Path) -> None:
    for name in ["a/hw.py", "b/hw.py", "top.py", "_helper.py", ".hidden.py", "notes.txt",
                 ".git/x.py", "c/__pycache__/y.py", "c/d/deep.py"]:
        (tmp_path / "subs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "subs" / name).write_text("x = 1\n")
    assert names([tmp_path / "subs"]) == ["a/hw.py", "b/hw.py", "c/d/deep.py", "top.py"]
    # a file given directly is its file name; the same file twice is one hand-in
    assert names([tmp_path / "subs" / "a" / "hw.py", tmp_path / "subs"])[:1] == ["hw.py"]
    assert len(names([tmp_path / "subs", tmp_path / "subs" / "top.py"])) == 4


def test_two_paths_with_the_same_names_stay_apart(tmp_path: Path) -> None:
    for folder in ("monday", "tuesday"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "hw.py").write_text("x = 1\n")
    assert names([tmp_path / "monday", tmp_path / "tuesday"]) == ["hw.py", "tuesday/hw.py"]


def test_links_that_lead_outside_the_folder_are_skipped_with_a_reason(tmp_path: Path) -> None:
    subs, elsewhere = tmp_path / "subs", tmp_path / "elsewhere"
    subs.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.py").write_text("TOKEN = 'x'\n")
    (subs / "real.py").write_text("x = 1\n")
    (subs / "inside.py").symlink_to(subs / "real.py")
    (subs / "outside.py").symlink_to(elsewhere / "secret.py")
    (subs / "etc.py").symlink_to("/etc/passwd")
    (subs / "folder").symlink_to(elsewhere)
    found = find_handins([subs])
    assert [h.name for h in found.handins] == ["real.py"]  # inside.py is real.py again
    skipped = {s.name: s.reason for s in found.skipped}
    assert set(skipped) == {"outside.py", "etc.py", "folder"}
    assert "a symbolic link to /etc/passwd, outside" in skipped["etc.py"]
    assert all(reason.endswith("not graded") for reason in skipped.values())


def test_names_that_are_not_utf8_are_stable_text(tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9.py"
    with open(raw, "w") as fh:
        fh.write("x = 1\n")
    assert names([tmp_path]) == ["caf\\xe9.py"] == [text_name(os.fsdecode(b"caf\xe9.py"))]
    assert text_name("Zoë.py") == "Zoë.py"


def test_large_sparse_and_special_files_are_refused_unread(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.py"
    with sparse.open("wb") as fh:
        fh.truncate(64 * 1024**3)  # 64 GiB of holes: reading it would exhaust memory
    with pytest.raises(HandInRefused, match=r"64 GiB \(mostly holes: a sparse file\), more than"):
        vet(sparse)
    with pytest.raises(HandInRefused, match="more than the 16 MiB"):
        file_digest(sparse)
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)  # opening it for reading would block for ever
    with pytest.raises(HandInRefused, match="not a regular file"):
        vet(fifo)


def test_hashing_streams_and_matches(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    path = tmp_path / "big.py"
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()
    assert read_limited(path) == data
    with pytest.raises(HandInRefused, match="more than the 1 MiB"):
        file_digest(path, limit=1024 * 1024)
    assert MAX_HANDIN_BYTES == 16 * 1024 * 1024


def test_an_unreadable_hand_in_is_refused(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    import grader.intake as intake

    path = tmp_path / "locked.py"
    path.write_text("x = 1\n")
    path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make the file unreadable for this test
        real_open = os.open
        monkeypatch.setattr(intake.os, "access", lambda p, mode: Path(p) != path)

        def denied(p, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            if Path(p) == path:
                raise PermissionError(13, "Permission denied", str(p))
            return real_open(p, *args, **kwargs)

        monkeypatch.setattr(intake.os, "open", denied)
    with pytest.raises(HandInRefused, match="cannot be read: permission denied"):
        vet(path)
    with pytest.raises(HandInRefused, match="cannot be read: Permission denied"):
        file_digest(path)


def test_a_refused_hand_in_is_an_error_result_and_the_batch_goes_on(
    tmp_path: Path, sheet06  # noqa: ANN001
) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SUBMISSIONS / "reference.py", subs / "good.py")
    with (subs / "sparse.py").open("wb") as fh:
        fh.truncate(64 * 1024**3)
    os.mkfifo(subs / "pipe.py")
    batch = grade_batch(sheet=sheet06, paths=[subs], out_dir=tmp_path / "out", jobs=1)
    results = {i.name: i.result for i in batch.items}
    assert results["good.py"].auto_score == 20
    for name, why in (("sparse.py", "64 GiB"), ("pipe.py", "not a regular file")):
        r = results[name]
        assert r.score == 0 and why in (r.import_error or ""), name
        assert {t.status for t in r.tasks} == {"error"}
        assert (tmp_path / "out" / "handins" / Path(name).stem / "report.html").is_file()
    assert batch.gradebook.is_file()
    # looked at again on the next run (never reused), still without reading it
    again = grade_batch(sheet=sheet06, paths=[subs], out_dir=tmp_path / "out", jobs=1)
    assert {i.name for i in again.items if not i.reused} == {"sparse.py", "pipe.py"}
