"""The grader's side of the fork server (``grader.sandbox.zygote``): start it, ask it to
fork a child, learn how children ended, stop it."""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grader.sandbox.transport import ForkServerDied, clean_env, request_pipe

ZYGOTE_SCRIPT = Path(__file__).resolve().with_name("zygote.py")
#: wall seconds the fork server may take to start (imports numpy and sympy)
ZYGOTE_START_TIMEOUT = 60.0
#: wall seconds for a control round trip with a running fork server
ZYGOTE_REPLY_TIMEOUT = 10.0


class ForkServer:
    """The parent's handle on one fork server process."""

    def __init__(self, degrade: str | None = None) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        extra = [f"--degrade={degrade}"] if degrade else []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-I",
                "-B",
                str(ZYGOTE_SCRIPT),
                str(theirs.fileno()),
                str(os.getpid()),
                *extra,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),),
            env=clean_env(),
            cwd="/",
            start_new_session=True,
        )
        theirs.close()
        self.sock = ours
        self.sock.setblocking(False)
        self.buffer = b""
        self.dead = False
        self.exits: dict[int, dict[str, Any]] = {}
        self.info: dict[str, Any] | None = None

    # -- low level
    def _send(self, obj: dict[str, Any], fds: Sequence[int] = ()) -> None:
        data = (json.dumps(obj) + "\n").encode()
        try:
            self.sock.setblocking(True)
            if fds:
                socket.send_fds(self.sock, [data], list(fds))
            else:
                self.sock.sendall(data)
        except OSError as exc:
            self.dead = True
            raise ForkServerDied() from exc
        finally:
            self.sock.setblocking(False)

    def _recv(self, deadline: float) -> dict[str, Any] | None:
        """The next control message, or None at the deadline."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            sel = selectors.DefaultSelector()
            try:
                sel.register(self.sock, selectors.EVENT_READ)
                if not sel.select(remaining):
                    continue
            finally:
                sel.close()
            try:
                chunk = self.sock.recv(1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                self.dead = True
                raise ForkServerDied()
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        msg = json.loads(line)
        if msg.get("event") == "exited":
            self.exits[int(msg["pid"])] = msg
        return msg

    # -- operations
    def wait_ready(self) -> dict[str, Any]:
        if self.info is None:
            msg = self._recv(time.monotonic() + ZYGOTE_START_TIMEOUT)
            if msg is None or msg.get("event") != "ready":
                self.close()
                raise ForkServerDied()
            self.info = msg
        return self.info

    def spawn(self, settings: dict[str, Any], handin_fd: int) -> tuple[int, int, int, int]:
        """Fork a child; return its pid, the read end of its answer pipe, the write end of
        its request pipe (probes go there only once it has imported the hand-in) and that
        pipe's size."""
        self.wait_ready()
        req_read, req_write, capacity = request_pipe()
        read_fd, write_fd = os.pipe()
        try:
            self._send(dict(settings, op="spawn", fds=3), [req_read, write_fd, handin_fd])
        except ForkServerDied:
            os.close(read_fd)
            os.close(req_write)
            raise
        finally:
            os.close(req_read)
            os.close(write_fd)
        deadline = time.monotonic() + ZYGOTE_REPLY_TIMEOUT
        while True:
            msg = self._recv(deadline)
            if msg is None or msg.get("event") == "spawn_error":
                os.close(read_fd)
                os.close(req_write)
                if msg is not None:
                    raise OSError(str(msg.get("message")))
                self.close()
                raise ForkServerDied()
            if msg.get("event") == "spawned":
                return int(msg["pid"]), read_fd, req_write, capacity

    def poll_exit(self, pid: int) -> dict[str, Any] | None:
        """Read pending control messages without waiting; the exit of ``pid`` if seen."""
        with contextlib.suppress(ForkServerDied):
            while self._recv(time.monotonic()) is not None:
                pass
        return self.exits.pop(pid, None)

    def wait_exit(self, pid: int, deadline: float) -> dict[str, Any] | None:
        while pid not in self.exits:
            if self._recv(deadline) is None:
                return None
        return self.exits.pop(pid)

    def kill(self, pid: int) -> dict[str, Any]:
        if pid in self.exits:
            return self.exits.pop(pid)
        self._send({"op": "kill", "pid": pid})
        exit_ = self.wait_exit(pid, time.monotonic() + ZYGOTE_REPLY_TIMEOUT)
        if exit_ is None:
            self.close()
            raise ForkServerDied()
        return exit_

    def close(self) -> None:
        self.dead = True
        with contextlib.suppress(OSError):
            self.sock.close()
        try:
            self.proc.wait(5.0)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        root = (self.info or {}).get("root")
        if isinstance(root, str) and os.path.basename(root).startswith("grader-sandbox-root-"):
            with contextlib.suppress(OSError):
                os.rmdir(root)  # left behind when the zygote could not clean up itself
