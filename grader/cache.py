"""A small on-disk cache of reference-solver results (sympy expressions as text).

Loading a sheet runs the reference solver: sympy ``solve`` for maximum likelihood
closed forms, ``series`` for Taylor coefficients, ``simplify`` to check a graph's
backward pass. The results depend only on their inputs, so they are kept here:

* **Key**: sha256 of what is computed (``kind``), its exact inputs as text (the
  callers pass ``sympy.srepr`` of expressions, which records symbol assumptions),
  the grader and sympy versions, a format number, and the content of the source
  files that compute the result (``code=``), so editing the solver invalidates it.
* **Value**: JSON. A sympy object is stored as its ``srepr`` and read back by
  :func:`read_srepr`, which walks the text with :mod:`ast` and calls only sympy
  classes (no ``eval``, strings only where a symbol name or a float's digits go).
  A value is written only when it reads back ``==`` to what was computed.
* **Where**: ``$GRADER_CACHE_DIR``, else ``$XDG_CACHE_HOME/grader``, else
  ``~/.cache/grader``; one file per key, written atomically (temporary file +
  ``os.replace``). ``GRADER_NO_CACHE=1`` turns the disk cache off.
* **Authenticated**: every entry carries an HMAC-SHA256 of its content under a random key
  kept in ``<cache dir>/key`` (mode 600, owned by the grader's user; the cache is not
  used if it is anything else). An entry whose MAC does not match is recomputed, so a
  process that can write the cache directory but not read the key (a hand-in running as
  `nobody`, another user) cannot change a reference answer.
* **Off while hand-ins could write it**: where hand-ins run as the grader's own user
  without Landlock to keep them out of its files (a grader that is not root, on a kernel
  without Landlock, or ``GRADER_SANDBOX_DEGRADE=minimal`` there), they could read the key
  and rewrite entries, so the disk cache is neither read nor written
  (:func:`disk_trusted`); see ``docs/security.md``.
* **Never fatal**: an unreadable, corrupt or foreign entry, or a cache directory
  that cannot be written, means computing instead (said once at debug level).

Besides the disk, results are memoised in the process, so that loading a sheet twice
(``grader validate`` loads and then grades) never computes anything twice.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sympy

__all__ = [
    "cache_dir",
    "cached",
    "clear_memory",
    "disk_trusted",
    "enabled",
    "read_srepr",
    "stats",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: bump when the stored layout changes
FORMAT = 2
KEY_FILE = "key"

_memory: dict[str, Any] = {}
_lock = threading.Lock()
_warned: set[str] = set()
#: counters for tests and diagnostics: computed, memory, disk hits; write failures
stats: dict[str, int] = {"computed": 0, "memory": 0, "disk": 0, "unwritable": 0}


class CacheFormatError(ValueError):
    """A cache entry is not what the grader writes."""


# --------------------------------------------------------------------- location
def enabled() -> bool:
    return os.environ.get("GRADER_NO_CACHE", "").strip().lower() in ("", "0", "false", "no")


def disk_trusted() -> bool:
    """Whether no hand-in graded by this user can have written the cache directory.

    Hand-ins run as `nobody` when the grader is root, and under Landlock (read-only
    system, writes only to their scratch directory) where the kernel has it. Without
    either they run as this very user with its files open to them."""
    if not hasattr(os, "geteuid"):
        return False
    degrade = os.environ.get("GRADER_SANDBOX_DEGRADE", "").strip().lower()
    if os.geteuid() == 0 and degrade != "minimal":
        return True
    return _landlock_available()


@cache
def _landlock_available() -> bool:
    from grader.sandbox import confine

    if not confine.is_linux():
        return False
    try:
        return bool(confine.landlock_abi() >= 1)
    except OSError:
        return False


def cache_dir() -> Path:
    explicit = os.environ.get("GRADER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "grader"
    return Path.home() / ".cache" / "grader"


def clear_memory() -> None:
    """Forget the in-process memo and the keys read (tests)."""
    with _lock:
        _memory.clear()
    _secret.cache_clear()


def _warn_once(what: str, exc: BaseException) -> None:
    if what not in _warned:
        _warned.add(what)
        log.debug("grader cache: %s (%s: %s); computing instead", what, type(exc).__name__, exc)


# ---------------------------------------------------------------------- keys
@lru_cache(maxsize=64)
def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable:" + path


def _key(kind: str, inputs: Iterable[str], code: Iterable[str]) -> str:
    from grader import __version__

    parts = [
        f"format={FORMAT}",
        f"grader={__version__}",
        f"sympy={sympy.__version__}",
        f"kind={kind}",
        *(f"code={_file_digest(os.path.abspath(c))}" for c in code),
        *(f"input={s}" for s in inputs),
    ]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


# ------------------------------------------------------------------- the cache
def cached(
    kind: str,
    inputs: Iterable[str],
    compute: Callable[[], T],
    *,
    code: Iterable[str] = (),
) -> T:
    """``compute()``, or its result from a previous call with the same key.

    ``inputs`` must describe everything the result depends on, as text (use
    ``sympy.srepr``: ``str`` loses assumptions). The result may be built from
    ``None``, ``bool``, ``int``, ``str``, sympy objects, and lists, tuples and
    dicts (string keys) of these. Exceptions from ``compute`` propagate and
    nothing is stored. Callers must not mutate what they get back.
    """
    key = _key(kind, list(inputs), list(code))
    with _lock:
        if key in _memory:
            stats["memory"] += 1
            return _memory[key]  # type: ignore[no-any-return]
    use_disk = enabled() and disk_trusted()
    if use_disk:
        found = _read(key, kind)
        if found is not _MISSING:
            stats["disk"] += 1
            with _lock:
                _memory[key] = found
            return found  # type: ignore[no-any-return]
    value = compute()
    stats["computed"] += 1
    with _lock:
        _memory[key] = value
    if use_disk:
        _write(key, kind, value)
    return value


_MISSING = object()


def _path(key: str) -> Path:
    return cache_dir() / key[:2] / f"{key}.json"


def _read(key: str, kind: str) -> Any:
    path = _path(key)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _MISSING
    except (OSError, ValueError) as exc:
        _warn_once(f"cannot read {path}", exc)
        return _MISSING
    try:
        entry = json.loads(text)
        if not (
            isinstance(entry, dict)
            and entry.get("format") == FORMAT
            and entry.get("key") == key
            and entry.get("kind") == kind
        ):
            raise CacheFormatError("not this entry")
        mac = _mac(key, kind, entry["value"])
        if mac is None or not hmac.compare_digest(str(entry.get("mac", "")), mac):
            raise CacheFormatError("the entry's MAC does not match")
        return _decode(entry["value"])
    except Exception as exc:  # noqa: BLE001 - a corrupt entry of any kind is recomputed
        _warn_once(f"ignoring corrupt entry {path}", exc)
        return _MISSING


def _write(key: str, kind: str, value: Any) -> None:
    try:
        encoded = _encode(value)
        if not _same(_decode(encoded), value):
            raise CacheFormatError("the value does not read back equal")
        mac = _mac(key, kind, encoded)
        if mac is None:
            return
        entry = {"format": FORMAT, "key": key, "kind": kind, "value": encoded, "mac": mac}
        text = json.dumps(entry)
    except Exception as exc:  # noqa: BLE001 - not storable: fine, it is recomputed next time
        _warn_once(f"not caching a {kind} result", exc)
        return
    path = _path(key)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        stats["unwritable"] += 1
        _warn_once(f"cannot write to {cache_dir()}", exc)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# ------------------------------------------------------------------ authentication
def _mac(key: str, kind: str, encoded: Any) -> str | None:
    """HMAC-SHA256 of an entry under this cache directory's key (None: no usable key)."""
    secret = _secret(str(cache_dir()))
    if secret is None:
        return None
    body = json.dumps([FORMAT, key, kind, encoded], sort_keys=True, separators=(",", ":"))
    return hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=8)
def _secret(directory: str) -> bytes | None:
    """The key of the cache in ``directory``, made on first use. None (with a note at
    debug level) when it cannot be made, or is not this user's alone."""
    path = Path(directory) / KEY_FILE
    try:
        Path(directory).mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(os.urandom(32).hex())
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd) as fh:
            info = os.fstat(fh.fileno())
            if info.st_mode & 0o077 or (hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
                raise PermissionError(f"{path} is readable by others or not ours")
            secret = bytes.fromhex(fh.read().strip())
        if len(secret) < 32:
            raise ValueError(f"{path} is too short")
        return secret
    except (OSError, ValueError) as exc:
        _warn_once(f"no usable key in {directory}", exc)
        return None


# ------------------------------------------------------------ encoding values
def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, sympy.Basic):
        return {"$sympy": sympy.srepr(value)}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise CacheFormatError("dict keys must be strings")
        return {"$dict": {k: _encode(v) for k, v in value.items()}}
    raise CacheFormatError(f"cannot store a {type(value).__name__}")


def _decode(data: Any) -> Any:
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, list):
        return [_decode(v) for v in data]
    if isinstance(data, dict) and len(data) == 1:
        ((tag, inner),) = data.items()
        if tag == "$sympy" and isinstance(inner, str):
            return read_srepr(inner)
        if tag == "$tuple" and isinstance(inner, list):
            return tuple(_decode(v) for v in inner)
        if tag == "$dict" and isinstance(inner, dict):
            return {str(k): _decode(v) for k, v in inner.items()}
    raise CacheFormatError(f"unexpected {type(data).__name__} in a cache entry")


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, sympy.Basic) or isinstance(b, sympy.Basic):
        return type(a) is type(b) and bool(a == b) and sympy.srepr(a) == sympy.srepr(b)
    if isinstance(a, (list, tuple)):
        return (
            type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))  # type: ignore[arg-type]
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


# --------------------------------------------------------- reading srepr text
#: constructors whose arguments may include plain strings, and at which positions
_STRING_ARGS = {"Symbol": {0}, "Dummy": {0}, "Float": {0}}
#: keyword arguments take only bool or int constants (assumptions, precision, dummy_index)
_MAX_LENGTH = 1_000_000


@cache
def _sympy_name(name: str) -> Any:
    """The sympy class or singleton ``name`` stands for, or None if it is not one."""
    if name.startswith("_"):
        return None
    obj = getattr(sympy, name, None)
    if obj is None and name == "ExprCondPair":  # Piecewise's pieces
        from sympy.functions.elementary.piecewise import ExprCondPair

        obj = ExprCondPair
    if isinstance(obj, type) and issubclass(obj, sympy.Basic):
        return obj
    if isinstance(obj, sympy.Basic):  # pi, E, I, oo, zoo, nan, true, ...
        return obj
    return None


def read_srepr(text: str) -> sympy.Basic:
    """The sympy object ``sympy.srepr`` wrote as ``text``, built without ``eval``.

    Only calls of sympy classes (``Add(...)``, ``Symbol('x', real=True)``), sympy
    singletons (``pi``), integers, and strings as a symbol's name or a float's
    digits are accepted; anything else raises ``ValueError``.
    """
    if len(text) > _MAX_LENGTH:
        raise ValueError("srepr text too long")
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"not srepr text: {exc}") from exc
    out = _build(tree)
    if not isinstance(out, sympy.Basic):
        raise ValueError("srepr text is not a sympy object")
    return out


def _build(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) is int
    ):
        return -node.operand.value
    if isinstance(node, ast.Name):
        obj = _sympy_name(node.id)
        if not isinstance(obj, sympy.Basic):
            raise ValueError(f"unknown name {node.id!r}")
        return obj
    if isinstance(node, ast.Tuple):
        return tuple(_build(e) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        cls = _sympy_name(name)
        if not isinstance(cls, type):
            raise ValueError(f"{name!r} is not a sympy class")
        strings = _STRING_ARGS.get(name, set())
        args = []
        for i, arg in enumerate(node.args):
            if isinstance(arg, ast.Constant) and type(arg.value) is str:
                if i not in strings:
                    raise ValueError(f"a string is not allowed as argument {i} of {name}")
                args.append(arg.value)
            else:
                args.append(_build(arg))
        kwargs = {}
        for kw in node.keywords:
            if (
                kw.arg is None
                or not isinstance(kw.value, ast.Constant)
                or type(kw.value.value) not in (bool, int)
            ):
                raise ValueError(f"unexpected keyword argument in {name}")
            kwargs[kw.arg] = kw.value.value
        if kwargs and name not in ("Symbol", "Dummy", "Float", "Wild"):
            raise ValueError(f"{name} takes no keyword arguments here")
        return cls(*args, **kwargs)
    raise ValueError(f"unexpected {type(node).__name__} in srepr text")
