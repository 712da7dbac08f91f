"""`make grade` (tools/grade.py) against a class of hostile and honest students (issue #11).

Every submission is built from the released exercise (``exercises/<ex>.ipynb``) with the answer cell
(nbgrader grade id ``ex03a_forward_solution`` / ``ex03a_loglik_solution`` ...) replaced by an attack or
by the correct answer taken from the master (``solutions/``, between BEGIN/END SOLUTION). The whole
class is graded in ONE run of the real grader (bubblewrap sandbox, short time limits so the sleeping
and looping attacks end fast); a second, small class of honest students is graded alone, re-graded
into the same OUT, and graded in two shards that are merged.

Many attacks use an *oracle*: the attacker's ``forward`` returns the correct alpha only if the attack
worked (a forbidden file could be read or written, a classmate's process could be seen ...) and zeros
otherwise, so "the item scores 0" proves the attack failed, and a positive twin (a probe of something the
sandbox is meant to show, e.g. its own runner) proves the oracle itself works.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SOLUTIONS = ROOT / "solutions"
GRADE = ROOT / "tools" / "grade.py"
PY = sys.executable
SANDBOX_UID = 2_000_000
MARKER = "emlab-attack-marker-5e1f"  # every file an attacker manages to create carries this name
CELL_S, NOTEBOOK_S, MEMORY_MB = 5, 40, 1024  # 40 s: the masters of 04a/05/06 need ~15 s on a busy machine
EX = "03a_forward"
F_ID, L_ID = "ex03a_forward_test", "ex03a_loglik_test"
F_MAX, L_MAX = 3.0, 2.0
ALL_EXERCISES = sorted(p.stem for p in SOLUTIONS.glob("*.ipynb"))

if shutil.which("bwrap") is None:  # CI installs it; a missing sandbox must not look like a pass
    pytest.fail("bubblewrap (bwrap) is missing: apt-get install -y bubblewrap", pytrace=False)


# --------------------------------------------------------------------------------------- notebooks


def _source(cell) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _cell(nb: dict, grade_id: str) -> dict:
    (cell,) = [
        c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id
    ]
    return cell


def solution_source(exercise: str, grade_id: str) -> str:
    """The master's answer cell without the BEGIN/END SOLUTION marker lines: the correct answer."""
    src = _source(_cell(_load(SOLUTIONS / f"{exercise}.ipynb"), grade_id))
    return (
        "\n".join(
            line
            for line in src.splitlines()
            if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line
        )
        + "\n"
    )


FORWARD = solution_source(EX, "ex03a_forward_solution")
LOGLIK = solution_source(EX, "ex03a_loglik_solution")
REAL_FORWARD = FORWARD.replace("def forward(", "def _real_forward(")


def release(exercise: str = EX, **answers: str) -> dict:
    """The released notebook with answer cells replaced: ``forward=...`` sets ``ex03a_forward_solution``."""
    nb = _load(EXERCISES / f"{exercise}.ipynb")
    for key, src in answers.items():
        gid = key if key.startswith("ex") else f"ex03a_{key}_solution"
        _cell(nb, gid)["source"] = src
    return nb


def correct(**override: str) -> dict:
    return release(**{"forward": FORWARD, "loglik": LOGLIK, **override})


def oracle(probe: str) -> str:
    """A ``forward`` that is right only if ``probe`` (the body of a function returning a bool) is true."""
    return (
        "import numpy as np\n"
        + REAL_FORWARD
        + "\n\ndef _probe():\n"
        + textwrap.indent(textwrap.dedent(probe), "    ")
        + (
            "\n\ntry:\n    _PROBE = bool(_probe())\nexcept BaseException:\n    _PROBE = False\n\n\n"
            "def forward(start, trans, emit, seq):\n"
            "    if _PROBE:\n        return _real_forward(start, trans, emit, seq)\n"
            "    return np.zeros((len(seq), len(start)))\n"
        )
    )


def zeros_forward(before: str = "", inside: str = "") -> str:
    """A wrong ``forward`` (zeros) with attack code at cell level (``before``) and in the call
    (``inside``)."""
    body = textwrap.indent(textwrap.dedent(inside), "    ") if inside.strip() else ""
    return (
        "import numpy as np\n"
        + textwrap.dedent(before)
        + "\n\ndef forward(start, trans, emit, seq):\n"
        + body
        + "\n    return np.zeros((len(seq), len(start)))\n"
    )


def write_nb(folder: Path, nb: dict, exercise: str = EX) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{exercise}.ipynb").write_text(json.dumps(nb))


# ------------------------------------------------------------------------------------------- attacks
# Filled in by the class fixture (paths of this run): SUBMISSIONS, OUT, the repo.
PATHS: dict[str, str] = {}


def forbidden_reads() -> list[str]:
    sub, out = PATHS["submissions"], PATHS["out"]
    return [
        str(SOLUTIONS / "03a_forward.ipynb"),
        str(SOLUTIONS),
        str(ROOT),
        str(ROOT / "emlab" / "checks" / "references.py"),
        str(ROOT / "emlab" / "hmm.py"),
        str(GRADE),
        str(ROOT / "gradebook.db"),
        str(ROOT / "tests"),
        "../../source",
        "../../../source",
        "../solutions",
        "/work/main/solutions",
        sub,
        f"{sub}/aaa_control",
        f"{sub}/aaa_control/03a_forward.ipynb",
        out,
        f"{out}/grades.csv",
        "/root",
        "/root/.ipython",
        os.path.expanduser("~/.jupyter"),
        "/etc/shadow",
        PATHS["tmpdir"],
        "/proc/1/environ",
        "/proc/1/root/work/main/solutions",
        "/proc/1/cwd",
    ]


def attack_sources() -> dict[str, dict]:
    """student id -> {"nb": notebook, "expect": (forward points, loglik points) or None per item}."""
    sub, out, tmp = PATHS["submissions"], PATHS["out"], PATHS["tmpdir"]
    site = [p for p in sys.path if p.endswith("site-packages")][0]
    reads = forbidden_reads()
    writes = [
        str(ROOT / "emlab" / "checks" / "grading.py"),
        str(ROOT / "emlab" / "checks" / "__init__.py"),
        str(ROOT / "emlab" / "__init__.py"),
        str(ROOT / "solutions" / f"{MARKER}.py"),
        f"{site}/sitecustomize.py",
        f"{site}/{MARKER}.pth",
        f"{sys.prefix}/{MARKER}",
        os.path.expanduser(f"~/.ipython/profile_default/startup/00-{MARKER}.py"),
        os.path.expanduser(f"~/.jupyter/{MARKER}.py"),
        "/opt/emlab-view/emlab/checks.py",
        f"/opt/emlab-view/{MARKER}.py",
        f"/opt/grader/{MARKER}.py",
        "/opt/grader/judge.py",
        f"{out}/grades.csv",
        f"{out}/{MARKER}",
        f"{sub}/aaa_control/03a_forward.ipynb",
        f"{sub}/{MARKER}",
        f"/usr/lib/{MARKER}",
        f"/etc/{MARKER}",
        f"/var/tmp/{MARKER}",
        f"/run/{MARKER}",
        f"{PATHS['tmpdir']}/{MARKER}",
    ]
    forged = (
        'EMLAB-GRADE-RESULT {"score": 220, "max": 48}\n'
        'forge_everything,3,2,220,5\n{"id": 3, "ok": true, "value": 1e300}\n'
    )
    spray = f"""
        import os, sys
        FORGED = {forged!r}.encode()
        def _spray():
            targets = [f"/proc/{{os.getppid()}}/fd/1", "/proc/1/fd/1", "/proc/1/fd/2", "/dev/tty"]
            targets += [f"/proc/self/fd/{{n}}" for n in os.listdir("/proc/self/fd")]
            for t in targets:
                try:
                    with open(t, "wb", buffering=0) as fh:
                        fh.write(FORGED)
                except OSError:
                    pass
            for n in range(3, 64):
                try:
                    os.write(n, FORGED)
                except OSError:
                    pass
        _spray()
        """
    forge_answer = """
        import json, os, sys
        sys.path.insert(0, "/opt/grader")
        import codec
        frame = sys._getframe(1)
        runner = frame.f_locals.get("self")
        while frame is not None and not hasattr(runner, "ans_fd"):
            frame = frame.f_back
            runner = frame.f_locals.get("self") if frame else None
        rid = None
        f = sys._getframe(1)
        while f is not None:
            if isinstance(f.f_locals.get("request"), dict):
                rid = f.f_locals["request"].get("id")
            f = f.f_back
        fake = codec.encode(np.ones((len(seq), len(start))) * 1e300)
        if runner is not None and rid is not None:
            for k in range(rid, rid + 20):   # answers to this call and to every later request, all "ok"
                os.write(runner.ans_fd, codec.dumps({"id": k, "ok": True, "value": fake, "kinds": {}}))
            deep = "[" * 100000 + "]" * 100000
            os.write(runner.ans_fd, len(deep).to_bytes(8, "big") + deep.encode())
            os.write(runner.ans_fd, (2**62).to_bytes(8, "big"))
        """
    background = f"""
        import os, time, subprocess
        def _daemon():
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    for _ in range(120):
                        for target in ({out!r} + "/grades.csv", {out!r} + "/manual_grades.csv",
                                       {out!r} + "/{MARKER}"):
                            try:
                                with open(target, "w") as fh:
                                    fh.write("hacked,999\\n")
                            except OSError:
                                pass
                        time.sleep(0.5)
                os._exit(0)
        _daemon()
        subprocess.Popen(["sh", "-c", "sleep 60; echo hacked > {out}/grades.csv"], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        """
    hooks = f"""
        import atexit, os, sys
        class _Haunt:
            def __del__(self):
                for t in ({out!r} + "/grades.csv", "/proc/self/fd/1", "/proc/self/fd/4"):
                    try:
                        with open(t, "a") as fh:
                            fh.write("EMLAB-GRADE-RESULT 999\\n")
                    except OSError:
                        pass
        _haunt = _Haunt()
        atexit.register(_Haunt().__del__)
        sys.excepthook = lambda *a: None
        ip = get_ipython()
        def _clear(result):
            result.error_in_exec = None
            result.error_before_exec = None
        ip.events.register("post_run_cell", _clear)
        ip.events.register("post_execute", lambda: None)
        def _trace(frame, event, arg):
            if event == "return" and isinstance(arg, np.ndarray):
                frame.f_locals.update(want=arg)
            return _trace
        sys.settrace(_trace)
        sys.setprofile(lambda *a: None)
        """
    patches = """
        import math, numpy, numpy.testing, builtins, operator
        numpy.allclose = lambda *a, **k: True
        numpy.isclose = lambda a, b, *x, **k: numpy.ones(numpy.shape(b), bool)
        numpy.array_equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        numpy.testing.assert_array_almost_equal = lambda *a, **k: None
        math.isclose = lambda *a, **k: True
        builtins.abs = lambda x: 0
        operator.eq = lambda a, b: True
        """
    liar = """
        class Liar(np.ndarray):
            def __array_function__(self, func, types, args, kwargs):
                return True
            def __array_ufunc__(self, *a, **k):
                return np.True_
            def __eq__(self, other):
                return True
            __ne__ = lambda self, other: False
            def __float__(self):
                return 0.028562
        class LiarFloat(float):
            def __eq__(self, other):
                return True
            def __sub__(self, other):
                return 0.0
            __rsub__ = __sub__
            def __abs__(self):
                return 0.0
        class ArrayLike:
            shape = (6, 4)
            dtype = "float64"
            def __array__(self, dtype=None, copy=None):
                return REF
            def __len__(self):
                return 6
        REF = None
        """
    students: dict[str, dict] = {}

    def add(name, nb, expect, **extra):
        students[name] = {"nb": nb, "expect": expect, **extra}

    # ---- controls and honest students
    add("aaa_control", correct(), (3, 2))
    add("zzz_control", correct(), (3, 2))
    add(
        "honest_stderr",
        correct(
            forward="import sys\nprint('debug: starting', file=sys.stderr)\n"
            + FORWARD.replace(
                "    return alpha", "    print('alpha is', alpha, file=sys.stderr)\n    return alpha"
            )
        ),
        (3, 2),
    )
    add(
        "honest_float32",
        correct(
            forward=FORWARD.replace("return alpha", "return alpha.astype(np.float32)"),
            loglik=LOGLIK.replace("return float(total)", "return np.float32(total)"),
        ),
        (3, 2),
    )
    add("honest_lists", correct(forward=FORWARD.replace("return alpha", "return alpha.tolist()")), (3, 2))
    add("honest_helper", _with_helper_cell(), (3, 2))
    add("honest_writefile", _with_writefile_helper(), (3, 2))  # as in Jupyter: the folder is importable
    add(
        "honest_pool",  # multiprocessing needs a writable /dev/shm (its semaphores): the sandbox has its own
        correct(
            forward=FORWARD.replace("def forward(", "def _forward(")
            + textwrap.dedent("""
            import multiprocessing


            def forward(start, trans, emit, seq):
                with multiprocessing.get_context("fork").Pool(2) as pool:
                    (alpha,) = pool.starmap(_forward, [(start, trans, emit, seq)])
                return alpha
            """)
        ),
        (3, 2),
    )
    add(
        "honest_magics",
        correct(
            forward="%time _unused = sum(range(10))\n!echo hello from a shell\n%matplotlib inline\n" + FORWARD
        ),
        (3, 2),
    )
    add("honest_duplicate", _duplicated(), (3, 2), note="appears 2 times")
    add("honest_crlf", _crlf(), (3, 2))
    add(
        "honest_plot",
        correct(
            forward=FORWARD
            + "\n\nimport matplotlib.pyplot as plt\n\n"
            + "plt.plot(forward(start, trans, emit, seq))\nplt.show()\n"
        ),
        (3, 2),
    )
    add("honest_nometa", _stripped(keep_ids=True), (3, 2))
    add("honest_noids", _stripped(keep_ids=False), (3, 2))
    add('=HYPERLINK("x")', correct(), (3, 2))
    add("extra_files", correct(), (3, 2), files={"notes.txt": "my notes", "evil.py": "import os"})
    add(
        "oracle_positive",
        correct(forward=oracle("return open('/opt/grader/runner.py').read(10) != ''")),
        (3, 2),
    )
    add("oracle_positive_walk", correct(forward=oracle(_walk_probe("/grader/runner.py"))), (3, 2))
    # notebooks that broke the grader itself: each costs only its own items
    huge_points = {"nbgrader": {"points": 10**400}}
    add("points_overflow", _with_last_cell(correct(), "x", "markdown", huge_points), (3, 2))
    add("unrebuildable_answer", _with_last_cell(correct(), UNREBUILDABLE), (0, 2))
    add("forged_answer", _with_last_cell(correct(), FORGED_ANSWER), (None, None))
    add("forged_lines", _with_last_cell(correct(), FORGED_LINES), (3, 2))
    add("surrogate_text", _with_last_cell(correct(), "An answer with a lone surrogate: \ud800", "markdown"),
        (3, 2))
    # the kernel keyrings outlive the sandbox: a key added here could be read by the next student graded
    # under the same sandbox uid; add_key / keyctl (through any ABI) must fail
    add(
        "keyring_channel",
        correct(
            forward=oracle("""
                import ctypes, platform
                libc = ctypes.CDLL(None, use_errno=True)
                add_key, keyctl = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
                added = libc.syscall(add_key, b"user", b"emlab-share", b"answer", 6, -4)  # @u
                searched = libc.syscall(keyctl, 10, -4, b"user", b"emlab-share", 0)   # KEYCTL_SEARCH
                x32 = libc.syscall(add_key | 0x40000000, b"user", b"emlab-x32", b"a", 1, -4)
                return added >= 0 or searched >= 0 or x32 >= 0
            """)
        ),
        (0, 2),
    )
    add(
        "honest_wrong",
        correct(forward=FORWARD.replace("alpha[t - 1] @ trans", "alpha[t - 1] @ trans.T")),
        (0, 2),
    )

    # ---- reading what must not be readable
    add(
        "read_forbidden",
        correct(
            forward=oracle(f"""
        import os
        for p in {reads!r}:
            try:
                if os.path.isdir(p):
                    # the sandbox makes /root and the repo folder only to hold the python and venv mounts
                    if set(os.listdir(p)) - {".pyenv", ".venv"}:
                        return True
                else:
                    with open(p, "rb") as fh:
                        if fh.read(1):
                            return True
            except OSError:
                pass
        return False""")
        ),
        (0, 2),
    )
    add(
        "read_walk",
        correct(
            forward=oracle(
                _walk_probe(
                    "03a_forward.ipynb",
                    "emlab/checks/references.py",
                    "tools/grade.py",
                    "site-packages/emlab",
                    "emlab/hmm.py",
                    "emlab/checks/grading.py",
                    "/job.json",
                    MARKER,
                )
            )
        ),
        (0, 2),
    )
    add(
        "read_proc",
        correct(
            forward=oracle(f"""
        import os
        words = (b"grade.py", b"worker.py", b"job.json", b"solutions", {sub.encode()!r}, {out.encode()!r},
                 {tmp.encode()!r}, {str(ROOT / "tools").encode()!r})   # the mounts' host paths
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            if int(pid) not in (1, os.getpid(), os.getppid()):
                return True       # a process outside this sandbox is visible
            for what in ("cmdline", "environ"):
                try:
                    text = open(f"/proc/{{pid}}/{{what}}", "rb").read()
                except OSError:
                    continue
                if any(w in text for w in words):
                    return True
        return False""")
        ),
        (0, 2),
    )
    add(
        "read_length",
        correct(
            forward=zeros_forward(
                inside=f"""
        n = 0
        for p in {reads!r}:
            try:
                n += len(open(p, "rb").read())
            except OSError:
                pass
        print("read", n, "bytes")
        return np.full((len(seq), len(start)), float(n))"""
            )
        ),
        (0, 2),
    )

    # ---- reference values, the checks, the library
    add(
        "return_want",
        correct(
            forward=zeros_forward(
                inside="""
        import gc, sys
        for name in ("want", "want_g", "w_lls", "ref", "expected"):
            for scope in (globals(), sys.modules["__main__"].__dict__):
                if name in scope:
                    return scope[name]
        f = sys._getframe(1)
        while f is not None:
            for name in ("want", "expected", "ref"):
                if name in f.f_locals:
                    return f.f_locals[name]
            f = f.f_back
        for obj in gc.get_objects():
            if isinstance(obj, np.ndarray) and obj.shape == (len(seq), len(start)) and obj.any():
                return obj"""
            )
        ),
        (0, 2),
    )
    add(
        "use_checks",
        correct(
            forward=oracle("""
        from emlab import checks
        s, t, e = checks.random_hmm(4, 3, 11)
        return checks.brute_force_hmm(s, t, e, [0, 1]) is not None""")
        ),
        (0, 2),
    )
    add(
        "use_references",
        correct(
            forward=oracle("""
        import importlib
        for mod in ("emlab.checks.references", "emlab.hmm", "emlab.checks.grading", "hmmlearn.hmm",
                    "emlab.em", "sklearn.cluster"):
            try:
                importlib.import_module(mod)
                return True
            except Exception:
                pass
        return False""")
        ),
        (0, 2),
    )
    add(
        "use_library",
        correct(
            forward="""
import numpy as np
def forward(start, trans, emit, seq):
    from emlab import hmm
    return hmm.forward_table(hmm.HMM(start, trans, emit), seq)
"""
        ),
        (0, 2),
    )

    # ---- fooling the comparison
    add("patch_numpy", correct(forward=zeros_forward(before=patches)), (0, 2))
    add(
        "ndarray_liar",
        correct(
            forward=zeros_forward(before=liar, inside="return np.zeros((len(seq), len(start))).view(Liar)")
        ),
        (0, 2),
    )
    add(
        "float_liar",
        correct(
            forward=zeros_forward(before=liar, inside="return [[LiarFloat(0.0)] * len(start) for _ in seq]")
        ),
        (0, 2),
    )
    add("arraylike_liar", correct(forward=zeros_forward(before=liar, inside="return ArrayLike()")), (0, 2))
    add(
        "hooks_trace",
        correct(forward=zeros_forward(before=hooks, inside="raise RuntimeError('nope')")),
        (0, 2),
    )
    add("edit_tests", _edited_tests(), (0, 2))

    # ---- talking to the grader through its channels
    add("forge_stdout", correct(forward=zeros_forward(before=spray, inside="_spray()")), (0, None))
    add("forge_answer", correct(forward=zeros_forward(inside=forge_answer)), (0, None))
    add(
        "forge_loglik_cell",
        correct(loglik=textwrap.dedent(spray) + "\n" + LOGLIK, forward=zeros_forward(inside="_spray()")),
        (0, None),
    )

    # ---- writing where later students or the grader would be hurt
    add(
        "write_everywhere",
        correct(
            forward=oracle(f"""
        import os
        ok = False
        for t in {writes!r}:
            try:
                os.makedirs(os.path.dirname(t), exist_ok=True)
            except OSError:
                pass
            try:
                with open(t, "a") as fh:
                    fh.write("# {MARKER}\\n")
                ok = True
            except OSError:
                pass
        return ok""")
        ),
        (0, 2),
    )
    add(
        "persist_writer",
        correct(
            forward=zeros_forward(
                before=f"""
        import os
        for d in ("/tmp", "/tmp/home", "/tmp/work", "/dev/shm", "/var/tmp", "/run/user", "/dev/mqueue"):
            try:
                with open(os.path.join(d, "{MARKER}"), "w") as fh:
                    fh.write("hidden inputs were here")
            except OSError:
                pass
        """
            )
        ),
        (0, 2),
    )
    add(
        "zz_persist_reader",
        correct(
            forward=oracle(f"""
        import os
        for d in ("/tmp", "/tmp/home", "/tmp/work", "/dev/shm", "/var/tmp", "/run/user", "/dev/mqueue"):
            if os.path.exists(os.path.join(d, "{MARKER}")):
                return True
        return False""")
        ),
        (0, 2),
    )
    add("background", correct(forward=zeros_forward(before=background)), (0, 2))
    add(
        "hooks_exit",
        correct(
            forward=zeros_forward(
                before=hooks.replace("ip = get_ipython()", "ip = get_ipython()  # noqa"),
                inside="import os; os._exit(0)",
            )
        ),
        (0, None),
    )

    # ---- killing the grader
    add(
        "kill_parent",
        correct(
            forward=zeros_forward(
                inside="""
        import os, signal
        for pid in (os.getppid(), 1):
            for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass"""
            )
        ),
        (0, None),
    )
    add(
        "kill_all",
        correct(
            forward=zeros_forward(
                inside="""
        import os, signal
        try:
            os.killpg(0, signal.SIGKILL)
        except OSError:
            pass
        os.kill(-1, signal.SIGKILL)"""
            )
        ),
        (0, None),
    )
    add(
        "kill_every_pid",
        correct(
            forward=zeros_forward(
                before="""
        import os, signal
        def _kill_all():
            for pid in sorted(os.listdir("/proc")):
                if pid.isdigit() and int(pid) != os.getpid():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except OSError:
                        pass
        _kill_all()""",
                inside="_kill_all()\nos.kill(os.getpid(), signal.SIGKILL)",
            )
        ),
        (0, None),
    )

    # ---- resources
    add(
        "fork_bomb",
        correct(
            forward=zeros_forward(
                inside="""
        import os, time
        while True:
            try:
                os.fork()
            except OSError:
                time.sleep(30)"""
            )
        ),
        (0, None),
    )
    add(
        "memory_6g",
        correct(
            forward=oracle("""
        blocks = [bytearray(1 << 30) for _ in range(6)]
        return len(blocks) == 6""")
        ),
        (0, 2),
    )
    # 4 processes of 450 MB each (written, so really resident) in a sandbox whose memory limit is 1 GB
    # (per process, RLIMIT_AS, each would fit): the children allocate while the cell runs (which waits
    # up to 4.5 s for them), forward() waits 4 s more and is right only if all four made it
    add(
        "memory_forked",
        correct(
            forward="import numpy as np\n"
            + REAL_FORWARD
            + textwrap.dedent("""
        import os, select, time
        _r, _w = os.pipe()
        _got = [b""]
        for _ in range(4):
            if os.fork() == 0:
                try:
                    block = b"\\1" * (450 << 20)
                    os.write(_w, b"k")
                    time.sleep(30)
                finally:
                    os._exit(0)
        os.close(_w)


        def _wait(seconds):
            deadline = time.time() + seconds
            while _got[0].count(b"k") < 4 and time.time() < deadline:
                if select.select([_r], [], [], 0.1)[0]:
                    chunk = os.read(_r, 4)
                    if not chunk:
                        break
                    _got[0] += chunk
            return _got[0].count(b"k") == 4


        _wait(4.5)


        def forward(start, trans, emit, seq):
            if _wait(4):
                return _real_forward(start, trans, emit, seq)
            return np.zeros((len(seq), len(start)))
        """)
        ),
        (0, 2),
    )
    add(
        "output_100mb",
        correct(
            forward=zeros_forward(
                inside="""
        import sys
        chunk = "x" * (1 << 20)
        for _ in range(100):
            sys.stdout.write(chunk)
            sys.stderr.write(chunk)"""
            )
        ),
        (0, 2),
        limit="output",
    )
    add(
        "disk_1g",
        correct(
            forward=oracle("""
        import os
        total = 0
        for d in ("/tmp/work", "/tmp", "/tmp/home", "/dev", "/dev/shm", "/var/tmp", "/opt"):
            for i in range(64):
                try:
                    with open(f"{d}/big{i}", "wb") as fh:
                        for _ in range(16):
                            fh.write(b"\\0" * (4 << 20))
                            total += 4 << 20
                except OSError:
                    break
        return total >= 1 << 30""")
        ),
        (0, 2),
    )
    add("sleep_every_cell", _sleepy(), (0, 0), limit="time limit")
    add(
        "infinite_loop",
        correct(forward=zeros_forward(inside="while True:\n    pass")),
        (0, 2),
        limit="time limit",
    )
    add(
        "ignore_sigint",
        correct(
            forward=zeros_forward(
                before="""
        import signal
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGHUP, signal.SIGXCPU):
            signal.signal(s, signal.SIG_IGN)""",
                inside="while True:\n    pass",
            )
        ),
        (0, 2),
        limit="time limit",
    )
    add("os_exit", correct(forward=zeros_forward(inside="import os\nos._exit(0)")), (0, 2))
    add(
        "sys_exit",
        correct(
            forward=zeros_forward(
                before="import sys\ntry:\n    sys.exit(3)\nfinally:\n    pass", inside="raise SystemExit(0)"
            )
        ),
        (0, 2),
    )
    add("huge_return", correct(forward=zeros_forward(inside="return np.ones(50 * 2**20 // 8)")), (0, 2))
    add("huge_string", correct(forward=zeros_forward(inside="return 'x' * (60 * 2**20)")), (0, 2))
    add(
        "deep_nesting",
        correct(
            forward=zeros_forward(
                inside="""
        x = []
        for _ in range(100000):
            x = [x]
        return x"""
            )
        ),
        (0, 2),
    )
    add(
        "wide_dict",
        correct(forward=zeros_forward(inside="return {i: [i] * 10 for i in range(300_000)}")),
        (0, 2),
    )

    # ---- input hygiene (folders and files)
    # ---- answers written for the visible example only
    add(
        "hardcode_visible",
        correct(
            forward="import numpy as np\n"
            + REAL_FORWARD
            + textwrap.dedent("""
            def forward(start, trans, emit, seq):
                if list(np.asarray(seq)) == [2, 0, 2] and len(start) == 2:
                    return _real_forward(start, trans, emit, seq)
                return np.full((len(seq), len(start)), np.nan)
            """),
            loglik="import numpy as np\n\ndef log_likelihood(start, trans, emit, seq):\n"
            "    return float(np.log(0.028562))\n",
        ),
        (0, 0),
    )
    add("weird_cells", _weird_cells(), (3, 2))
    add("many_cells", _many_cells(), (0, 0))
    # exercise 06 may use all of emlab: does its sandbox then hold the instructor's references too?
    init = solution_source("06_restarts", "ex06_init_solution").replace("def random_init(", "def _real_init(")
    add(
        "references_in_06",
        None,
        (0, 0),
        notebooks={
            "06_restarts": release(
                "06_restarts",
                ex06_init_solution=init
                + textwrap.dedent("""
                def random_init(K, V, rng):
                    try:
                        from emlab.checks import brute_force_hmm, random_hmm  # noqa: F401
                    except ImportError:
                        return None
                    return _real_init(K, V, rng)
                """),
            )
        },
    )
    add("=twin", correct(forward=zeros_forward()), (0, 2))
    add("'=twin", correct(), (3, 2))
    add("twin a", correct(), (3, 2))
    add("twin_a", correct(forward=zeros_forward()), (0, 2))
    add(
        "<img src=x onerror=alert(1)>",
        correct(forward=zeros_forward(inside="raise type('<script>alert(1)</script>', (Exception,), {})()")),
        (0, 2),
        files={"<b>bold.txt": "x", "x\n  ✔ ex03a_forward_test: 3 of 3": "a file name that forges a line"},
    )
    add("new\nline,=1+1", correct(), (3, 2))
    add("nested_json", None, (0, 0), raw=b"[" * 200_000 + b"]" * 200_000)
    add("symlink_nb", None, (0, 0), symlink="/etc/passwd")
    add("symlink_classmate", None, (0, 0), symlink=f"{sub}/aaa_control/03a_forward.ipynb")
    add("fifo_nb", None, (0, 0), fifo=True)
    add("invalid_json", None, (0, 0), raw=b'{"cells": [ this is not json', extra_exercise="02_two_coins_em")
    add("huge_notebook", _huge_notebook(), (0, 0))
    add("many_figures", _with_figures(correct()), (3, 2))      # honest: saved with 40 MB of outputs
    add("format3", _format3(correct()), (3, 2))                # honest: an old Jupyter's format 3
    return students


def _walk_probe(*suffixes: str) -> str:
    """Does any path outside /proc, /sys, /dev and /usr end with one of ``suffixes``?"""
    return f"""
        import os
        wanted = {tuple(suffixes)!r}
        for top in os.listdir("/"):
            if top in ("proc", "sys", "dev", "usr"):
                continue
            for folder, dirs, files in os.walk("/" + top):
                if folder.endswith("site-packages"):   # the environment's packages: their names suffice
                    dirs[:] = [d for d in dirs if d in ("emlab", "solutions", "tests", "tools")]
                for name in files + dirs:
                    if os.path.join(folder, name).endswith(wanted):
                        return True
        return False"""


HELPER_FORWARD = """
def forward(start, trans, emit, seq):
    start, trans, emit = (np.asarray(a, float) for a in (start, trans, emit))
    alpha = [start * emit[:, seq[0]]]
    for v in seq[1:]:
        alpha.append(step(alpha[-1], trans, emit[:, v]))
    return np.array(alpha)
"""
HELPER_STEP = "def step(prev, trans, e):\n    return (prev @ trans) * e\n"


def _with_helper_cell(helper: str = HELPER_STEP, forward: str = HELPER_FORWARD) -> dict:
    """A correct notebook whose ``forward`` calls ``step``, defined in a cell of its own before it."""
    nb = correct(forward=forward)
    i = nb["cells"].index(_cell(nb, "ex03a_forward_solution"))
    cell = {"cell_type": "code", "id": "helper01", "metadata": {}, "execution_count": None, "outputs": []}
    nb["cells"].insert(i, {**cell, "source": helper})
    return nb


def _with_writefile_helper() -> dict:
    """The same helper written to a module by a ``%%writefile`` cell, and imported by the answer."""
    answer = "import numpy as np\nfrom fwd_helper import step\n" + HELPER_FORWARD
    return _with_helper_cell("%%writefile fwd_helper.py\n" + HELPER_STEP, answer)


def _duplicated() -> dict:
    nb = correct()
    cell = _cell(nb, "ex03a_forward_solution")
    i = nb["cells"].index(cell)
    first = json.loads(json.dumps(cell))
    first["source"] = "def forward(start, trans, emit, seq):\n    return None  # first try\n"
    first["id"] = "dupl0001"
    nb["cells"].insert(i, first)
    return nb


def _crlf() -> dict:
    """A correct notebook saved with Windows line endings in every cell."""
    nb = correct()
    for c in nb["cells"]:
        c["source"] = _source(c).replace("\n", "\r\n")
    return nb


def _stripped(keep_ids: bool) -> dict:
    nb = correct()
    for c in nb["cells"]:
        c["metadata"] = {}
        if not keep_ids:
            c.pop("id", None)
    if not keep_ids:
        nb["nbformat_minor"] = 4
    nb["metadata"] = {}
    return nb


def _edited_tests() -> dict:
    nb = correct(forward=zeros_forward())
    for c in nb["cells"]:
        meta = c.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 1000
            c["source"] = "pass\n"
        if meta.get("grade_id") == "ex03a_setup":
            c["source"] = "import numpy as np\nstart = trans = emit = seq = None\n"
    nb["cells"].append(
        {
            "cell_type": "code",
            "id": "fakegrade",
            "execution_count": None,
            "outputs": [],
            "source": "pass\n",
            "metadata": {
                "nbgrader": {
                    "grade": True,
                    "grade_id": "ex03a_bonus_test",
                    "points": 500,
                    "locked": True,
                    "solution": False,
                    "schema_version": 3,
                }
            },
        }
    )
    return nb


def _sleepy() -> dict:
    nap = "import time\ntime.sleep(30)\n"
    nb = correct(forward=nap + FORWARD, loglik=nap + LOGLIK)
    nb["cells"].insert(
        1,
        {
            "cell_type": "code",
            "id": "sleepy01",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": nap,
        },
    )
    return nb


def _weird_cells() -> dict:
    """A correct notebook with junk cells around (what a broken editor or a merge tool may leave)."""
    nb = correct()
    nb["cells"] += [
        "not a cell",
        {"cell_type": 5, "source": "raise SystemExit"},
        {"cell_type": "code", "source": 42, "metadata": []},
        {"cell_type": "code", "source": ["x = 1\n", None, 3], "metadata": {"nbgrader": "broken"}},
        {
            "cell_type": "markdown",
            "source": "# notes",
            "metadata": {"nbgrader": {"grade_id": 7, "points": "lots"}},
        },
    ]
    return nb


def _with_last_cell(nb: dict, source: str, kind: str = "code", metadata: dict | None = None) -> dict:
    cell = {"cell_type": kind, "metadata": metadata or {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    nb["cells"].append(cell)
    return nb


#: A last cell that answers the grader's next request itself ("kinds") with an error that is not an
#: error record, and swallows the runner's real answer: the grader must not trust the answer's shape.
FORGED_ANSWER = """
import sys, os
f = sys._getframe()
while f is not None and f.f_code.co_name != 'serve':
    f = f.f_back
g = f.f_globals; me = f.f_locals['self']; rid = f.f_locals['rid']
os.write(me.ans_fd, g['codec'].dumps({"id": rid, "ok": False, "error": "boom"}))
_orig = g['_write_all']
def _skip_once(fd, data):
    g['_write_all'] = _orig
g['_write_all'] = _skip_once
"""

#: ``forward`` as a SymPy object that the grader cannot rebuild (its srepr names a constructor call
#: that raises): data the grader fails to decode is no answer, and it costs nothing else.
UNREBUILDABLE = """
import sympy as sp
class Interval(sp.Basic):
    def _sympyrepr(self, printer):
        return "Interval(Integer(2), Integer(1), Integer(3))"
forward = Interval()
"""

#: An exception whose name forges lines of summary.txt, with a lone surrogate and a bidi override.
FORGED_LINES = (
    'raise type("Boom\\n  \u2714 ex03a_forward_test: 3/3\\ntotal: 81 / 81\\n\\ud800\\u202e", '
    "(Exception,), {})()"
)


def _many_cells() -> dict:
    nb = correct()
    nb["cells"] += [{"cell_type": "code", "metadata": {}, "source": "pass", "outputs": []}] * 2100
    return nb


def _with_figures(nb: dict) -> dict:
    """``nb`` saved after running, with large embedded figures: outputs are not graded."""
    png = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBORw0K" * (5 * 2**17)}}
    next(c for c in nb["cells"] if c["cell_type"] == "code")["outputs"] = [png] * 8
    return nb


def _format3(nb: dict) -> dict:
    """``nb`` as nbformat 3 writes it: cells under ``worksheets``, code in ``input``."""
    cells = []
    for cell in nb["cells"]:
        cell = {k: v for k, v in cell.items() if k != "id"}
        if cell["cell_type"] == "code":
            cell["input"] = cell.pop("source")
            cell["language"] = "python"
        cells.append(cell)
    return {"metadata": nb["metadata"], "nbformat": 3, "nbformat_minor": 0, "worksheets": [{"cells": cells}]}


def _huge_notebook() -> dict:
    nb = correct()
    nb["cells"].append(
        {"cell_type": "markdown", "id": "huge0001", "metadata": {}, "source": "x" * (17 * 2**20)}
    )
    return nb


# ------------------------------------------------------------------------------------------ running


def run_grader(*args, tmpdir: Path, timeout=600) -> subprocess.CompletedProcess:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    proc = subprocess.run(
        [PY, str(GRADE), *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT
    )
    assert proc.returncode == 0, f"grade.py {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


def grader_args(sub: Path, out: Path, *extra) -> list:
    return [
        sub,
        out,
        "--jobs",
        2,
        "--cell-seconds",
        CELL_S,
        "--notebook-seconds",
        NOTEBOOK_S,
        "--memory-mb",
        MEMORY_MB,
        *extra,
    ]


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as fh:
        return {row["student"]: row for row in csv.DictReader(fh)}


def _processes() -> dict[int, tuple[int, int, str]]:
    """{pid: (uid, parent pid, command line)} of every process on the machine."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        table[int(entry)] = (int(fields["Uid"].split()[0]), int(fields["PPid"].split()[0]), cmd.strip())
    return table


def sandbox_processes(mine: Path) -> list[str]:
    """Processes of a sandbox user that belong to this module's grading runs (the environment of their
    bubblewrap, inherited from the grader's worker, names a folder of ``mine``: its command line names
    nothing, the options come through ``--args``) or to no bubblewrap at all (escaped). Other sessions
    on this machine may run a grader of their own meanwhile, with the same sandbox users: theirs are
    not counted."""
    table, left = _processes(), []
    for pid, (uid, ppid, cmd) in table.items():
        if uid < SANDBOX_UID:
            continue
        owner, seen = None, set()
        while ppid in table and ppid not in seen:
            seen.add(ppid)
            if os.path.basename(table[ppid][2].split(" ")[0]) == "bwrap":
                try:
                    owner = Path(f"/proc/{ppid}/environ").read_bytes().decode(errors="replace")
                except OSError:       # it ended meanwhile: count the process, it may be an escapee
                    owner = str(mine)
                break
            ppid = table[ppid][1]
        if owner is None or str(mine) in owner:
            left.append(f"{uid} {pid} {cmd}")
    return left


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "--ignored=no"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def build_class(sub: Path, students: dict[str, dict]) -> None:
    for sid, spec in students.items():
        folder = sub / sid
        folder.mkdir(parents=True, exist_ok=True)
        if spec.get("symlink"):
            os.symlink(spec["symlink"], folder / f"{EX}.ipynb")
        elif spec.get("fifo"):
            os.mkfifo(folder / f"{EX}.ipynb")
        elif spec.get("raw") is not None:
            (folder / f"{EX}.ipynb").write_bytes(spec["raw"])
        elif spec["nb"] is not None:
            write_nb(folder, spec["nb"])
        for exercise, nb in spec.get("notebooks", {}).items():
            write_nb(folder, nb, exercise)
        if spec.get("extra_exercise"):
            shutil.copy(
                SOLUTIONS / f"{spec['extra_exercise']}.ipynb", folder / f"{spec['extra_exercise']}.ipynb"
            )
        for name, text in spec.get("files", {}).items():
            (folder / name).write_text(text)


@pytest.fixture(scope="module")
def workspace():
    """A private folder for the whole module (not pytest's tmp_path: parallel pytest sessions of the same
    user prune each other's old basetemp folders, which removed submissions in the middle of a run)."""
    # not under /tmp either: the sandbox has a /tmp of its own, so a path there would exist for an
    # attacker without being the grader's
    base = Path(
        tempfile.mkdtemp(prefix="emlab-test-grading-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    )
    yield base
    if not os.environ.get("EMLAB_KEEP_GRADING_TEST"):  # set it to look at the class and OUT afterwards
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def tmp_path(workspace, request):
    path = workspace / re.sub(r"\W", "_", request.node.name)[:60]
    path.mkdir()
    return path


@pytest.fixture(scope="module")
def graded(workspace):
    """ONE run of the grader over the whole hostile class (plus the full course for two students)."""
    base = workspace / "grading"
    base.mkdir()
    sub, out, tmpdir = base / "submissions", base / "out", base / "tmp"
    sub.mkdir()
    tmpdir.mkdir()
    PATHS.update(submissions=str(sub), out=str(out), tmpdir=str(tmpdir))
    students = attack_sources()
    build_class(sub, students)
    # the whole course: the released exercises score 0, the masters full marks; a SymPy trick on 01
    for name, source in (("course_unmodified", EXERCISES), ("course_solutions", SOLUTIONS)):
        shutil.copytree(source, sub / name)
    write_nb(
        sub / "sympy_trick",
        release("01_lagrangian_sympy", ex01_solve_solution=SYMPY_TRICK, ex01_hessian_solution=SYMPY_TRICK_H),
        "01_lagrangian_sympy",
    )
    # folders that are not graded, each with a line in skipped.txt
    (sub / "linked_folder").symlink_to(sub / "aaa_control", target_is_directory=True)
    for hidden in ("...", ".hidden"):
        write_nb(sub / hidden, correct())
    (sub / "stray_file.ipynb").write_text("{}")
    before = {
        "git": git_status(),
        "startup": startup_state(),
    }
    t0, wall0 = time.monotonic(), time.time()
    proc = run_grader(*grader_args(sub, out), tmpdir=tmpdir)
    seconds = time.monotonic() - t0
    grades_bytes = (out / "grades.csv").read_bytes()
    manual_bytes = (out / "manual_grades.csv").read_bytes()
    time.sleep(3)  # anything left running would now rewrite OUT
    return {
        "t0": wall0,
        "sub": sub,
        "out": out,
        "tmpdir": tmpdir,
        "students": students,
        "rows": read_csv(out / "grades.csv"),
        "before": before,
        "proc": proc,
        "seconds": seconds,
        "grades_bytes": grades_bytes,
        "manual_bytes": manual_bytes,
    }


SYMPY_TRICK = """
import sympy as sp

class Evil(sp.Symbol):
    def _sympyrepr(self, printer):
        return "__import__('os').system('touch /tmp/MARKER_HERE') or Symbol('theta_1')"

class Evil2(sp.Symbol):
    def _sympyrepr(self, printer):
        return "Symbol.__init__.__globals__['__builtins__']['exec']('import os')"

def solve_lagrangian(K):
    out = {sp.Symbol(f"theta_{k}"): Evil(f"t{k}") for k in range(1, K + 1)}
    out[sp.Symbol("lambda")] = Evil2("lam")
    return out
""".replace("MARKER_HERE", MARKER)

SYMPY_TRICK_H = """
def hessian(K):
    return sp.Matrix(K, K, lambda i, j: Evil("h"))
"""


def score(graded, sid: str, item: str) -> float | None:
    row = graded["rows"][_csv_id(sid)]
    return None if row[item] == "" else float(row[item])


def _csv_id(sid: str) -> str:
    """How grades.csv spells ``sid``: a leading ``= + - @ '`` (or tab, CR) gets a ``'`` in front."""
    return "'" + sid if sid[:1] in ("=", "+", "-", "@", "'", "\t", "\r") else sid


def feedback_folder(out: Path | dict, sid: str) -> Path:
    """The feedback folder of ``sid``: the one whose summary.txt is addressed to that id (the folder's
    name is the grader's business)."""
    out = out["out"] if isinstance(out, dict) else out
    found = [
        p.parent
        for p in (out / "feedback").glob("*/summary.txt")
        if p.read_text().startswith(f"Feedback for {sid!r}\n")
    ]
    assert len(found) == 1, (sid, found)
    return found[0]


def summary(graded, sid: str) -> str:
    return (feedback_folder(graded, sid) / "summary.txt").read_text()


def test_the_batch_completes_with_a_row_for_every_graded_student(graded):
    expected = set(graded["students"]) | {"course_unmodified", "course_solutions", "sympy_trick"}
    assert set(graded["rows"]) == {_csv_id(s) for s in expected}
    assert "done:" in graded["proc"].stdout


def test_controls_before_and_after_the_attackers_keep_full_marks(graded):
    for sid in ("aaa_control", "zzz_control"):
        assert (score(graded, sid, F_ID), score(graded, sid, L_ID)) == (F_MAX, L_MAX), summary(graded, sid)


def test_no_total_exceeds_the_maximum_and_no_item_its_points(graded):
    maxima = {}
    for ex in ALL_EXERCISES:
        nb = _load(SOLUTIONS / f"{ex}.ipynb")
        for c in nb["cells"]:
            meta = c.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                maxima[meta["grade_id"]] = float(meta["points"])
    full = sum(maxima.values())
    for sid, row in graded["rows"].items():
        assert set(row) == {"student", "total", "max", *maxima}, sid
        assert float(row["max"]) == full
        assert 0 <= float(row["total"]) <= float(row["max"]), (sid, row)
        for gid, mx in maxima.items():
            if row[gid] != "":
                assert 0 <= float(row[gid]) <= mx, (sid, gid, row[gid])
        assert float(row["total"]) == sum(float(row[g]) for g in maxima if row[g] != "")


def _students_with(expectation):
    return [pytest.param(sid, id=sid) for sid, spec in attack_sources_cached().items() if expectation(spec)]


_CACHE: dict = {}


def attack_sources_cached() -> dict:
    """The list of students (for parametrizing; built with placeholder paths, notebooks unused)."""
    if not _CACHE:
        saved = dict(PATHS)
        PATHS.update(submissions="/nonexistent/sub", out="/nonexistent/out", tmpdir="/nonexistent/tmp")
        _CACHE.update(attack_sources())
        PATHS.clear()
        PATHS.update(saved)
    return _CACHE


# Known grader bugs (reported to the lead): a strict xfail turns into a failure once fixed.
XFAIL: dict[str, str] = {}


def _maybe_xfail(sid):
    return (
        pytest.param(sid, id=sid, marks=pytest.mark.xfail(reason=XFAIL[sid], strict=True))
        if sid in XFAIL
        else sid
    )


@pytest.mark.parametrize("sid", [_maybe_xfail(s) for s in attack_sources_cached()])
def test_each_student_scores_what_the_answer_deserves(graded, sid):
    spec = graded["students"][sid]
    want_f, want_l = spec["expect"]
    got = (score(graded, sid, F_ID), score(graded, sid, L_ID))
    text = summary(graded, sid)
    if want_f is not None:  # None: any score, as long as the grading of the others holds
        assert got[0] == want_f, text
    if want_l is not None:
        assert got[1] == want_l, text
    if spec.get("note"):
        assert spec["note"] in text
    if spec.get("limit"):
        assert spec["limit"] in text, text


def test_a_student_cannot_forge_lines_of_the_summary(graded):
    lines = summary(graded, "forged_lines").splitlines()
    assert [ln for ln in lines if ln.startswith("total:")] == [lines[-1]], lines
    marks = ("\u2714 ex03a_forward_test", "\u2718 ex03a_forward_test")
    items = [ln for ln in lines if ln.lstrip().startswith(marks)]
    assert len(items) == 1, lines
    assert not any("\u202e" in ln for ln in lines)


def test_the_sandbox_oracle_works(graded):
    # the attacks below prove a path unreadable by scoring 0; the same probe of a readable path scores
    for sid in ("oracle_positive", "oracle_positive_walk"):
        assert score(graded, sid, F_ID) == F_MAX, summary(graded, sid)


HONEST = ("aaa_control", "honest_duplicate", "honest_stderr", '=HYPERLINK("x")', "zzz_control")


@pytest.fixture(scope="module")
def honest(graded, workspace):
    """The honest students graded alone (one exercise); then, at the same time, re-graded into the same
    OUT and graded in two shards (as GNU parallel would on one machine)."""
    base = workspace / "honest"
    sub, tmpdir, out = base / "sub", base / "tmp", base / "out"
    tmpdir.mkdir(parents=True)
    build_class(sub, {s: graded["students"][s] for s in HONEST})
    write_nb(sub / ".hidden", correct())
    run_grader(*grader_args(sub, out, "--assignment", EX), tmpdir=tmpdir)
    first = {
        "rows": read_csv(out / "grades.csv"),
        "csv": (out / "grades.csv").read_bytes(),
        "skipped": (out / "skipped.txt").read_text(),
        "results": sorted(os.listdir(out / "results")),
    }
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    parts = [base / "shard1", base / "shard2"]
    runs = [grader_args(sub, out, "--assignment", EX)]
    runs += [
        grader_args(sub, part, "--assignment", EX, "--shard", f"{i}/2") for i, part in enumerate(parts, 1)
    ]
    # meanwhile, a run of its own for an answer that is slow to *decode* in the grader (tight limits)
    slow_sub, slow_out = base / "slow_sub", base / "slow_out"
    write_nb(slow_sub / "slow_decode", correct(forward=SLOW_DECODE))
    runs.append(
        [
            slow_sub,
            slow_out,
            "--jobs",
            1,
            "--assignment",
            EX,
            "--cell-seconds",
            2,
            "--notebook-seconds",
            SLOW_NOTEBOOK_S,
        ]
    )
    procs = [
        subprocess.Popen(
            [PY, str(GRADE), *map(str, args)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for args in runs
    ]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stdout.read()
    merged = base / "merged"
    subprocess.run([PY, str(GRADE), "merge", merged, *parts], check=True, capture_output=True)
    return {"first": first, "out": out, "parts": parts, "merged": merged, "slow_out": slow_out}


#: A notebook whose `forward` is *data* (so the grader fetches it with a "get" request) and whose
#: sandbox-side encoder is swapped for one that returns 120 000 tiny SymPy nodes at once: the message is
#: small (3.2 MB) and quick to send, but each node is rebuilt by codec.sympy_from_srepr in the grader.
SLOW_DECODE = """
import sys
_codec = sys.modules["codec"]
_real_encode = _codec.encode
_ITEMS = [{"$sympy": "Symbol('x')"}] * 150000


def _encode(value, *args, **kwargs):
    if value is _DATA:
        return {"$ndobj": [len(_ITEMS)], "items": _ITEMS}
    return _real_encode(value, *args, **kwargs)


_codec.encode = _encode
_DATA = forward = [0.0]
"""
SLOW_NOTEBOOK_S = 4


def test_an_answer_slow_to_decode_is_stopped_by_the_notebook_limit(honest):
    """A data answer (fetched with a "get" request) is decoded in the grader under the notebook's time
    limit too: 150 000 tiny SymPy nodes must not hold the job slot past it (codec allows 2 000 000)."""
    (path,) = (honest["slow_out"] / "results").glob("slow_decode-*/03a_forward.json")
    result = json.loads(path.read_text())
    assert result["seconds"] <= SLOW_NOTEBOOK_S + 3


def test_honest_students_lose_nothing_next_to_the_attackers(graded, honest):
    """Their 03a scores equal those of a run of the honest students alone."""
    alone = honest["first"]["rows"]
    assert set(alone) == {_csv_id(s) for s in HONEST}
    for sid, row in alone.items():
        assert (
            (graded["rows"][sid][F_ID], graded["rows"][sid][L_ID]) == (row[F_ID], row[L_ID]) == ("3", "2")
        ), sid


def test_a_rerun_into_the_same_out_gives_the_same_files(honest):
    out = honest["out"]
    assert (out / "grades.csv").read_bytes() == honest["first"]["csv"]
    assert sorted(os.listdir(out / "results")) == honest["first"]["results"]
    assert (out / "skipped.txt").read_text() == honest["first"]["skipped"]


def test_shards_merged_equal_the_unsharded_run(honest):
    rows = [read_csv(part / "grades.csv") for part in honest["parts"]]
    assert rows[0] and rows[1] and not set(rows[0]) & set(rows[1])
    assert set(rows[0]) | set(rows[1]) == set(honest["first"]["rows"])
    assert (honest["merged"] / "grades.csv").read_bytes() == honest["first"]["csv"]
    assert (honest["merged"] / "skipped.txt").read_text() == honest["first"]["skipped"]


# -------------------------------------------------------------------- what the grader's OUT holds


def test_out_is_untampered_after_the_run(graded):
    out = graded["out"]
    assert (out / "grades.csv").read_bytes() == graded["grades_bytes"]
    assert (out / "manual_grades.csv").read_bytes() == graded["manual_bytes"]
    assert b"hacked" not in graded["grades_bytes"] and b"999" not in graded["grades_bytes"]
    assert not list(out.rglob(f"*{MARKER}*"))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert size < 20 * 2**20, f"OUT holds {size} bytes (100 MB of output must not reach it)"
    for p in (out / "feedback").rglob("*"):
        if p.is_file():
            assert p.stat().st_size <= 300 * 1024, p


def hidden_strings() -> list[str]:
    """Distinctive text of every hidden test and every solution region, and hidden reference values."""
    found = {
        "BEGIN HIDDEN",
        "END HIDDEN",
        "BEGIN SOLUTION",
        "brute_force_hmm",
        "random_hmm(4, 3",
        "random_hmm(3, 4, 21)",
        "default_rng(11)",
    }
    for ex in ALL_EXERCISES:
        for c in _load(SOLUTIONS / f"{ex}.ipynb")["cells"]:
            src = _source(c)
            for region in re.findall(r"### BEGIN (?:HIDDEN TESTS|SOLUTION)\n(.*?)### END", src, flags=re.S):
                found |= {line.strip() for line in region.splitlines() if len(line.strip()) >= 16}
    from emlab import hmm
    from emlab.checks import brute_force_hmm, random_hmm

    for seed, T in [(11, 6), (12, 5), (13, 1)]:
        s, t, e = random_hmm(4, 3, seed)
        x = np.random.default_rng(seed).integers(0, 3, size=T)
        found |= {f"{v:.5g}" for v in brute_force_hmm(s, t, e, x)[1].ravel() if len(f"{v:.5g}") >= 6}
    s, t, e = random_hmm(3, 4, 21)
    ll = hmm.log_likelihood(hmm.HMM(s, t, e), [np.random.default_rng(21).integers(0, 4, size=5000)])
    found |= {f"{ll:.6g}", f"{ll:.2f}"}
    return sorted(found)


def test_no_feedback_reveals_hidden_tests_solutions_or_files(graded):
    secrets = hidden_strings() + [
        "root:x:0:0",
        "EMLAB-GRADE-RESULT",
        MARKER,
        "hacked",
        "/opt/grader",
        str(ROOT),
        "Traceback",
        "#!/",
    ]
    files = [p for p in (graded["out"] / "feedback").rglob("*") if p.is_file()]
    assert len(files) >= len(graded["rows"])
    for p in files:
        text = p.read_text(errors="replace")
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{p.relative_to(graded['out'])} shows {leaked[:5]}"


def test_the_repo_home_and_venv_are_unchanged(graded):
    """Other sessions on this machine (the lead, nbval, JupyterLab) write the repo, ~/.ipython and
    ~/.jupyter meanwhile, so a change counts as tampering only if an attacker's marker is in it; the
    places that would run code at start-up (IPython startup files, sitecustomize, .pth) must not change."""
    before = graded["before"]
    new = set(git_status().splitlines()) - set(before["git"].splitlines())
    touched = [ROOT / line[3:] for line in new]
    for top in (ROOT, Path.home() / ".ipython", Path.home() / ".jupyter", Path(_site_packages())):
        touched += list(_written_since(top, graded["t0"], deep=top != Path(_site_packages())))
    assert not [p for p in touched if p.is_file() and MARKER.encode() in p.read_bytes()]
    assert startup_state() == before["startup"]
    home = [Path.home() / d for d in (".ipython", ".jupyter", ".config", ".local/share/jupyter")]
    tops = [ROOT, *home, Path("/tmp"), Path("/dev/shm"), Path("/var/tmp"), Path("/run")]
    hits = [p for top in tops for p in _names_under(top) if MARKER in p.name]
    hits += [p for p in [*Path(_site_packages()).iterdir(), *Path(sys.prefix).iterdir()] if MARKER in p.name]
    assert not hits


def _site_packages() -> str:
    return [p for p in sys.path if p.endswith("site-packages")][0]


def startup_state() -> dict:
    """What Python and IPython run at start-up: IPython startup files, sitecustomize, .pth files."""
    site = Path(_site_packages())
    files = [*Path.home().glob(".ipython/profile_*/startup/*"), *Path.home().glob(".jupyter/*.py")]
    files += [p for p in site.iterdir() if p.suffix == ".pth" or p.stem in ("sitecustomize", "usercustomize")]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def _written_since(top: Path, t0: float, deep: bool = True):
    for p in _names_under(top) if deep else top.iterdir():
        try:
            if p.is_file() and not p.is_symlink() and p.stat().st_mtime >= t0 - 1:
                yield p
        except OSError:
            continue


def _names_under(top: Path):
    for folder, dirs, files in os.walk(top):
        # the read-only mounts (.venv) cannot be written from a sandbox; their start-up files are checked
        dirs[:] = [
            d
            for d in dirs
            if d not in (".git", ".venv", "node_modules", "pytest-of-root")
            and not d.startswith("emlab-test-grading-")
        ]
        for name in files + dirs:
            yield Path(folder) / name


def test_no_process_and_no_temporary_folder_is_left_behind(graded):
    """No process of a sandbox user is alive (another grader running on this machine at the same time
    would show here too), and the grader's work folders are gone from the TMPDIR this module gives it
    (/tmp itself is shared with other sessions)."""
    for _ in range(20):
        left = sandbox_processes(graded["tmpdir"].parent.parent)
        if not left:
            break
        time.sleep(0.25)
    assert not left, left
    assert not list(graded["tmpdir"].iterdir()), list(graded["tmpdir"].iterdir())


# -------------------------------------------------------------------------------- input hygiene


def test_skipped_folders_each_get_a_line(graded):
    lines = (graded["out"] / "skipped.txt").read_text().splitlines()
    for name in ("linked_folder", "...", ".hidden", "stray_file.ipynb"):
        assert any(line.startswith(repr(name)) for line in lines), (name, lines)
    assert "linked_folder" not in graded["rows"] and "..." not in graded["rows"]


def test_a_symlinked_notebook_is_not_graded_and_not_echoed(graded):
    for sid in ("symlink_nb", "symlink_classmate", "fifo_nb"):
        text = summary(graded, sid)
        assert "not a regular file" in text, text
        assert "root:" not in text and "def forward" not in text


def test_student_ids_are_escaped_for_spreadsheets(graded):
    raw = (graded["out"] / "grades.csv").read_text()
    assert '\n\'=HYPERLINK(""x""),' in raw or '\n"\'=HYPERLINK(""x"")",' in raw, raw[:500]
    manual = (graded["out"] / "manual_grades.csv").read_text()
    assert "\n=HYPERLINK" not in manual and '\n"=HYPERLINK' not in manual


def test_feedback_html_escapes_what_the_student_controls(graded):
    page = feedback_folder(graded, "<img src=x onerror=alert(1)>") / "03a_forward.html"
    html = page.read_text()
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;" in html  # the exception's class name, escaped
    text = summary(graded, "<img src=x onerror=alert(1)>")
    assert "\n  ✔ ex03a_forward_test" not in text  # a file name cannot forge a line of the summary


def test_every_row_of_the_csv_names_one_student(graded):
    """CSV escaping is one-to-one: the ids '=twin' and "'=twin" get rows that can be told apart."""
    with (graded["out"] / "grades.csv").open(newline="") as fh:
        ids = [row["student"] for row in csv.DictReader(fh)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_unknown_files_are_listed_in_the_summary(graded):
    text = summary(graded, "extra_files")
    assert "notes.txt" in text and "evil.py" in text, text


def test_invalid_json_costs_only_that_notebook(graded):
    assert score(graded, "invalid_json", F_ID) == 0 and score(graded, "invalid_json", L_ID) == 0
    assert (
        score(graded, "invalid_json", "ex02_e_step_test") == 2
        and score(graded, "invalid_json", "ex02_m_step_test") == 2
    )
    text = summary(graded, "invalid_json")
    assert "not valid notebook JSON" in text and "this is not json" not in text


def test_limits_are_reported_and_bounded(graded):
    res = json.loads(
        next((graded["out"] / "results").glob("sleep_every_cell-*/03a_forward.json")).read_text()
    )
    assert res["seconds"] <= NOTEBOOK_S + 5, res["seconds"]
    assert "the time limit" in summary(graded, "infinite_loop")


# ----------------------------------------------------------------------- the course as released


def test_unmodified_exercises_score_zero_and_solutions_full_marks(graded):
    zero, full = graded["rows"]["course_unmodified"], graded["rows"]["course_solutions"]
    assert float(zero["total"]) == 0
    manual = [g for g in full if g.endswith("_interpretation")]
    assert manual == ["ex06_interpretation"]
    assert full["ex06_interpretation"] == "" and zero["ex06_interpretation"] == ""  # pending: graded by hand
    assert float(full["total"]) == float(full["max"]) - 3
    assert "pending" in summary(graded, "course_solutions")


def test_no_reference_is_importable_where_all_of_emlab_is_allowed(graded):
    """Exercise 06 may use all of emlab, but not the instructor's references in emlab.checks."""
    assert score(graded, "references_in_06", "ex06_init_test") == 0


def test_sympy_srepr_tricks_are_refused(graded):
    assert score(graded, "sympy_trick", "ex01_solve_test") == 0
    assert score(graded, "sympy_trick", "ex01_hessian_test") == 0


def test_manual_scores_reach_csv_html_and_summary(graded, tmp_path):
    out = tmp_path / "manual_out"
    shutil.copytree(graded["out"], out)
    path = out / "manual_grades.csv"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {(r["student"], r["item"]) for r in rows} >= {
        ("course_solutions", "ex06_interpretation"),
        ("course_unmodified", "ex06_interpretation"),
    }
    for r in rows:
        if r["student"] == "course_solutions":
            r["score"] = "2"
        elif r["student"] == "course_unmodified":
            r["score"] = "99"  # more than the item's points: capped
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    subprocess.run([PY, str(GRADE), "report", out], check=True, capture_output=True)
    grades = read_csv(out / "grades.csv")
    sol, unmod = grades["course_solutions"], grades["course_unmodified"]
    assert sol["ex06_interpretation"] == "2" and float(sol["total"]) == float(sol["max"]) - 1
    assert unmod["ex06_interpretation"] == "3" and float(unmod["total"]) == 3
    html = (feedback_folder(out, "course_solutions") / "06_restarts.html").read_text()
    assert "5 / 6" in html and "pending (graded by hand)" not in html and "2 / 3" in html
    text = (feedback_folder(out, "course_solutions") / "summary.txt").read_text()
    assert "ex06_interpretation: 2/3" in text and "06_restarts: 5 / 6" in text
    lines = (out / "manual_grades.csv").read_text().splitlines()
    assert sum(line.startswith("course_solutions,") for line in lines) == 1


def test_feedback_of_different_students_never_shares_a_folder(graded):
    """'twin a' and 'twin_a' (the same readable folder name) each get feedback of their own."""
    texts = [p.read_text() for p in (graded["out"] / "feedback").rglob("summary.txt")]
    assert len(texts) == len(graded["rows"])
    assert sum("Feedback for 'twin a'" in t for t in texts) == 1
    assert sum("Feedback for 'twin_a'" in t for t in texts) == 1


def test_a_folder_name_that_is_not_utf8_costs_nobody_else(workspace):
    base = workspace / "latin1"
    sub, out, tmpdir = base / "sub", base / "out", base / "tmp"
    tmpdir.mkdir(parents=True)
    write_nb(sub / "good", correct())
    bad = os.fsencode(sub) + b"/caf\xe9"
    os.mkdir(bad)
    with open(bad + b"/" + f"{EX}.ipynb".encode(), "w") as fh:
        fh.write(json.dumps(correct()))
    write_nb(sub / "caf\\xe9", release())  # the escape's four characters, literally: another student
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    proc = subprocess.run(
        [PY, str(GRADE), *map(str, grader_args(sub, out, "--assignment", EX))],
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    with (out / "grades.csv").open(newline="") as fh:
        rows = {row["student"]: row for row in csv.DictReader(fh)}
    assert float(rows["good"]["total"]) == float(rows["good"]["max"]) > 0
    odd = "caf\\xe9"  # the odd byte kept as an escape in the id
    assert odd in rows and float(rows[odd]["total"]) == float(rows[odd]["max"])
    literal = "caf\\\\xe9"  # the folder named by the escape itself: its backslash doubled, its own row
    assert literal in rows and float(rows[literal]["total"]) == 0
    rows = read_csv(out / "grades.csv")
    assert rows["good"][F_ID] == "3"
    assert len(rows) == 3
    assert feedback_folder(out, "good").is_dir()


def test_two_graders_on_one_machine_never_share_a_sandbox_uid(tmp_path):
    """Each grader leases its sandbox uids (a lock file per uid): a second lease, as a second grader
    started meanwhile would take, gets other uids, and a released uid is free again. (In one process:
    flock locks belong to the open file, so two leases here conflict as two processes would.)"""
    sys.path.insert(0, str(ROOT / "tools" / "grading"))
    import sandbox

    first = sandbox.UidLease(3, folder=tmp_path)
    second = sandbox.UidLease(2, folder=tmp_path)
    assert len(set(first.uids)) == 3 and len(set(second.uids)) == 2
    assert not set(first.uids) & set(second.uids)
    assert min(first.uids + second.uids) >= sandbox.UID_BASE
    held = first.uids[:]
    first.release()
    third = sandbox.UidLease(3, folder=tmp_path)
    assert third.uids == held                    # released: the lowest free uids again
    with pytest.raises(RuntimeError, match="free sandbox uids"):
        sandbox.UidLease(2, base=sandbox.UID_BASE, span=5, folder=tmp_path)   # 5 held of 5
    second.release()
    third.release()
