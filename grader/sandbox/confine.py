"""Confining one sandbox child: resource limits, namespaces, a private root, privilege drop.

The fork server (``grader.sandbox.zygote``) loads this file on its own,
outside the ``grader`` package, so it imports nothing from the grader: the
zygote and every child forked from it must hold no reference answers, sheets
or other grader state.

Linux specifics go through ``ctypes`` because Python 3.11 has no
``os.unshare``/``os.setns``/``mount``/``pivot_root``. Every function here
raises ``OSError`` when the kernel refuses, so that callers can degrade.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import stat
import sys
from collections.abc import Iterable, Mapping
from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MNT_DETACH = 0x2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

#: the unprivileged identity children run as when the grader is root
NOBODY = 65534

#: pivot_root has no libc wrapper; syscall numbers per architecture
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203}

#: files of the host's /etc a Python process may reasonably need (dynamic
#: loader cache for lazily loaded extension modules, time zone, user names)
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "localtime",
    "passwd",
    "group",
    "nsswitch.conf",
    "mime.types",
)
#: top-level system directories bound read-only into the private root
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc: Any = None


def is_linux() -> bool:
    return sys.platform.startswith("linux")


def libc() -> Any:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    return _libc


def _check(result: int, what: str) -> int:
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def unshare(flags: int) -> None:
    _check(libc().unshare(ctypes.c_int(flags)), "unshare")


def setns(fd: int, nstype: int) -> None:
    _check(libc().setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int = 0, data: str | None = None
) -> None:
    def enc(s: str | None) -> bytes | None:
        return os.fsencode(s) if s is not None else None

    res = libc().mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data))
    _check(res, f"mount {target}")


def umount2(target: str, flags: int) -> None:
    _check(libc().umount2(os.fsencode(target), ctypes.c_int(flags)), f"umount {target}")


def pivot_root(new_root: str, put_old: str) -> None:
    nr = _SYS_PIVOT_ROOT.get(platform.machine())
    if nr is None:
        raise OSError(38, "pivot_root: unknown architecture")
    res = libc().syscall(ctypes.c_long(nr), os.fsencode(new_root), os.fsencode(put_old))
    _check(res, "pivot_root")


def prctl(option: int, arg: int = 0) -> None:
    res = libc().prctl(
        ctypes.c_int(option),
        ctypes.c_ulong(arg),
        ctypes.c_ulong(0),
        ctypes.c_ulong(0),
        ctypes.c_ulong(0),
    )
    _check(res, "prctl")


# ------------------------------------------------------------------ rlimits
def set_rlimits(limits: Mapping[str, Any], *, nproc_base: int = 0) -> list[str]:
    """Lower soft *and* hard limits, so that student code cannot raise them again.

    Returns the names of limits the platform would not set (reported, not fatal).
    """
    import resource

    mb = 1024 * 1024
    wanted: list[tuple[str, int]] = [
        ("RLIMIT_CORE", 0),
        ("RLIMIT_CPU", max(1, int(limits.get("cpu_seconds", 60)))),
        ("RLIMIT_FSIZE", int(limits.get("max_file_mb", 16)) * mb),
        ("RLIMIT_NOFILE", int(limits.get("max_open_files", 256))),
        ("RLIMIT_AS", int(limits.get("memory_mb", 2048)) * mb),
        ("RLIMIT_NPROC", nproc_base + int(limits.get("max_processes", 64))),
    ]
    failed: list[str] = []
    for name, value in wanted:
        which = getattr(resource, name, None)
        if which is None:
            failed.append(name)
            continue
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (OSError, ValueError):
            # macOS refuses RLIMIT_AS/RLIMIT_NPROC in some configurations: best effort
            failed.append(name)
    return failed


def count_user_processes(uid: int) -> int:
    """Processes of ``uid`` right now (RLIMIT_NPROC counts them all, system-wide)."""
    n = 0
    try:
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                try:
                    n += entry.stat().st_uid == uid
                except OSError:
                    pass
    except OSError:
        return 0
    return n


# ------------------------------------------------------------------ private root
def _mkdirs(path: str, mode: int = 0o755) -> None:
    parts = path.strip("/").split("/")
    cur = ""
    for part in parts:
        cur += "/" + part
        if not os.path.isdir(cur):
            os.mkdir(cur, mode)
            os.chmod(cur, mode)  # umask must not make a mount point untraversable


def _bind(source: str, target: str, *, readonly: bool = True) -> None:
    mount(source, target, None, MS_BIND)
    flags = MS_REMOUNT | MS_BIND | MS_NOSUID | (MS_RDONLY if readonly else 0)
    if not readonly:
        flags |= 0
    mount(None, target, None, flags)


def _minimal_dirs(dirs: Iterable[str]) -> list[str]:
    """Existing directories, without those inside another one of the list."""
    real = sorted({os.path.realpath(d) for d in dirs if d and os.path.isdir(d)})
    out: list[str] = []
    for d in real:
        if d == "/" or any(d == o or d.startswith(o.rstrip("/") + "/") for o in out):
            continue
        out.append(d)
    return out


#: (directory, hidden?) of the template's mounts that lie under a per-child scratch mount
_UNDER_SCRATCH: list[tuple[str, bool]] = []


def _under_scratch(d: str) -> bool:
    return d.startswith(("/tmp/", "/sandbox/", "/proc/"))


def build_template_root(base: str, python_dirs: Iterable[str], hidden_dirs: Iterable[str]) -> None:
    """Make ``base`` (an empty directory) a read-only tmpfs holding only what Python needs.

    Call in the zygote after ``unshare(CLONE_NEWNS)``: the mounts stay in the
    zygote's private mount namespace, and every child starts from a copy of it.
    ``python_dirs`` are bound read-only at their own paths (so ``/root`` being
    mode 700 does not matter: the tmpfs directories leading to them are 755).
    ``hidden_dirs`` inside any bound directory (the grader's own sources, when
    installed into site-packages) get an empty read-only tmpfs on top.
    """
    mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=755")
    for name in SYSTEM_DIRS:
        host = "/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), f"{base}/{name}")
        elif os.path.isdir(host):
            _mkdirs(f"{base}/{name}")
            _bind(host, f"{base}/{name}")
    _mkdirs(f"{base}/etc")
    for name in ETC_FILES:
        host = "/etc/" + name
        if os.path.islink(host):
            os.symlink(os.readlink(host), f"{base}/etc/{name}")
        elif os.path.isfile(host):
            with open(f"{base}/etc/{name}", "w"):
                pass
            _bind(host, f"{base}/etc/{name}")
    bound = ["/usr"]
    for d in _minimal_dirs(python_dirs):
        if any(d == b or d.startswith(b + "/") for b in bound):
            continue
        _mkdirs(base + d)
        _bind(d, base + d)
        bound.append(d)
    hidden = []
    for d in _minimal_dirs(hidden_dirs):
        if any(d.startswith(b + "/") for b in bound) and os.path.isdir(base + d):
            mount("tmpfs", base + d, "tmpfs", MS_NOSUID | MS_NODEV | MS_RDONLY, "size=4k,mode=755")
            hidden.append(d)
    # A virtualenv under /tmp (a CI checkout, say) would vanish under each child's fresh /tmp:
    # remember those binds so that enter_private_root makes them again on top of it.
    _UNDER_SCRATCH[:] = [(d, d in hidden) for d in [*bound[1:], *hidden] if _under_scratch(d)]
    _mkdirs(f"{base}/dev")
    for name in DEVICES:
        with open(f"{base}/dev/{name}", "w"):
            pass
        mount(f"/dev/{name}", f"{base}/dev/{name}", None, MS_BIND)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("shm", "/tmp"),
    ):
        os.symlink(target, f"{base}/dev/{name}")
    for name in ("proc", "sandbox", "tmp"):
        _mkdirs(f"{base}/{name}")
    # the root itself read-only: the only writable places are the per-child tmpfs mounts
    mount(None, base, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=755")


def enter_private_root(
    base: str, file_name: str, source: bytes, scratch_mb: int, *, uid: int = NOBODY
) -> str:
    """In a fresh child (root, after the zygote made it pid 1 of a new pid namespace):
    new mount + IPC namespace, fresh /sandbox, /tmp and /proc, pivot into ``base``.

    Returns the hand-in's path inside the new root.
    """
    unshare(CLONE_NEWNS | CLONE_NEWIPC)
    opts = f"size={scratch_mb}m,nr_inodes=4096"
    mount(
        "tmpfs",
        f"{base}/sandbox",
        "tmpfs",
        MS_NOSUID | MS_NODEV,
        f"{opts},mode=700,uid={uid},gid={uid}",
    )
    mount("tmpfs", f"{base}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"{opts},mode=1777")
    for d, is_hidden in _UNDER_SCRATCH:
        if d.startswith("/tmp/"):
            _mkdirs(base + d)
            if is_hidden:
                flags = MS_NOSUID | MS_NODEV | MS_RDONLY
                mount("tmpfs", base + d, "tmpfs", flags, "size=4k,mode=755")
            else:
                _bind(d, base + d)
    # a /proc of the new pid namespace: shows the hand-in's own processes only
    mount("proc", f"{base}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    path = write_handin(f"{base}/sandbox", file_name, source, uid)
    os.chdir(base)
    pivot_root(".", ".")
    # the old root is now stacked under the new one: detach it, and nothing of the host
    # beyond the read-only binds stays reachable
    umount2(".", MNT_DETACH)
    os.chdir("/sandbox")
    return "/sandbox/" + os.path.basename(path)


def write_handin(directory: str, file_name: str, source: bytes, uid: int | None) -> str:
    name = os.path.basename(file_name) or "submission.py"
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        os.write(fd, source)
        if uid is not None:
            os.fchown(fd, uid, uid)
    finally:
        os.close(fd)
    return path


def drop_privileges(uid: int = NOBODY) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getuid() == 0:  # pragma: no cover - would be a kernel bug
        raise OSError(1, "could not drop root")


def no_new_privs() -> None:
    """setuid binaries and file capabilities no longer raise privileges after this."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)


# ------------------------------------------------------------------ seccomp
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_ushort),
        ("jt", ctypes.c_ubyte),
        ("jf", ctypes.c_ubyte),
        ("k", ctypes.c_uint),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def _sibling(name: str) -> Any:
    """A file next to this one, loaded as a module of its own (never through ``grader``)."""
    import importlib.util

    key = f"_grader_sandbox_{name}"
    if key in sys.modules:
        return sys.modules[key]
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location(key, os.path.join(here, f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


#: loaded now, while its file is visible: a child calls install_syscall_filter after it
#: has entered its private root, where the grader's files are not
_syscalls = _sibling("syscalls")


def install_syscall_filter(protected: tuple[int, ...] = ()) -> None:
    """Allow only the system calls of ``grader/sandbox/syscalls.py`` from now on, in this
    process and all it starts (needs ``no_new_privs`` first). ``protected``: pids no signal
    may reach. Raises OSError where the kernel has no seccomp, KeyError on an
    architecture without a table."""
    prog = _syscalls.program(protected=protected)
    filters = (_SockFilter * len(prog))(*[_SockFilter(*ins) for ins in prog])
    fprog = _SockFprog(len(prog), filters)
    res = libc().prctl(
        ctypes.c_int(PR_SET_SECCOMP),
        ctypes.c_ulong(SECCOMP_MODE_FILTER),
        ctypes.cast(ctypes.pointer(fprog), ctypes.c_void_p),
        ctypes.c_ulong(0),
        ctypes.c_ulong(0),
    )
    _check(res, "prctl(PR_SET_SECCOMP)")


def die_with_parent(sig: int | None = None) -> None:
    """Get ``sig`` (SIGKILL by default) when the thread that started this process ends."""
    import signal

    prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL if sig is None else sig))


def isdir_traversable(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def interpreter_dirs(checkout: str) -> list[str]:
    """Directories the interpreter needs: its prefixes and the import path, minus the
    grader's ``checkout`` (which may sit on sys.path when run from a source tree)."""
    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    candidates.add(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable))))
    for entry in sys.path:
        if entry and os.path.isdir(entry):
            candidates.add(entry)
        elif entry and os.path.isfile(entry):  # a zip on the path
            candidates.add(os.path.dirname(entry))
    installed = os.path.basename(checkout) in ("site-packages", "dist-packages")
    out = []
    for d in candidates:
        real = os.path.realpath(d)
        if not installed and (real == checkout or checkout.startswith(real.rstrip("/") + "/")):
            continue
        out.append(real)
    return out


def readable_dirs(checkout: str) -> list[str]:
    """What a hand-in confined by Landlock may read: the interpreter and the system."""
    etc = [f"/etc/{name}" for name in ETC_FILES]
    system = [f"/{name}" for name in SYSTEM_DIRS]
    return [*system, *etc, *interpreter_dirs(checkout), "/sys/devices/system/cpu"]


def confine_fresh_child(request: Mapping[str, Any]) -> None:
    """In a fresh child (no fork server), before anything else is imported: the limits
    and, on Linux, no new privileges, Landlock (read the interpreter and the system, write
    the working directory) and the system-call filter, each where the kernel has it."""
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    nproc_base = 0 if root else count_user_processes(os.getuid())
    set_rlimits(request.get("limits") or {}, nproc_base=nproc_base)
    if not is_linux():
        return
    no_new_privs()
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        confine_files(readable_dirs(checkout), [os.getcwd()])
    except OSError:
        pass  # no Landlock here: the isolation report says the file system is open
    try:
        install_syscall_filter()
    except (OSError, KeyError):
        pass  # a kernel without seccomp, an architecture without a table


# ------------------------------------------------------------------ landlock
#: landlock_create_ruleset, landlock_add_rule, landlock_restrict_self (every architecture)
_NR_LANDLOCK = (444, 445, 446)
_FS_READ = (1 << 0) | (1 << 2) | (1 << 3)  # EXECUTE, READ_FILE, READ_DIR
_FS_WRITE_FILE = 1 << 1
#: the rights a rule on a file (not a directory) may hold: EXECUTE, WRITE_FILE, READ_FILE,
#: TRUNCATE, IOCTL_DEV
_FS_FILE = 0b111 | (1 << 14) | (1 << 15)
#: every file-system right of each ABI version (1: 13 rights; 2: REFER; 3: TRUNCATE;
#: 5: IOCTL_DEV)
_FS_ALL = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_ALL = 0b11  # BIND_TCP, CONNECT_TCP (ABI 4)
_SCOPE_ALL = 0b11  # ABSTRACT_UNIX_SOCKET, SIGNAL (ABI 6)
#: devices a hand-in may open for writing
WRITABLE_DEVICES = ("/dev/null", "/dev/zero", "/dev/full")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 where there is none (or it is disabled)."""
    res = libc().syscall(ctypes.c_long(_NR_LANDLOCK[0]), None, ctypes.c_size_t(0), 1)
    return max(int(res), 0)


def confine_files(readable: Iterable[str], writable: Iterable[str]) -> int:
    """Without a mount namespace: from now on this process (and all it starts) may read
    and execute only below ``readable``, write only below ``writable`` (and to
    ``WRITABLE_DEVICES``), open no TCP connection (ABI 4) and signal no process outside
    its own (ABI 6). Needs ``no_new_privs`` first. Returns the ABI version used; raises
    OSError where Landlock is unavailable."""
    abi = landlock_abi()
    if abi < 1:
        raise OSError(38, "landlock unavailable")
    fs_all = _FS_ALL[max(v for v in _FS_ALL if v <= abi)]
    attr = _RulesetAttr(fs_all, _NET_ALL if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = ctypes.sizeof(ctypes.c_uint64) * (3 if abi >= 6 else 2 if abi >= 4 else 1)
    fd = _check(
        libc().syscall(
            ctypes.c_long(_NR_LANDLOCK[0]), ctypes.byref(attr), ctypes.c_size_t(size), 0
        ),
        "landlock_create_ruleset",
    )
    try:
        rules = [(d, _FS_READ) for d in readable] + [(d, fs_all) for d in writable]
        rules += [(dev, _FS_READ | _FS_WRITE_FILE) for dev in WRITABLE_DEVICES]
        for path, rights in rules:
            _allow(fd, path, rights & fs_all)
        _check(libc().syscall(ctypes.c_long(_NR_LANDLOCK[2]), fd, 0), "landlock_restrict_self")
    finally:
        os.close(fd)
    return abi


def _allow(ruleset: int, path: str, rights: int) -> None:
    try:
        target = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this machine
    if not os.path.isdir(path):
        rights &= _FS_FILE  # a file takes no directory rights
    try:
        rule = _PathBeneath(rights, target)
        _check(
            libc().syscall(ctypes.c_long(_NR_LANDLOCK[1]), ruleset, 1, ctypes.byref(rule), 0),
            f"landlock_add_rule {path}",
        )
    finally:
        os.close(target)
