"""The fork server ("zygote"): one warm interpreter that forks a confined child per hand-in.

Started by ``grader.sandbox.runner.Sandbox`` as
``python -I -B .../grader/sandbox/zygote.py CTL_FD PARENT_PID`` with a clean
environment. It imports numpy, sympy and the sandbox child code, and nothing
else of the grader (it loads ``child.py`` and ``confine.py`` by file path, not
through the ``grader`` package), so whatever a forked child can read in its
own memory holds no reference answer or sheet.

It talks to the grader over a Unix socket (JSON lines; file descriptors ride
along with ``spawn``):

parent -> zygote
    ``{"op": "spawn", "name": file name, "limits": {...}, "import_timeout": s,
    "wall_factor": k, "prepare": [densities], "fds": 3}`` + fds [requests, answers,
    hand-in]: fork a child that reads the hand-in's source from the last fd, imports
    it, and then talks to the grader directly: it reads the grader's requests (probes,
    sent only after the import) from the first fd and writes its answers to the middle
    one. Probes never pass through the fork server. The fds belong
    to the message that declares them, however the stream cuts the reads;
    ``{"op": "kill", "pid": pid}``: kill that child and everything it started.
zygote -> parent
    ``{"event": "ready", "isolation": {...}, "root": dir}`` once;
    ``{"event": "spawned", "pid": pid}`` or ``{"event": "spawn_error", "message": ...}``;
    ``{"event": "exited", "pid": pid, "status": wait status, "cpu": seconds}``.

When the grader goes away (socket closed, or its process died: parent-death
signal) the zygote kills its children and exits.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
from types import ModuleType
from typing import Any, NoReturn

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_SOURCE_BYTES = 4 * 1024 * 1024
#: most file descriptors one control message may carry
MAX_FDS = 8


def _load(name: str) -> ModuleType:
    """Load a sibling file as a top-level module, without importing the grader package."""
    spec = importlib.util.spec_from_file_location(f"_grader_sandbox_{name}", f"{HERE}/{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _read_all(fd: int, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    os.lseek(fd, 0, os.SEEK_SET)
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > cap:
            raise ValueError("too large")
        chunks.append(chunk)


class Zygote:
    def __init__(
        self,
        ctl: socket.socket,
        confine: ModuleType,
        child: ModuleType,
        degrade: str | None = None,
    ) -> None:
        self.ctl = ctl
        self.confine = confine
        self.child = child
        self.buffer = b""
        self.pending_fds: list[int] = []
        self.fds_lost = False
        #: live children: pid -> (scratch directory to remove (no mount namespace) or None,
        #: its cgroup or None)
        self.children: dict[int, tuple[str | None, str | None]] = {}
        #: per-hand-in cgroups (cgroup v2, where the machine allows), see cgroups.py
        self.cgroups: Any = None
        #: "partial": no namespaces (as in a container without CAP_SYS_ADMIN); "minimal":
        #: not even another user (as for a grader that is not root); None: all there is
        self.degrade = degrade
        self.root = os.geteuid() == 0 and degrade != "minimal"
        self.features: dict[str, bool] = {}
        self.landlock_abi = 0
        self.base: str | None = None
        self.pidns_fd = -1
        self.notes: list[str] = []
        self.parent_pid = os.getppid()

    # -------------------------------------------------------------- isolation
    def setup(self) -> None:
        c = self.confine
        linux = c.is_linux()
        f = self.features
        f["rlimits"] = True
        f["user"] = self.root
        f["mount"] = f["network"] = f["pid"] = False
        f["syscalls"] = linux and self._filter_works()
        if linux:
            with contextlib.suppress(OSError):
                # orphans of a child (a daemonised grandchild) come back to us to be killed
                c.prctl(c.PR_SET_CHILD_SUBREAPER, 1)
        if linux and self.root:
            self.cgroups, why = _load("cgroups").HandinCgroups.find()
            f["cgroup"] = self.cgroups is not None
            if why:
                self.notes.append(f"no cgroup per hand-in: {why}")
        if linux and self.root and self.degrade is None:
            self._namespaces()
        if linux and not f["mount"]:
            self.landlock_abi = self._landlock_works()
            f["landlock"] = self.landlock_abi >= 1
            f["landlock_network"] = self.landlock_abi >= 4
            f["landlock_signals"] = self.landlock_abi >= 6

    def _namespaces(self) -> None:
        """A private file system view, an empty network and a pid namespace per child."""
        c, f = self.confine, self.features
        try:
            c.unshare(c.CLONE_NEWNS)
            c.mount(None, "/", None, c.MS_REC | c.MS_PRIVATE)
            self.base = tempfile.mkdtemp(prefix="grader-sandbox-root-")
            c.build_template_root(self.base, _python_dirs(), _hidden_dirs())
            f["mount"] = True
        except OSError as exc:
            self.notes.append(f"private file system view unavailable: {exc}")
        try:
            # one empty network namespace for this zygote and all its children: not even a
            # loopback interface is up, so connect() to any address fails
            c.unshare(c.CLONE_NEWNET | c.CLONE_NEWUTS)
            with contextlib.suppress(OSError):
                socket.sethostname("sandbox")
            f["network"] = True
        except OSError as exc:
            self.notes.append(f"network namespace unavailable: {exc}")
        try:
            self.pidns_fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
            c.unshare(c.CLONE_NEWPID)
            pid = os.fork()
            if pid == 0:
                os._exit(0 if os.getpid() == 1 else 1)
            c.setns(self.pidns_fd, c.CLONE_NEWPID)
            _, status = os.waitpid(pid, 0)
            f["pid"] = os.waitstatus_to_exitcode(status) == 0
        except OSError as exc:
            self.notes.append(f"pid namespace unavailable: {exc}")

    def _landlock_works(self) -> int:
        """Without a mount namespace: the Landlock ABI a child can confine itself with
        (tried in a throwaway child), 0 if none."""
        c = self.confine
        try:
            abi = c.landlock_abi()
        except OSError:
            abi = 0
        if abi >= 1:
            pid = os.fork()
            if pid == 0:
                try:
                    c.no_new_privs()
                    c.confine_files(self.readable_dirs(), [])
                    os._exit(0)
                except BaseException:  # noqa: BLE001
                    os._exit(1)
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) == 0:
                return abi
        self.notes.append("file-system confinement (Landlock) unavailable")
        return 0

    def readable_dirs(self) -> list[str]:
        """What a hand-in confined by Landlock may read: the interpreter and the system."""
        return self.confine.readable_dirs(os.path.dirname(_grader_package_dir()))

    def _filter_works(self) -> bool:
        """Whether a child can install the system-call filter (tried in a throwaway one)."""
        c = self.confine
        pid = os.fork()
        if pid == 0:
            try:
                c.no_new_privs()
                c.install_syscall_filter()
                os._exit(0)
            except BaseException:  # noqa: BLE001
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) == 0:
            return True
        self.notes.append("system-call filter (seccomp) unavailable")
        return False

    def isolation(self) -> dict[str, Any]:
        return {"features": self.features, "notes": self.notes, "platform": sys.platform}

    # -------------------------------------------------------------- protocol
    def send(self, obj: dict[str, Any]) -> None:
        self.ctl.sendall((json.dumps(obj) + "\n").encode())

    def serve_forever(self) -> None:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        os.set_blocking(wake_r, False)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.set_wakeup_fd(wake_w)
        self.wake_fds = (wake_r, wake_w)
        self.send({"event": "ready", "isolation": self.isolation(), "root": self.base})
        watched: list[socket.socket | int] = [self.ctl, wake_r]
        while True:
            try:
                ready, _, _ = select.select(watched, [], [])
            except InterruptedError:
                continue
            if wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(wake_r, 4096)
                self.reap()
            if self.ctl in ready:
                data, fds, flags, _addr = socket.recv_fds(self.ctl, 1 << 16, MAX_FDS)
                self.pending_fds.extend(fds)
                if flags & getattr(socket, "MSG_CTRUNC", 0):
                    # file descriptors were lost on the way (our fd table full?): the spawn
                    # that carried them fails with a clear error instead of a wrong child
                    self.fds_lost = True
                if not data:
                    return
                self.buffer += data
                while b"\n" in self.buffer:
                    line, self.buffer = self.buffer.split(b"\n", 1)
                    msg = json.loads(line)
                    self.handle(msg, self._take_fds(msg))

    def _take_fds(self, msg: dict[str, Any]) -> list[int]:
        """The file descriptors that came with ``msg``.

        A stream socket does not keep message boundaries: one read may return a message
        without fds (a ``kill``, say, sent just before) together with the next one and
        that one's fds. So fds go to the message that declares them (``"fds": n``, in the
        order they were sent), never simply to the first line of a read. They arrive with
        the first byte of their message, so by the time its line is complete they are here.
        """
        want = msg.get("fds", 0) if msg.get("op") == "spawn" else 0
        want = want if isinstance(want, int) and 0 <= want <= MAX_FDS else 0
        if len(self.pending_fds) < want and self.fds_lost:
            self.fds_lost = False
            taken, self.pending_fds = self.pending_fds, []
            return taken  # fewer than declared: spawn reports it
        taken, self.pending_fds = self.pending_fds[:want], self.pending_fds[want:]
        return taken

    def handle(self, msg: dict[str, Any], fds: list[int]) -> None:
        op = msg.get("op")
        if op == "spawn":
            try:
                pid = self.spawn(msg, fds)
            except Exception as exc:  # noqa: BLE001 - report, keep serving
                self.send({"event": "spawn_error", "message": f"{type(exc).__name__}: {exc}"})
            else:
                self.send({"event": "spawned", "pid": pid})
            finally:
                for fd in fds:
                    with contextlib.suppress(OSError):
                        os.close(fd)
        elif op == "kill":
            self.kill(int(msg["pid"]))
        else:
            for fd in fds:
                os.close(fd)

    def reap(self) -> None:
        while True:
            try:
                pid, status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.exited(pid, status, usage)

    def exited(self, pid: int, status: int, usage: Any) -> None:
        if pid not in self.children:
            return  # an orphaned grandchild handed to us as subreaper
        scratch, cgroup = self.children.pop(pid)
        if not self.features["pid"]:
            self.kill_strays(pid)
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        oom = False
        if cgroup:
            oom = self.cgroups.oom_killed(cgroup)
            self.cgroups.remove(cgroup)
        cpu = usage.ru_utime + usage.ru_stime
        self.send({"event": "exited", "pid": pid, "status": status, "cpu": cpu, "oom": oom})

    def kill(self, pid: int) -> None:
        if pid not in self.children:
            return  # already reaped: its "exited" has been sent
        # The child leads its own process group; in a pid namespace killing its init kills
        # every process in it, without one the group (and strays found below) must go.
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        try:
            _, status, usage = os.wait4(pid, 0)
        except ChildProcessError:
            return
        self.exited(pid, status, usage)

    def kill_strays(self, pid: int) -> None:
        """Without a pid namespace: kill the group, and anything reparented to us."""
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
        me = os.getpid()
        for _ in range(20):
            strays = [p for p in _children_of(me) if p not in self.children]
            if not strays:
                return
            for p in strays:
                with contextlib.suppress(OSError):
                    os.kill(p, signal.SIGKILL)
            for p in strays:
                with contextlib.suppress(OSError):
                    os.waitpid(p, 0)

    def spawn(self, msg: dict[str, Any], fds: list[int]) -> int:
        if len(fds) != 3:
            raise ValueError(f"spawn needs three file descriptors, {len(fds)} arrived")
        c = self.confine
        scratch = None
        if not self.features["mount"]:
            scratch = tempfile.mkdtemp(prefix="grader-run-")
            if self.root:
                os.chown(scratch, c.NOBODY, c.NOBODY)
        cgroup = None
        if self.cgroups is not None:
            limits = msg.get("limits", {})
            memory = int(limits.get("memory_mb", 2048)) << 20
            cgroup = self.cgroups.create(memory, int(limits.get("max_processes", 64)))
        self.prebuild(msg.get("prepare"))
        use_pidns = self.features["pid"]
        if use_pidns:
            c.unshare(c.CLONE_NEWPID)
        try:
            pid = os.fork()
        finally:
            if use_pidns and os.getpid() != 1:
                # back to our own pid namespace for the next child (the next fork would
                # otherwise try to join the dead namespace of this one)
                c.setns(self.pidns_fd, c.CLONE_NEWPID)
        if pid == 0:
            self.child_main(msg, fds, scratch, cgroup)
        self.children[pid] = (scratch, cgroup)
        return pid

    def prebuild(self, specs: Any) -> None:
        """Build the densities a child is to prepare here, once: every child forked later
        inherits them instead of spending ~10 ms on sympy and lambdify before its import.
        This process never runs student code, so what it builds stays as built."""
        densities = self.child._DENSITIES
        for spec in specs if isinstance(specs, list) else []:
            if len(densities) >= _MAX_DENSITIES:
                return
            try:
                key = self.child._density_key(spec)
                if key not in densities:
                    densities[key] = self.child._density(spec)
            except Exception:  # noqa: BLE001 - the child builds it again, and reports why not
                continue

    # -------------------------------------------------------------- in the child
    def child_main(
        self, msg: dict[str, Any], fds: list[int], scratch: str | None, cgroup: str | None
    ) -> NoReturn:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        c = self.confine
        serving = False
        answer_fd = fds[1]
        try:
            os.setsid()
            if c.is_linux():
                c.die_with_parent()
            requests_fd, answer_fd, handin_fd = fds
            source = _read_all(handin_fd, MAX_SOURCE_BYTES)
            limits = msg.get("limits", {})
            name = str(msg.get("name", "submission.py"))
            if cgroup:
                self.cgroups.join(cgroup)
            # the kernel's OOM killer takes hand-ins first, never the grader before them
            with contextlib.suppress(OSError):
                with open("/proc/self/oom_score_adj", "w") as fh:
                    fh.write("1000")
            scratch_mb = max(4, int(limits.get("max_file_mb", 16)) * 2)
            if self.features["mount"] and self.base:
                module_path = c.enter_private_root(self.base, name, source, scratch_mb)
                home = "/sandbox"
            else:
                assert scratch is not None
                module_path = c.write_handin(scratch, name, source, c.NOBODY if self.root else None)
                os.chdir(scratch)
                home = scratch
            # fds: 0-2 on /dev/null, answers on 3, the grader's requests (after import) on 4
            high = os.dup(answer_fd) if answer_fd < 10 else answer_fd
            high_requests = os.dup(requests_fd) if requests_fd < 10 else requests_fd
            devnull = os.open(os.devnull, os.O_RDWR)
            for target in (0, 1, 2):
                os.dup2(devnull, target)
            os.dup2(high, 3)
            os.dup2(high_requests, 4)
            os.closerange(5, 1 << 16)
            answer_fd = 3
            nproc_base = 0 if self.root else c.count_user_processes(os.getuid())
            c.set_rlimits(limits, nproc_base=nproc_base)
            if self.root:
                c.drop_privileges(c.NOBODY)
            if c.is_linux():
                c.no_new_privs()
                c.die_with_parent()  # cleared by the uid change above: set it again
            if self.features.get("landlock"):
                # no private file system view: read only the interpreter and the system,
                # write only the scratch directory, no TCP, no signals out (ABI permitting)
                assert scratch is not None
                c.confine_files(self.readable_dirs(), [scratch])
            if self.features["syscalls"]:
                # without a pid namespace, signals could reach the grader and this server
                protected = () if self.features["pid"] else (os.getppid(), self.parent_pid)
                c.install_syscall_filter(protected)
            os.environ.clear()
            os.environ.update(
                {
                    "HOME": home,
                    "TMPDIR": "/tmp" if self.features["mount"] else home,
                    "PATH": "/usr/bin:/bin",
                    "LANG": "C.UTF-8",
                    "OPENBLAS_NUM_THREADS": "1",
                    "OMP_NUM_THREADS": "1",
                    "MKL_NUM_THREADS": "1",
                }
            )
            tempfile.tempdir = None
            # a write beyond RLIMIT_FSIZE fails with EFBIG (reported in words) instead of
            # killing the process with SIGXFSZ
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            request = {
                "module_path": module_path,
                "import_timeout": float(msg.get("import_timeout", 10.0)),
                "wall_factor": float(msg.get("wall_factor", 4.0)),
                "limits": limits,
                "prepare": msg.get("prepare") or [],
            }
            serving = True
            self.child.serve(request, self.child.Channel(answer_fd), self.child.Requests(4))
        except BaseException as exc:  # noqa: BLE001
            if not serving:
                with contextlib.suppress(BaseException):
                    self.child.Channel(answer_fd).send(
                        {"event": "sandbox_error", "message": f"{type(exc).__name__}: {exc}"[:500]}
                    )
                os._exit(70)
            os._exit(71)
        os._exit(0)

    def close(self) -> None:
        for pid in list(self.children):
            self.kill(pid)
        if self.cgroups is not None:
            self.cgroups.close()
        if self.base:
            with contextlib.suppress(OSError):
                self.confine.umount2(self.base, self.confine.MNT_DETACH)
            with contextlib.suppress(OSError):
                os.rmdir(self.base)


#: densities kept in the fork server (a sheet has a few families; variants a few more)
_MAX_DENSITIES = 64


def _children_of(ppid: int) -> list[int]:
    out: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(b")") + 2 :].split()
            if int(fields[1]) == ppid:
                out.append(int(entry))
        except (OSError, ValueError):
            continue
    return out


def _grader_package_dir() -> str:
    return os.path.dirname(HERE)


def _hidden_dirs() -> list[str]:
    return [_grader_package_dir()]


def _python_dirs() -> list[str]:
    """Directories the interpreter needs: its prefixes and the import path, minus the
    grader's own checkout (which may sit on sys.path when run from a source tree)."""
    return _load("confine").interpreter_dirs(os.path.dirname(_grader_package_dir()))


def _warm(child: Any) -> None:
    """Do once, here, what every child would otherwise do first, cold: sympy imports its
    printers and code generators lazily (~100 ms on the first lambdify or sstr), and each
    forked child inherits the warm state instead of paying again."""
    import numpy as np
    import sympy

    x, mu, s = sympy.symbols("x mu s")
    density = {"expr": "exp(-(x - mu)**2/(2*s**2))/sqrt(2*pi*s**2)", "variable": "x",
               "params": ["mu", "s"]}
    try:
        child.decode_arg({"$density": density})(np.array([0.5, 1.0]), (0.0, 1.0))
        expr = sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2 + sympy.tanh(mu) * s
        sympy.sstr(expr, full_prec=True)
        sympy.lambdify([x, mu, s], expr, modules="numpy")(1.0, 2.0, 3.0)
        # not simplify (~0.1 s): few hand-ins call it, and the fork server's start-up is on
        # the path of every `grader check`
        child.encode(expr, child._Budget())
    except Exception:  # noqa: BLE001 - warming is an optimisation, never a requirement
        pass


def _leave(signum: int, frame: Any) -> NoReturn:
    raise SystemExit(0)


def main() -> None:
    ctl_fd, parent_pid = int(sys.argv[1]), int(sys.argv[2])
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"  # before numpy: forking a process with BLAS threads deadlocks
    ctl = socket.socket(fileno=ctl_fd)
    confine = _load("confine")
    # The grader may leave without tearing anything down (the CLI ends with os._exit):
    # SIGTERM, not SIGKILL, so that close() still kills the children and removes the
    # private root's mount point from the temporary directory.
    signal.signal(signal.SIGTERM, _leave)
    if confine.is_linux():
        confine.die_with_parent(signal.SIGTERM)
    if os.getppid() != parent_pid:
        os._exit(0)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    child = _load("child")
    for mod in ("numpy", "sympy"):
        __import__(mod)
    _warm(child)
    degrade = next((a.split("=", 1)[1] for a in sys.argv[3:] if a.startswith("--degrade=")), None)
    zygote = Zygote(ctl, confine, child, degrade if degrade in ("partial", "minimal") else None)
    try:
        zygote.setup()
        zygote.serve_forever()
    except (BrokenPipeError, ConnectionResetError, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut close() short
        zygote.close()


if __name__ == "__main__":
    main()
