"""One student notebook in a bubblewrap sandbox, and the grader's side of talking to it.

What the sandbox holds (everything read-only): the operating system (``/usr``, ``/etc``), the
Python installation and virtual environment the grader runs in, the sandbox runner
(:mod:`runner`, :mod:`codec`) and the part of ``emlab`` the exercise may import (a copy assembled
by :func:`library_view`). Packages the exercise may not use (e.g. ``hmmlearn``) are hidden behind an
empty directory. It never holds the repository, ``solutions/``, the staged course, the
submissions, ``OUT`` or the grader's temporary folder. ``/tmp`` (with ``HOME``, ``IPYTHONDIR``,
``JUPYTER_*`` and ``MPLCONFIGDIR`` in it) and ``/dev/shm`` (where ``multiprocessing`` keeps its
semaphores: a ``Pool`` works as it does in Jupyter) are fresh size-limited tmpfs per sandbox; there is no
network, and the sandbox has its own PID namespace, so nothing in it can see, signal or outlive the
grader (``--die-with-parent``; killing bubblewrap ends every process inside).

As root the grader starts bubblewrap under an unprivileged user id of its own (one per parallel
job), so process limits count only that sandbox and no file of the machine is writable. Limits
(:class:`Limits`): address space, processes, file size, open files, tmpfs size, bytes of output,
seconds per cell or call, and seconds for the whole notebook. Each limit that is hit is reported.
"""

from __future__ import annotations

import fcntl
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import codec

RUNTIME = Path(__file__).resolve().parent
INSTALL_HINT = "apt-get install -y bubblewrap"


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here."""


@dataclass(frozen=True)
class Limits:
    """Per-notebook limits; every one is configurable from ``tools/grade.py``."""

    memory_mb: int = 2048  # address space of each process
    processes: int = 64  # processes and threads of the sandbox user
    file_mb: int = 64  # largest file it may write
    disk_mb: int = 128  # size of its /tmp
    shm_mb: int = 32  # size of its /dev/shm (multiprocessing's semaphores and shared memory)
    output_kb: int = 2048  # bytes of stdout + stderr before it is stopped
    cell_seconds: float = 30.0  # one cell or one call
    notebook_seconds: float = 180.0  # everything the notebook runs, restarts included
    open_files: int = 256

    def describe(self, which: str) -> str:
        return {
            "memory": f"the memory limit ({self.memory_mb} MB)",
            "output": f"the output limit ({self.output_kb} KB of printed text)",
            "cell": f"the time limit of one cell or call ({self.cell_seconds:g} s)",
            "notebook": f"the time limit of the whole notebook ({self.notebook_seconds:g} s)",
            "died": "the sandbox's process ending (os._exit, a crash, or a limit on processes, "
            "files or memory)",
            "protocol": "a garbled answer (something wrote into the grader's channel)",
        }[which]


class LimitHit(Exception):
    """The sandbox was stopped: ``kind`` is a key of :meth:`Limits.describe`."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


@dataclass
class Policy:
    """What a notebook's sandbox may import: ``emlab_modules`` (dotted names, e.g.
    ``"emlab.data"``; ``"emlab"`` means all of it) and ``hidden`` top-level packages."""

    emlab_modules: tuple[str, ...] = ("emlab.data.coins",)
    hidden: tuple[str, ...] = ("hmmlearn",)


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if not path:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}")
    return path


def library_view(policy: Policy, dest: Path) -> Path:
    """A folder holding only the ``emlab`` modules ``policy`` allows, plus the emlab modules they
    import (found by reading their imports), to put first on the sandbox's ``sys.path``. Packages
    on the way to an allowed module get an empty ``__init__`` unless they are allowed themselves,
    so allowing ``emlab.data.coins`` does not bring in what ``emlab.data`` imports. The student-
    facing checks are replaced by an inert stand-in (:data:`INERT_CHECKS`): they are not run while
    grading, and their references must not be there to call."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("emlab")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("emlab is not importable by the grader")
    package = Path(list(spec.submodule_search_locations)[0])
    dest.mkdir(parents=True, exist_ok=True)
    target_root = dest / "emlab"
    if "emlab" in policy.emlab_modules:
        shutil.copytree(package, target_root, ignore=shutil.ignore_patterns("__pycache__", "checks"))
        (target_root / "checks.py").write_text(INERT_CHECKS)
        return dest

    def files_of(name: str) -> list[Path]:
        rel = Path(*name.split(".")[1:]) if "." in name else Path()
        if (package / rel / "__init__.py").is_file():
            return sorted(p for p in (package / rel).iterdir() if p.is_file() and p.suffix != ".pyc")
        if rel.parts and (package / rel.with_suffix(".py")).is_file():
            return [package / rel.with_suffix(".py")]
        return []

    todo, seen = list(policy.emlab_modules), set()
    while todo:
        name = todo.pop()
        if name in seen or not name.startswith("emlab.") or name.split(".")[1] == "checks":
            continue
        seen.add(name)
        for path in files_of(name):
            target = target_root / path.relative_to(package)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            if path.suffix != ".py":
                continue
            module = (
                name
                if path.stem == "__init__" or path.stem == name.rsplit(".", 1)[-1]
                else f"{name}.{path.stem}"
            )
            base = module if path.stem == "__init__" else module.rpartition(".")[0]
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    todo += [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    mod = node.module or ""
                    if node.level:
                        parts = base.split(".")
                        root = ".".join(parts[: len(parts) - node.level + 1])
                        mod = f"{root}.{mod}" if mod else root
                    todo += [mod] + [f"{mod}.{a.name}" for a in node.names]
    target_root.mkdir(exist_ok=True)
    (target_root / "checks.py").write_text(INERT_CHECKS)
    for folder in [target_root, *[p for p in target_root.rglob("*") if p.is_dir()]]:
        if not (folder / "__init__.py").exists():
            (folder / "__init__.py").write_text(
                '"""Only part of emlab is available here (grading sandbox)."""\n'
            )
    return dest


#: What ``emlab.checks`` is inside a grading sandbox: every check is a no-op, no reference exists.
INERT_CHECKS = '''"""Stand-in for emlab.checks while grading: the visible checks are not run here."""


def __getattr__(name):
    if name.startswith("check_") or name == "run_cases":
        return lambda *args, **kwargs: None
    raise AttributeError(f"emlab.checks.{name} is not available while grading")
'''


def _python_roots() -> list[str]:
    """The folders of the interpreter, its standard library and the environment's packages."""
    import sysconfig

    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), Path(sys.prefix)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        roots.add(Path(sysconfig.get_paths()[key]).resolve())
    roots.add(Path(sys.executable).resolve().parent)
    keep: list[Path] = []
    for root in sorted(roots, key=lambda p: len(p.parts)):
        if root.is_relative_to("/usr") or any(root.is_relative_to(k) for k in keep):
            continue
        keep.append(root)
    return [str(root) for root in keep]


def _hidden_packages(names) -> list[str]:
    """``--tmpfs`` over every copy of the packages ``names`` (and of the real ``emlab``, whose allowed
    part the sandbox gets from its own view) that the interpreter could reach, in the environment
    or in any ``site-packages``/``dist-packages`` of the bound Python installations."""
    import glob
    import importlib.util

    places: set[str] = set()
    for name in {*names, "emlab"}:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        for loc in (spec.submodule_search_locations or []) if spec else []:
            places.add(str(Path(loc).resolve()))
        if spec is not None and spec.origin and not spec.submodule_search_locations:
            places.add(str(Path(spec.origin).resolve()))
        for root in [*_python_roots(), "/usr/lib", "/usr/local/lib"]:
            for pattern in (
                f"{root}/lib/python3*/site-packages/{name}",
                f"{root}/python3*/site-packages/{name}",
                f"{root}/python3*/dist-packages/{name}",
                f"{root}/python3/dist-packages/{name}",
            ):
                places.update(str(Path(p).resolve()) for p in glob.glob(pattern))
    args = []
    for place in sorted(places):
        if os.path.isdir(place):
            args += ["--tmpfs", place]
        elif os.path.isfile(place):
            args += ["--ro-bind", "/dev/null", place]
    return args


@dataclass
class SandboxSpec:
    """Everything needed to start the sandbox of one notebook."""

    library: Path  # from library_view()
    hidden: tuple[str, ...]
    limits: Limits
    uid: int | None = None  # run bubblewrap as this user (root only)
    mpl_cache: Path | None = None  # a matplotlib font cache to copy in (saves ~1 s)
    extra_env: dict = field(default_factory=dict)

    def command(self, answer_fd: int = 3, seccomp_fd: int | None = None) -> list[str]:
        privileged = os.geteuid() == 0 and self.uid is not None
        args = [
            bwrap_path(),
            *(["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []),
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--hostname",
            "sandbox",
        ]
        if privileged:  # the setpriv below needs these two to switch user; it then drops them all
            args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]
        else:
            args += ["--unshare-user"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
            if os.path.islink(top):
                args += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                args += ["--ro-bind", top, top]
        # the fresh /tmp first: a Python environment that lives under /tmp (a CI clone, say) is bound
        # into it below instead of being hidden by it
        args += [
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--perms",
            "1777",
            "--size",
            str(self.limits.shm_mb * 2**20),
            "--tmpfs",
            "/dev/shm",
            "--perms",
            "1777",
            "--size",
            str(self.limits.disk_mb * 2**20),
            "--tmpfs",
            "/tmp",
            "--perms",
            "0777",
            "--dir",
            "/tmp/home",
            "--perms",
            "0777",
            "--dir",
            "/tmp/work",
        ]
        made: set[str] = {"/", "/proc", "/dev", "/dev/shm", "/tmp", "/tmp/home", "/tmp/work"}
        binds = [("/usr", "/usr"), ("/etc", "/etc")] + [(p, p) for p in _python_roots()]
        binds += [(str(self.library), "/opt/emlab-view"), (str(RUNTIME), "/opt/grader")]
        if self.mpl_cache is not None:
            binds.append((str(self.mpl_cache), "/opt/mpl-cache"))
        for src, dest in binds:
            for parent in reversed(Path(dest).parents):
                if str(parent) not in made:  # bubblewrap would copy a private mode (e.g. /root's 0700)
                    args += ["--perms", "0755", "--dir", str(parent)]
                    made.add(str(parent))
            args += ["--ro-bind", src, dest]
            made.add(dest)
        args += _hidden_packages(self.hidden)
        env = {
            "HOME": "/tmp/home",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "IPYTHONDIR": "/tmp/home/.ipython",
            "JUPYTER_CONFIG_DIR": "/tmp/home/.jupyter",
            "JUPYTER_DATA_DIR": "/tmp/home/.local/share/jupyter",
            "JUPYTER_RUNTIME_DIR": "/tmp/home/.rt",
            "MPLCONFIGDIR": "/tmp/home/.matplotlib",
            "MPLBACKEND": "Agg",
            "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "EMLAB_NUMBA": "0",          # no JIT compiling under the sandbox's limits: numpy kernels
            "EMLAB_SANDBOX_PATH": "/opt/emlab-view",
            "EMLAB_WORKDIR": "/tmp/work",
            "EMLAB_MPL_CACHE": "/opt/mpl-cache" if self.mpl_cache else "",
            "EMLAB_ANSWER_FD": str(answer_fd),
            **self.extra_env,
        }
        for key, value in env.items():
            args += ["--setenv", key, value]
        args += ["--chdir", "/tmp/work", "--"]
        if privileged:
            args += [
                shutil.which("setpriv") or "/usr/bin/setpriv",
                f"--reuid={self.uid}",
                f"--regid={self.uid}",
                "--clear-groups",
                "--no-new-privs",
                "--inh-caps=-all",
                "--bounding-set=-all",
            ]
        return args + [sys.executable, "-I", "/opt/grader/runner.py"]


#: Sandbox users when grading as root: uids that own no file; each parallel job leases one.
UID_BASE = 2_000_000
UID_SPAN = 100_000
#: Where the leases are held: one lock file per uid, shared by every grader on this machine.
UID_LEASES = Path("/run/emlab-grade-uids")


class UidLease:
    """``n`` sandbox uids that no other grader on this machine holds while this one runs.

    Two graders started at the same time must not share a sandbox user: the per-user process limit
    (``RLIMIT_NPROC``) would be one budget for both, so a fork bomb in one class would stop the other.
    A uid is held by an exclusive ``flock`` on ``UID_LEASES/<uid>.lock``, released when this process
    closes it or ends (however it ends: the kernel drops the lock)."""

    def __init__(self, n: int, base: int = UID_BASE, span: int = UID_SPAN, folder: Path = UID_LEASES):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.uids: list[int] = []
        self._fds: list[int] = []
        for uid in range(base, base + span):
            fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uids.append(uid)
            self._fds.append(fd)
            if len(self.uids) == n:
                return
        self.release()
        raise RuntimeError(f"no {n} free sandbox uids in [{base}, {base + span}): other graders hold them")

    def release(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds, self.uids = [], []


#: The kernel's keyrings outlive a process: a key that one sandbox adds to its user's keyring could be
#: read by the next student graded under the same sandbox uid (a channel past every namespace that
#: bubblewrap unshares). So the sandbox may not call ``add_key``, ``request_key`` or ``keyctl``: the
#: seccomp filter below makes them fail with EPERM, and every system call of a foreign ABI (i386 or
#: x32 on x86-64), which could reach them under other numbers, too.
#: machine -> (AUDIT_ARCH, (add_key, request_key, keyctl) numbers)
KEYRING_SYSCALLS = {
    "x86_64": (0xC000003E, (248, 249, 250)),
    "aarch64": (0xC00000B7, (217, 218, 219)),
}


def seccomp_filter(machine: str | None = None) -> bytes | None:
    """The classic-BPF program (``struct sock_filter[]``, for ``bwrap --seccomp FD``) that denies the
    keyring calls of :data:`KEYRING_SYSCALLS`, or None on a machine not listed there."""
    import platform
    import struct

    arch_calls = KEYRING_SYSCALLS.get(machine or platform.machine())
    if arch_calls is None:
        return None
    arch, calls = arch_calls
    LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06
    ALLOW, DENY = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
    deny_at = 4 + len(calls) + 1  # the index of the last instruction
    program = [
        (LD_W_ABS, 0, 0, 4),  # seccomp_data.arch
        (JEQ_K, 0, deny_at - 2, arch),
        (LD_W_ABS, 0, 0, 0),  # seccomp_data.nr
        (JGE_K, deny_at - 4, 0, 0x40000000),  # the x32 ABI's numbers
    ]
    for call in calls:
        program.append((JEQ_K, deny_at - len(program) - 1, 0, call))
    program += [(RET_K, 0, 0, ALLOW), (RET_K, 0, 0, DENY)]
    return b"".join(struct.pack("=HBBI", *op) for op in program)


def _seccomp_file() -> int | None:
    """An in-memory file holding :func:`seccomp_filter`, for ``bwrap --seccomp FD``."""
    program = seccomp_filter()
    if program is None:
        return None
    fd = os.memfd_create("bwrap-seccomp")
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _options_file(argv: list[str]) -> int:
    """An in-memory file holding bubblewrap's options (``argv`` up to ``--``), NUL-separated, for
    ``bwrap --args FD``. Inside the sandbox PID 1 is bubblewrap, and ``/proc/1/cmdline`` is readable
    there: options passed on the command line would show the student the host paths of every mount
    (the library view, the grader's folder). bubblewrap reads the file and closes it before the
    sandboxed command starts."""
    fd = os.memfd_create("bwrap-options")
    os.write(fd, b"".join(a.encode() + b"\0" for a in argv[1:argv.index("--")]))
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


class Cgroup:
    """A memory and a process limit for the whole sandbox (all of its processes together), when the
    grader may create control groups (root with cgroup v1 or v2). Without it only the per-process
    limits apply (address space per process, processes per sandbox user), which the feedback of a
    forking notebook cannot tell apart; ``available`` says which one is in force."""

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, name: str, memory_bytes: int, pids: int):
        self.dirs: list[Path] = []
        wanted = {
            "memory": {"memory.limit_in_bytes": memory_bytes, "memory.memsw.limit_in_bytes": memory_bytes},
            "pids": {"pids.max": pids},
        }
        if (self.ROOT / "cgroup.controllers").exists():  # v2: one tree
            self._make(self.ROOT / name, {"memory.max": memory_bytes, "memory.swap.max": 0, "pids.max": pids})
        else:  # v1: one tree per controller
            for controller, files in wanted.items():
                self._make(self.ROOT / controller / name, files)

    def _make(self, folder: Path, files: dict) -> None:
        try:
            folder.mkdir()
        except OSError:
            return
        self.dirs.append(folder)
        for key, value in files.items():
            try:
                (folder / key).write_text(str(value))
            except OSError:
                pass  # e.g. memsw without swap accounting

    @property
    def available(self) -> bool:
        return bool(self.dirs)

    def join(self) -> None:
        """Put the calling process in every group (called in the child before exec)."""
        for folder in self.dirs:
            with open(folder / "cgroup.procs", "w") as fh:
                fh.write(str(os.getpid()))

    def ran_out_of_memory(self) -> bool:
        for folder in self.dirs:
            for key in ("memory.failcnt", "memory.events"):
                try:
                    text = (folder / key).read_text()
                except OSError:
                    continue
                if key == "memory.failcnt" and int(text.strip() or 0) > 0:
                    return True
                if key == "memory.events" and any(
                    line.split()[0] in ("oom", "oom_kill") and int(line.split()[1]) > 0
                    for line in text.splitlines()
                    if line.split()
                ):
                    return True
        return False

    @classmethod
    def sweep(cls) -> None:
        """Remove the (empty) groups left by graders that were killed before they could: a group is
        named after the process that made it, and is removed once that process is gone."""
        for folder in [*cls.ROOT.glob("emlab-*"), *cls.ROOT.glob("*/emlab-*")]:
            try:
                pid = int(folder.name.split("-")[1])
            except (IndexError, ValueError):
                continue
            if not Path(f"/proc/{pid}").exists():
                try:
                    folder.rmdir()
                except OSError:
                    pass

    def remove(self) -> None:
        for folder in self.dirs:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except OSError:
                    time.sleep(0.02)
        self.dirs = []


class Sandbox:
    """A running sandbox and its channel. Use as a context manager; always stopped on exit."""

    def __init__(self, spec: SandboxSpec, deadline: float):
        self.spec, self.limits, self.deadline = spec, spec.limits, deadline
        self.output_bytes = 0
        self.next_id = 0
        self.proc = None

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        out_r, out_w = os.pipe()
        limits, uid = self.limits, self.spec.uid

        def confine():  # in the child, after fork, before exec (and before bwrap drops nothing)
            mb = 2**20
            for res, value in (
                (resource.RLIMIT_AS, limits.memory_mb * mb),
                (resource.RLIMIT_FSIZE, limits.file_mb * mb),
                (resource.RLIMIT_NOFILE, limits.open_files),
                (resource.RLIMIT_CORE, 0),
                (resource.RLIMIT_NPROC, limits.processes),
            ):
                resource.setrlimit(res, (value, value))
            if cgroup is not None:
                cgroup.join()

        self.cgroup = (
            Cgroup(f"emlab-{os.getpid()}-{id(self)}", limits.memory_mb * 2**20, limits.processes + 8)
            if os.geteuid() == 0
            else None
        )
        cgroup = self.cgroup

        kwargs = {}
        if uid is not None and os.geteuid() != 0:
            uid = None  # only root can choose the sandbox's user; others run it as themselves
        seccomp_fd = _seccomp_file()
        argv = self.spec.command(answer_fd=ans_w, seccomp_fd=seccomp_fd)
        options_fd = _options_file(argv)
        try:
            self.proc = subprocess.Popen(
                [argv[0], "--args", str(options_fd)] + argv[argv.index("--"):],
                stdin=req_r,
                stdout=out_w,
                stderr=out_w,
                pass_fds=(ans_w, options_fd) + ((seccomp_fd,) if seccomp_fd is not None else ()),
                preexec_fn=confine,
                start_new_session=True,
                close_fds=True,
                **kwargs,
            )
        finally:
            for fd in (req_r, ans_w, out_w, options_fd, seccomp_fd):
                if fd is not None:
                    os.close(fd)
        self.req_w, self.ans_r, self.out_r = req_w, ans_r, out_r
        os.set_blocking(self.out_r, False)

    def stop(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        if getattr(self, "cgroup", None) is not None:
            self.cgroup.remove()
        for fd in (self.req_w, self.ans_r, self.out_r):
            try:
                os.close(fd)
            except OSError:
                pass
        self.proc = None

    # ------------------------------------------------------------------ requests

    def request(self, message: dict, seconds: float | None = None) -> dict:
        """Send one request and wait for its answer, draining the student's output meanwhile.
        Raises :class:`LimitHit` when a limit stops the sandbox (it is then dead)."""
        self.next_id += 1
        message = dict(message, id=self.next_id)
        now = time.monotonic()
        budget = self.limits.cell_seconds if seconds is None else seconds
        cell_deadline = min(now + budget, self.deadline)
        kind_if_late = "cell" if now + budget <= self.deadline else "notebook"
        try:
            self._send(codec.dumps(message), cell_deadline, kind_if_late)
            header = self._receive(8, cell_deadline, kind_if_late)
            size = int.from_bytes(header, "big")
            if size > codec.DEFAULT.max_bytes:
                raise LimitHit("protocol")
            answer = codec.loads(self._receive(size, cell_deadline, kind_if_late))
        except codec.CodecError:
            self.stop()
            raise LimitHit("protocol") from None
        except LimitHit:
            self.stop()
            raise
        if not isinstance(answer, dict) or answer.get("id") != self.next_id:
            self.stop()
            raise LimitHit("protocol")
        return answer

    def _send(self, data: bytes, deadline: float, kind: str) -> None:
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LimitHit(kind)
            _, writable, _ = select.select([self.out_r], [self.req_w], [], left)
            self._drain()
            if writable:
                try:
                    view = view[os.write(self.req_w, view[: 1 << 16]) :]
                except BrokenPipeError:
                    raise LimitHit(self._why_dead()) from None

    def _receive(self, n: int, deadline: float, kind: str) -> bytes:
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LimitHit(kind)
            readable, _, _ = select.select([self.ans_r, self.out_r], [], [], left)
            if self.out_r in readable:
                self._drain()
            if self.ans_r in readable:
                chunk = os.read(self.ans_r, min(n - got, 1 << 20))
                if not chunk:
                    raise LimitHit(self._why_dead())
                chunks.append(chunk)
                got += len(chunk)
        return b"".join(chunks)

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.out_r, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                return
            if not chunk:
                return
            self.output_bytes += len(chunk)
            if self.output_bytes > self.limits.output_kb * 1024:
                raise LimitHit("output")

    def _why_dead(self) -> str:
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        if self.cgroup is not None and self.cgroup.ran_out_of_memory():
            return "memory"
        return "died"
