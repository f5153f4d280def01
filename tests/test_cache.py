"""The on-disk cache of reference-solver results (grader/cache.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sympy

import grader.cache as cache
from grader.checks import taylor
from grader.sheet.loader import load_sheet

# slow: loads sheets again and again
pytestmark = pytest.mark.slow


SHEET6 = Path(__file__).resolve().parents[1] / "exercises" / "sheet06.yaml"


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("GRADER_CACHE_DIR", str(where))
    monkeypatch.delenv("GRADER_NO_CACHE", raising=False)
    cache.clear_memory()
    yield where
    cache.clear_memory()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Counts the expensive solver steps that the cache is meant to spare."""
    counts = {"taylor": 0}
    coefficients = taylor._coefficients

    def counted_taylor(*a, **k):  # type: ignore[no-untyped-def]
        counts["taylor"] += 1
        return coefficients(*a, **k)

    monkeypatch.setattr(taylor, "_coefficients", counted_taylor)
    return counts


def _answers(sheet) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The reference answers the cache touches: Taylor coefficients."""
    out: dict[str, object] = {}
    for task in sheet.tasks:
        for check in task.checks:
            if check.kind == "taylor":
                out[check.check_id] = [sympy.srepr(c) for c in check.coefficients]
    return out


def _entries(where: Path) -> list[Path]:
    return sorted(where.rglob("*.json"))


def test_second_load_uses_the_cache(cache_dir: Path, calls: dict[str, int]) -> None:
    first = _answers(load_sheet(SHEET6))
    assert calls == {"taylor": 1}
    assert _entries(cache_dir), "nothing was written"
    assert all(f.stat().st_size > 0 for f in _entries(cache_dir))

    cache.clear_memory()  # as a new process would: only the disk is left
    before = dict(cache.stats)
    second = _answers(load_sheet(SHEET6))
    assert calls == {"taylor": 1}, "a warm load recomputed"
    assert cache.stats["disk"] > before["disk"]
    assert second == first


def test_in_process_memo_never_computes_twice(cache_dir: Path, calls: dict[str, int]) -> None:
    load_sheet(SHEET6)
    disk = cache.stats["disk"]
    load_sheet(SHEET6)  # `grader validate` loads, then grades: nothing is computed again
    assert calls == {"taylor": 1}
    assert cache.stats["disk"] == disk, "the second load read the disk instead of the memo"


def test_cached_answers_equal_uncached(
    cache_dir: Path, calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    load_sheet(SHEET6)
    cache.clear_memory()
    warm = _answers(load_sheet(SHEET6))
    monkeypatch.setenv("GRADER_NO_CACHE", "1")
    cache.clear_memory()
    assert _answers(load_sheet(SHEET6)) == warm


def test_corrupt_entries_are_recomputed(cache_dir: Path, calls: dict[str, int]) -> None:
    expected = _answers(load_sheet(SHEET6))
    entries = _entries(cache_dir)
    garbage = [
        "{not json",
        "",
        json.dumps({"format": cache.FORMAT, "key": "someone else's", "kind": "x", "value": 1}),
        # code where a srepr should be: must be refused, never run
        "__import__('os').system('touch PWNED')",
    ]
    for i, path in enumerate(entries):
        text = garbage[i % len(garbage)]
        if i % len(garbage) == 3:
            entry = json.loads(path.read_text())
            entry["value"] = {"$sympy": "exp(\"__import__('os').system('touch PWNED')\")"}
            text = json.dumps(entry)
        path.write_text(text)
    cache.clear_memory()
    assert _answers(load_sheet(SHEET6)) == expected
    assert calls == {"taylor": 2}
    assert not Path("PWNED").exists()
    # and the entries were rewritten whole
    for path in _entries(cache_dir):
        assert json.loads(path.read_text())["format"] == cache.FORMAT


def test_no_cache_env(
    cache_dir: Path, calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRADER_NO_CACHE", "1")
    load_sheet(SHEET6)
    cache.clear_memory()
    load_sheet(SHEET6)
    assert calls == {"taylor": 2}
    assert not _entries(cache_dir)


def test_unwritable_cache_dir_is_not_fatal(
    tmp_path: Path, calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GRADER_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("GRADER_NO_CACHE", raising=False)
    cache.clear_memory()
    try:
        sheet = load_sheet(SHEET6)
        assert calls["taylor"] == 1
        assert _answers(sheet)
    finally:
        cache.clear_memory()


def test_cache_dir_location(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRADER_CACHE_DIR", str(tmp_path / "a"))
    assert cache.cache_dir() == tmp_path / "a"
    monkeypatch.delenv("GRADER_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "grader"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "grader"


def test_key_covers_inputs_and_values_round_trip(cache_dir: Path) -> None:
    x = sympy.Symbol("x", positive=True)
    value = {"e": [sympy.exp(-x) / sympy.sqrt(2 * sympy.pi), sympy.Rational(1, 3)], "n": (1, None)}
    got = cache.cached("test", ["a"], lambda: value)
    assert got is value
    cache.clear_memory()
    again = cache.cached("test", ["a"], lambda: pytest.fail("recomputed"))
    assert again == value and again["e"][0].free_symbols == {x}  # assumptions kept
    assert cache.cached("test", ["b"], lambda: 7) == 7  # other inputs, other entry
    cache.clear_memory()
    assert cache.cached("test", ["b"], lambda: pytest.fail("recomputed")) == 7


def test_unstorable_values_are_computed_not_stored(cache_dir: Path) -> None:
    f = sympy.Function("f")(sympy.Symbol("x"))  # srepr `Function('f')(...)`: not read back
    assert cache.cached("test", ["f"], lambda: f) == f
    assert not _entries(cache_dir)


@pytest.mark.parametrize(
    "text",
    [
        "exp('x')",
        "__import__('os')",
        "Symbol('x').__class__",
        "Add(1.5)",
        "Symbol('x', real='yes')",
        "Function('f')(Symbol('x'))",
        "Integer(2)(3)",
        "lambda: 1",
        "[Integer(1)]",
    ],
)
def test_read_srepr_refuses_anything_else(text: str) -> None:
    with pytest.raises((ValueError, TypeError)):
        cache.read_srepr(text)


def test_read_srepr_round_trips() -> None:
    x, s = sympy.Symbol("x", real=True), sympy.Symbol("s", positive=True)
    for expr in [
        sympy.exp(-(x**2) / (2 * s**2)) / sympy.sqrt(2 * sympy.pi * s**2),
        sympy.Piecewise((x, x > 0), (0, True)),
        sympy.Float("0.1", 30) * sympy.I + sympy.oo,
        sympy.loggamma(x) + sympy.factorial(s) - sympy.Abs(x),
        sympy.Tuple(sympy.Rational(-3, 7), sympy.E),
    ]:
        assert cache.read_srepr(sympy.srepr(expr)) == expr


# ------------------------------------------------------------------ who may change an entry
def _rewrite_values(where: Path) -> int:
    """What a process that can write the cache directory, but not read its key, can do:
    give every cached sympy object a wrong, well-formed value."""

    def wrong(value):  # type: ignore[no-untyped-def]
        if isinstance(value, dict) and "$sympy" in value:
            return {"$sympy": "Integer(7)"}
        if isinstance(value, dict):
            return {k: wrong(v) for k, v in value.items()}
        if isinstance(value, list):
            return [wrong(v) for v in value]
        return value

    n = 0
    for path in _entries(where):
        entry = json.loads(path.read_text())
        entry["value"] = wrong(entry["value"])
        path.write_text(json.dumps(entry))
        n += 1
    return n


def test_an_entry_rewritten_without_the_key_is_recomputed(
    cache_dir: Path, calls: dict[str, int]
) -> None:
    expected = _answers(load_sheet(SHEET6))
    assert _rewrite_values(cache_dir) > 0
    cache.clear_memory()
    assert _answers(load_sheet(SHEET6)) == expected
    assert calls == {"taylor": 2}


def test_the_key_is_the_grader_users_alone(cache_dir: Path, calls: dict[str, int]) -> None:
    load_sheet(SHEET6)
    key = cache_dir / cache.KEY_FILE
    assert key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)  # readable by anyone: not a secret any more, so not trusted
    cache.clear_memory()
    load_sheet(SHEET6)
    assert calls == {"taylor": 2}


def test_the_disk_cache_is_off_where_hand_ins_could_write_it(
    cache_dir: Path, calls: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not root and no Landlock: hand-ins run as this user with its files open to them."""
    monkeypatch.setattr(cache.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(cache, "_landlock_available", lambda: False)
    load_sheet(SHEET6)
    cache.clear_memory()
    load_sheet(SHEET6)
    assert calls == {"taylor": 2}
    assert not _entries(cache_dir)
    monkeypatch.setattr(cache, "_landlock_available", lambda: True)
    assert cache.disk_trusted()
