"""The system calls a hand-in may make, as a seccomp filter (an allowlist).

Loaded by file path by the fork server and the fresh-interpreter child (it imports nothing
of the grader). Every call not listed fails with EPERM: new namespaces (``unshare``,
``setns``, namespace flags of ``clone``), ``mount`` and its kin, ``chroot``,
``pivot_root``, ``ptrace`` and ``process_vm_*``, ``bpf``, ``perf_event_open``,
``userfaultfd``, ``io_uring_*`` and ``io_*``, kernel keyrings (``keyctl``, ``add_key``,
``request_key``), memory that no limit counts (``memfd_create``, ``memfd_secret``, SysV
shared memory, message queues and semaphores, POSIX message queues), ``listen``,
``pidfd_*``, ``kcmp``, ``personality``, modules, clocks, swap, reboot, accounting, and
every call of another architecture (32-bit ``int 0x80``; x32). ``clone3`` fails with
ENOSYS, so that the C library falls back to ``clone``, whose flags a filter can see.

Some allowed calls are checked by their arguments: ``socket`` for Unix, IPv4 and IPv6 only
(no vsock, netlink or packet sockets); ``ioctl`` without ``TIOCSTI``/``TIOCLINUX`` (typing
into a terminal); ``prlimit64``, ``setpriority`` and ``sched_set*`` on the calling process
only; ``kill`` and its kin never to a process group or to -1, nor to the ``protected``
pids (the grader and the fork server, where they share the hand-in's pid namespace).
"""

from __future__ import annotations

import errno
import platform

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7, "arm64": 0xC00000B7}

#: system call numbers, from the Linux UAPI headers (those from 424 on are the same on
#: every architecture), as "name number" pairs
_X86_64 = """
read 0  write 1  open 2  close 3  stat 4  fstat 5  lstat 6  poll 7  lseek 8  mmap 9
mprotect 10  munmap 11  brk 12  rt_sigaction 13  rt_sigprocmask 14  rt_sigreturn 15
ioctl 16  pread64 17  pwrite64 18  readv 19  writev 20  access 21  pipe 22  select 23
sched_yield 24  mremap 25  msync 26  mincore 27  madvise 28  dup 32  dup2 33  pause 34
nanosleep 35  getitimer 36  alarm 37  setitimer 38  getpid 39  sendfile 40  socket 41
connect 42  accept 43  sendto 44  recvfrom 45  sendmsg 46  recvmsg 47  shutdown 48  bind 49
getsockname 51  getpeername 52  socketpair 53  setsockopt 54  getsockopt 55  clone 56
fork 57  vfork 58  execve 59  exit 60  wait4 61  kill 62  uname 63  fcntl 72  flock 73
fsync 74  fdatasync 75  truncate 76  ftruncate 77  getdents 78  getcwd 79  chdir 80
fchdir 81  rename 82  mkdir 83  rmdir 84  creat 85  link 86  unlink 87  symlink 88
readlink 89  chmod 90  fchmod 91  chown 92  fchown 93  lchown 94  umask 95  gettimeofday 96
getrlimit 97  getrusage 98  sysinfo 99  times 100  getuid 102  getgid 104  setuid 105
setgid 106  geteuid 107  getegid 108  setpgid 109  getppid 110  getpgrp 111  setsid 112
setreuid 113  setregid 114  getgroups 115  setgroups 116  setresuid 117  getresuid 118
setresgid 119  getresgid 120  getpgid 121  setfsuid 122  setfsgid 123  getsid 124
capget 125  capset 126  rt_sigpending 127  rt_sigtimedwait 128  rt_sigqueueinfo 129
rt_sigsuspend 130  sigaltstack 131  utime 132  mknod 133  statfs 137  fstatfs 138
getpriority 140  setpriority 141  sched_setparam 142  sched_getparam 143
sched_setscheduler 144  sched_getscheduler 145  sched_get_priority_max 146
sched_get_priority_min 147  sched_rr_get_interval 148  mlock 149  munlock 150  mlockall 151
munlockall 152  prctl 157  arch_prctl 158  sync 162  gettid 186  readahead 187
setxattr 188  lsetxattr 189  fsetxattr 190  getxattr 191  lgetxattr 192  fgetxattr 193
listxattr 194  llistxattr 195  flistxattr 196  removexattr 197  lremovexattr 198
fremovexattr 199  tkill 200  time 201  futex 202  sched_setaffinity 203
sched_getaffinity 204  epoll_create 213  getdents64 217  set_tid_address 218
restart_syscall 219  fadvise64 221  timer_create 222  timer_settime 223  timer_gettime 224
timer_getoverrun 225  timer_delete 226  clock_gettime 228  clock_getres 229
clock_nanosleep 230  exit_group 231  epoll_wait 232  epoll_ctl 233  tgkill 234  utimes 235
get_mempolicy 239  waitid 247  ioprio_get 252  inotify_init 253  inotify_add_watch 254
inotify_rm_watch 255  openat 257  mkdirat 258  mknodat 259  fchownat 260  futimesat 261
newfstatat 262  unlinkat 263  renameat 264  linkat 265  symlinkat 266  readlinkat 267
fchmodat 268  faccessat 269  pselect6 270  ppoll 271  set_robust_list 273
get_robust_list 274  splice 275  tee 276  sync_file_range 277  vmsplice 278  utimensat 280
epoll_pwait 281  signalfd 282  timerfd_create 283  eventfd 284  fallocate 285
timerfd_settime 286  timerfd_gettime 287  accept4 288  signalfd4 289  eventfd2 290
epoll_create1 291  dup3 292  pipe2 293  inotify_init1 294  preadv 295  pwritev 296
rt_tgsigqueueinfo 297  recvmmsg 299  prlimit64 302  syncfs 306  sendmmsg 307  getcpu 309
sched_setattr 314  sched_getattr 315  renameat2 316  seccomp 317  getrandom 318
execveat 322  membarrier 324  mlock2 325  copy_file_range 326  preadv2 327  pwritev2 328
pkey_mprotect 329  pkey_alloc 330  pkey_free 331  statx 332  rseq 334  uretprobe 335
clone3 435  close_range 436  openat2 437  faccessat2 439  epoll_pwait2 441
landlock_create_ruleset 444  landlock_add_rule 445  landlock_restrict_self 446
futex_waitv 449  fchmodat2 452  map_shadow_stack 453  futex_wake 454  futex_wait 455
futex_requeue 456  mseal 462  setxattrat 463  getxattrat 464  listxattrat 465
removexattrat 466
"""
_AARCH64 = """
setxattr 5  lsetxattr 6  fsetxattr 7  getxattr 8  lgetxattr 9  fgetxattr 10  listxattr 11
llistxattr 12  flistxattr 13  removexattr 14  lremovexattr 15  fremovexattr 16  getcwd 17
eventfd2 19  epoll_create1 20  epoll_ctl 21  epoll_pwait 22  dup 23  dup3 24  fcntl 25
inotify_init1 26  inotify_add_watch 27  inotify_rm_watch 28  ioctl 29  ioprio_get 31
flock 32  mknodat 33  mkdirat 34  unlinkat 35  symlinkat 36  linkat 37  renameat 38
statfs 43  fstatfs 44  truncate 45  ftruncate 46  fallocate 47  faccessat 48  chdir 49
fchdir 50  fchmod 52  fchmodat 53  fchownat 54  fchown 55  openat 56  close 57  pipe2 59
getdents64 61  lseek 62  read 63  write 64  readv 65  writev 66  pread64 67  pwrite64 68
preadv 69  pwritev 70  sendfile 71  pselect6 72  ppoll 73  signalfd4 74  vmsplice 75
splice 76  tee 77  readlinkat 78  newfstatat 79  fstat 80  sync 81  fsync 82  fdatasync 83
sync_file_range 84  timerfd_create 85  timerfd_settime 86  timerfd_gettime 87  utimensat 88
capget 90  capset 91  exit 93  exit_group 94  waitid 95  set_tid_address 96  futex 98
set_robust_list 99  get_robust_list 100  nanosleep 101  getitimer 102  setitimer 103
timer_create 107  timer_gettime 108  timer_getoverrun 109  timer_settime 110
timer_delete 111  clock_gettime 113  clock_getres 114  clock_nanosleep 115
sched_setparam 118  sched_setscheduler 119  sched_getscheduler 120  sched_getparam 121
sched_setaffinity 122  sched_getaffinity 123  sched_yield 124  sched_get_priority_max 125
sched_get_priority_min 126  sched_rr_get_interval 127  restart_syscall 128  kill 129
tkill 130  tgkill 131  sigaltstack 132  rt_sigsuspend 133  rt_sigaction 134
rt_sigprocmask 135  rt_sigpending 136  rt_sigtimedwait 137  rt_sigqueueinfo 138
rt_sigreturn 139  setpriority 140  getpriority 141  setregid 143  setgid 144  setreuid 145
setuid 146  setresuid 147  getresuid 148  setresgid 149  getresgid 150  setfsuid 151
setfsgid 152  times 153  setpgid 154  getpgid 155  getsid 156  setsid 157  getgroups 158
setgroups 159  uname 160  getrlimit 163  getrusage 165  umask 166  prctl 167  getcpu 168
gettimeofday 169  getpid 172  getppid 173  getuid 174  geteuid 175  getgid 176  getegid 177
gettid 178  sysinfo 179  socket 198  socketpair 199  bind 200  accept 202  connect 203
getsockname 204  getpeername 205  sendto 206  recvfrom 207  setsockopt 208  getsockopt 209
shutdown 210  sendmsg 211  recvmsg 212  readahead 213  brk 214  munmap 215  mremap 216
clone 220  execve 221  mmap 222  fadvise64 223  mprotect 226  msync 227  mlock 228
munlock 229  mlockall 230  munlockall 231  mincore 232  madvise 233  get_mempolicy 236
rt_tgsigqueueinfo 240  accept4 242  recvmmsg 243  wait4 260  prlimit64 261  syncfs 267
sendmmsg 269  sched_setattr 274  sched_getattr 275  renameat2 276  seccomp 277
getrandom 278  execveat 281  membarrier 283  mlock2 284  copy_file_range 285  preadv2 286
pwritev2 287  pkey_mprotect 288  pkey_alloc 289  pkey_free 290  statx 291  rseq 293
clone3 435  close_range 436  openat2 437  faccessat2 439  epoll_pwait2 441
landlock_create_ruleset 444  landlock_add_rule 445  landlock_restrict_self 446
futex_waitv 449  fchmodat2 452  futex_wake 454  futex_wait 455  futex_requeue 456
mseal 462  setxattrat 463  getxattrat 464  listxattrat 465  removexattrat 466
"""


def _table(text: str) -> dict[str, int]:
    words = text.split()
    return {name: int(nr) for name, nr in zip(words[::2], words[1::2], strict=True)}


NUMBERS: dict[str, dict[str, int]] = {"x86_64": _table(_X86_64), "aarch64": _table(_AARCH64)}
NUMBERS["arm64"] = NUMBERS["aarch64"]

#: allowed whatever their arguments
ALLOWED = tuple(
    """
read write open close stat fstat lstat poll lseek mmap mprotect munmap brk rt_sigaction
rt_sigprocmask rt_sigreturn pread64 pwrite64 readv writev access pipe select sched_yield
mremap msync mincore madvise dup dup2 pause nanosleep getitimer alarm setitimer getpid
sendfile connect accept sendto recvfrom sendmsg recvmsg shutdown bind getsockname
getpeername socketpair setsockopt getsockopt fork vfork execve exit wait4 uname fcntl flock
fsync fdatasync truncate ftruncate getdents getcwd chdir fchdir rename mkdir rmdir creat
link unlink symlink readlink chmod fchmod chown fchown lchown umask gettimeofday getrlimit
getrusage sysinfo times getuid getgid setuid setgid geteuid getegid setpgid getppid getpgrp
setsid setreuid setregid getgroups setgroups setresuid getresuid setresgid getresgid
getpgid setfsuid setfsgid getsid capget capset rt_sigpending rt_sigtimedwait rt_sigsuspend
sigaltstack utime mknod statfs fstatfs getpriority sched_getparam sched_getscheduler
sched_get_priority_max sched_get_priority_min sched_rr_get_interval mlock munlock mlockall
munlockall prctl arch_prctl sync gettid readahead setxattr lsetxattr fsetxattr getxattr
lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr fremovexattr
time futex sched_getaffinity epoll_create getdents64 set_tid_address restart_syscall
fadvise64 timer_create timer_settime timer_gettime timer_getoverrun timer_delete
clock_gettime clock_getres clock_nanosleep exit_group epoll_wait epoll_ctl utimes
get_mempolicy waitid ioprio_get inotify_init inotify_add_watch inotify_rm_watch openat
mkdirat mknodat fchownat futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat
fchmodat faccessat pselect6 ppoll set_robust_list get_robust_list splice tee
sync_file_range vmsplice utimensat epoll_pwait signalfd timerfd_create eventfd fallocate
timerfd_settime timerfd_gettime accept4 signalfd4 eventfd2 epoll_create1 dup3 pipe2
inotify_init1 preadv pwritev recvmmsg syncfs sendmmsg getcpu sched_getattr renameat2
seccomp getrandom execveat membarrier mlock2 copy_file_range preadv2 pwritev2 pkey_mprotect
pkey_alloc pkey_free statx rseq uretprobe close_range openat2 faccessat2 epoll_pwait2
landlock_create_ruleset landlock_add_rule landlock_restrict_self futex_waitv fchmodat2
map_shadow_stack futex_wake futex_wait futex_requeue mseal setxattrat getxattrat
listxattrat removexattrat
""".split()
)

CLONE_NAMESPACES = 0x7E020080  # NEWNS NEWCGROUP NEWUTS NEWIPC NEWUSER NEWPID NEWNET NEWTIME
AF_ALLOWED = (1, 2, 10)  # AF_UNIX, AF_INET, AF_INET6
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
SIGNALLING = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")
OWN_PROCESS_ONLY = (
    "prlimit64",
    "sched_setaffinity",
    "sched_setparam",
    "sched_setscheduler",
    "sched_setattr",
)
#: allowed after a look at their arguments (clone3: refused, with ENOSYS)
RULES = ("clone", "clone3", "socket", "ioctl", "setpriority", *OWN_PROCESS_ONLY, *SIGNALLING)

RET_ALLOW = 0x7FFF0000
RET_ERRNO = 0x00050000
_LD_W_ABS, _JEQ, _JGT, _JGE, _JSET, _RET = 0x20, 0x15, 0x25, 0x35, 0x45, 0x06
#: offsets into struct seccomp_data
_NR, _ARCH = 0, 4

Instruction = tuple[int, int, int, int]


def _arg(i: int) -> int:
    """Offset of the low 32 bits of argument ``i`` (both architectures are little-endian;
    the kernel reads these arguments as 32-bit ints)."""
    return 16 + 8 * i


def _load_arg(i: int) -> Instruction:
    return (_LD_W_ABS, 0, 0, _arg(i))


def _ret(value: int) -> Instruction:
    return (_RET, 0, 0, value)


def _deny(err: int = errno.EPERM) -> Instruction:
    return _ret(RET_ERRNO | err)


_ALLOW = _ret(RET_ALLOW)


def _rule(name: str, protected: tuple[int, ...]) -> list[Instruction]:
    """The argument checks of one system call; every path ends in a return."""
    if name == "clone3":
        return [_deny(errno.ENOSYS)]
    if name == "clone":
        return [_load_arg(0), (_JSET, 0, 1, CLONE_NAMESPACES), _deny(), _ALLOW]
    if name == "socket":
        n = len(AF_ALLOWED)
        families = [(_JEQ, n - i, 0, family) for i, family in enumerate(AF_ALLOWED)]
        return [_load_arg(0), *families, _deny(), _ALLOW]
    if name == "ioctl":
        return [_load_arg(1), (_JEQ, 1, 0, TIOCSTI), (_JEQ, 0, 1, TIOCLINUX), _deny(), _ALLOW]
    if name == "setpriority":  # (PRIO_PROCESS, 0): the calling process
        return [_load_arg(0), (_JEQ, 0, 2, 0), _load_arg(1), (_JEQ, 1, 0, 0), _deny(), _ALLOW]
    if name in OWN_PROCESS_ONLY:
        return [_load_arg(0), (_JEQ, 1, 0, 0), _deny(), _ALLOW]
    if name in SIGNALLING:
        k = len(protected)
        pids = [(_JEQ, k - i, 0, pid) for i, pid in enumerate(protected)]
        return [_load_arg(0), (_JSET, k + 1, 0, 0x80000000), *pids, _ALLOW, _deny()]
    raise KeyError(name)


def _ranges(numbers: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for n in sorted(set(numbers)):
        if out and n == out[-1][1] + 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def program(machine: str | None = None, protected: tuple[int, ...] = ()) -> list[Instruction]:
    """The filter for ``machine`` (this one by default) as BPF instructions.

    Raises KeyError for an architecture without a table."""
    machine = machine or platform.machine()
    numbers, arch = NUMBERS[machine], AUDIT_ARCH[machine]
    prog: list[Instruction] = [(_LD_W_ABS, 0, 0, _ARCH), (_JEQ, 1, 0, arch), _deny()]
    prog.append((_LD_W_ABS, 0, 0, _NR))
    for name in RULES:
        if name in numbers:
            block = _rule(name, protected)
            prog += [(_JEQ, 0, len(block), numbers[name]), *block]
    # sorted ranges of the plain allowlist, each: above it, go on; inside, allow; else deny
    for low, high in _ranges([numbers[n] for n in ALLOWED if n in numbers]):
        prog += [(_JGT, 3, 0, high), (_JGE, 0, 1, low), _ALLOW, _deny()]
    prog.append(_deny())
    return prog
