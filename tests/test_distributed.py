"""The dask executor grades exactly like the local batch and writes the same files."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import SUBMISSIONS

#: a few hand-ins with different fates: full marks, wrong answers, does not import
PICK = ["reference.py", "lost_signs.py", "variance_and_overflow.py", "syntax_error.py"]


def _comparable(out: Path) -> dict[str, dict]:
    found = {}
    for result in sorted(out.glob("handins/*/result.json")):
        data = json.loads(result.read_text(encoding="utf-8"))
        data.pop("seconds", None)
        found[result.parent.name] = data
    return found


@pytest.fixture(scope="module")
def handins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("handins")
    for name in PICK:
        if (SUBMISSIONS / name).exists():
            shutil.copy(SUBMISSIONS / name, folder / name)
    assert any(folder.iterdir())
    return folder


@pytest.fixture(scope="module")
def cluster():  # noqa: ANN201
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=50,
    ) as c:
        yield c


@pytest.mark.slow
def test_dask_results_equal_local(sheet06, handins: Path, cluster, tmp_path: Path) -> None:  # noqa: ANN001
    from grader.batch import grade_batch
    from grader.distributed import grade_batch_dask

    local = grade_batch(sheet=sheet06, paths=[handins], out_dir=tmp_path / "local", jobs=1)
    seen = []
    remote = grade_batch_dask(
        sheet=sheet06, paths=[handins], out_dir=tmp_path / "dask",
        scheduler=cluster.scheduler_address, progress=seen.append,
    )
    assert len(remote.items) == len(local.items) == len(list(handins.glob("*.py")))
    assert remote.graded == len(remote.items) and len(seen) == len(remote.items)
    a, b = _comparable(tmp_path / "local"), _comparable(tmp_path / "dask")
    assert a.keys() == b.keys()
    for stem in a:
        def verdicts(data: dict) -> tuple:
            return data["score"], [(t["id"], t["status"], t["score"]) for t in data["tasks"]]

        assert verdicts(b[stem]) == verdicts(a[stem]), stem
        assert b[stem] == a[stem], stem  # feedback, keys, authors too
    assert (tmp_path / "dask" / "gradebook.csv").read_text() == (
        tmp_path / "local" / "gradebook.csv"
    ).read_text()
    assert (tmp_path / "dask" / "summary.html").exists()
    assert all((tmp_path / "dask" / "handins" / stem / "report.html").exists() for stem in b)


@pytest.mark.slow
def test_dask_resumes_and_accepts_a_client(sheet06, handins: Path, cluster, tmp_path: Path) -> None:  # noqa: ANN001
    from distributed import Client

    from grader.batch import grade_batch
    from grader.distributed import grade_batch_dask

    out = tmp_path / "out"
    grade_batch(sheet=sheet06, paths=[handins], out_dir=out, jobs=1)
    before = {p: p.stat().st_mtime_ns for p in out.glob("handins/*/result.json")}
    with Client(cluster) as client:
        again = grade_batch_dask(sheet=sheet06, paths=[handins], out_dir=out, scheduler=client)
        assert again.graded == 0 and len(again.items) == len(before)
        assert {p: p.stat().st_mtime_ns for p in out.glob("handins/*/result.json")} == before
        forced = grade_batch_dask(
            sheet=sheet06, paths=[handins], out_dir=out, scheduler=client, force=True
        )
        assert forced.graded == len(before)
        assert client.status == "running"  # a client passed in stays open


def test_missing_dask_says_what_to_install(monkeypatch, sheet06, tmp_path: Path) -> None:  # noqa: ANN001
    from grader.distributed import grade_batch_dask
    from grader.errors import UsageError

    monkeypatch.setitem(sys.modules, "distributed", None)
    (tmp_path / "a.py").write_text("x = 1\n")
    with pytest.raises(UsageError, match=r"grader\[dask\]"):
        grade_batch_dask(
            sheet=sheet06, paths=[tmp_path], out_dir=tmp_path / "out", scheduler="tcp://x:1"
        )
