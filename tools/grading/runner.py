"""The program that runs inside the sandbox: it executes a student's cells and calls the student's
functions on inputs the grader sends, and returns what they produced as plain data.

It judges nothing and holds nothing secret: no reference value, no hidden test and no score ever
reaches this process. Requests arrive on file descriptor 0 and answers leave on the descriptor
named by ``EMLAB_ANSWER_FD`` (both moved to private numbers before any student code runs; the student's ``print`` output goes to
descriptors 1 and 2, which the grader drains and never parses). Student code can of course find
those descriptors: whatever it writes there is at most a forged *answer of its own function*, which
is exactly what the student controls anyway, so the grader only ever treats these messages as
"what the function returned" and parses them with the strict limits of :mod:`codec`.

Messages (JSON, framed by :func:`codec.dumps`):

* ``{"op": "run", "id", "label", "source"}`` → ``{"id", "ok", "error"?}``: execute one cell;
* ``{"op": "kinds", "id", "names"}`` → ``{"id", "kinds": {name: "callable" | "data" | "missing"}}``;
* ``{"op": "call", "id", "name", "args", "kwargs"}`` → ``{"id", "ok", "value" | "error"}``;
* ``{"op": "get", "id", "name"}`` → ``{"id", "ok", "value" | "error"}``.

An error is ``{"type": exception class name, "where": [[cell label, line], ...]}``: where in the
student's cells it was raised, never the exception's message (which could echo inputs).
"""

from __future__ import annotations

import builtins
import os
import shutil
import sys
import traceback
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import codec  # noqa: E402

REQUEST_FD = 0
ANSWER_FD = int(os.environ.get("EMLAB_ANSWER_FD", "3"))


def _private_fds() -> tuple[int, int]:
    req = os.dup(REQUEST_FD)
    ans = os.dup(ANSWER_FD)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, REQUEST_FD)
    os.close(devnull)
    os.close(ANSWER_FD)
    for fd in (req, ans):
        os.set_inheritable(fd, False)
    return req, ans


def _read_exact(fd: int, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Runner:
    def __init__(self, req_fd: int, ans_fd: int):
        self.req_fd, self.ans_fd = req_fd, ans_fd
        # the notebook's namespace is a module of its own registered as __main__, as in a Jupyter
        # kernel: what it defines can be pickled by name (a multiprocessing Pool's tasks)
        self.main = types.ModuleType("__main__")
        self.main.__builtins__ = builtins
        sys.modules["__main__"] = self.main
        self.ns: dict = self.main.__dict__
        self.ns.setdefault("display", _plain_display)
        self.shell = None
        self.labels: set[str] = set()

    # ------------------------------------------------------------------ the cells

    def _python_source(self, source: str) -> str:
        """Cell text as Python: IPython's own transformer turns magics and ``!`` lines into calls
        of ``get_ipython()``, which exists only when a cell needs it."""
        needs_ipython = "get_ipython" in source or any(
            line.lstrip().startswith(("%", "!"))
            or line.rstrip().endswith("?")
            and not line.lstrip().startswith("#")
            for line in source.splitlines()
        )
        if not needs_ipython:
            return source
        if self.shell is None:
            from IPython.core.interactiveshell import InteractiveShell

            self.shell = InteractiveShell.instance(user_module=self.main, user_ns=self.ns)
            self.shell.register_magic_function(lambda line: None, "line", "matplotlib")
            self.ns["get_ipython"] = lambda: self.shell
        return self.shell.transform_cell(source)

    def run(self, label: str, source: str) -> dict:
        self.labels.add(label)
        try:
            code = compile(self._python_source(source), f"<{label}>", "exec")
            exec(code, self.ns)  # noqa: S102 - this is the sandbox: running student code is its job
        except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt too
            return {"ok": False, "error": self._describe(exc)}
        return {"ok": True}

    # ------------------------------------------------------------------ the calls

    def kinds(self, names: list[str]) -> dict:
        out = {}
        for name in names:
            if name not in self.ns:
                out[name] = "missing"
            else:
                out[name] = "callable" if callable(self.ns[name]) else "data"
        return {"kinds": out}

    def call(self, name: str, args, kwargs) -> dict:
        func = self.ns.get(name)
        if func is None or not callable(func):
            return {"ok": False, "error": {"type": "NameError", "where": [], "missing": True}}
        try:
            a = codec.decode(args, resolve_global=self._resolve)
            k = codec.decode(kwargs, resolve_global=self._resolve)
        except codec.CodecError:
            return {"ok": False, "error": {"type": "GraderInputError", "where": []}}
        try:
            value = func(*a, **k)
        except BaseException as exc:  # noqa: BLE001
            return {"ok": False, "error": self._describe(exc)}
        return self._answer(value)

    def get(self, name: str) -> dict:
        if name not in self.ns:
            return {"ok": False, "error": {"type": "NameError", "where": [], "missing": True}}
        return self._answer(self.ns[name])

    def _answer(self, value) -> dict:
        try:
            return {"ok": True, "value": codec.encode(value)}
        except codec.CodecError as exc:
            return {"ok": False, "error": {"type": "TooLarge", "where": [], "detail": str(exc)[:200]}}
        except BaseException as exc:  # noqa: BLE001 - a hostile __getattr__ or property
            return {"ok": False, "error": {"type": "Unreadable", "where": [], "detail": type(exc).__name__}}

    def _resolve(self, name: str):
        if name not in self.ns:
            raise codec.CodecError(f"no global {name[:40]!r} in the notebook")
        return self.ns[name]

    def _describe(self, exc: BaseException) -> dict:
        where = []
        for frame in traceback.extract_tb(exc.__traceback__):
            label = frame.filename[1:-1] if frame.filename.startswith("<") else ""
            if label in self.labels:
                where.append([label, frame.lineno])
        name = type(exc).__name__
        return {"type": name[:80], "where": where[-5:]}

    # ------------------------------------------------------------------ the loop

    def serve(self) -> None:
        while True:
            try:
                size = int.from_bytes(_read_exact(self.req_fd, 8), "big")
                request = codec.loads(_read_exact(self.req_fd, size))
            except (EOFError, OSError):
                return
            op, rid = request.get("op"), request.get("id")
            if op == "exit":
                return
            if op == "run":
                answer = self.run(str(request["label"]), str(request["source"]))
            elif op == "kinds":
                answer = self.kinds(list(request["names"]))
            elif op == "call":
                answer = self.call(
                    str(request["name"]), request.get("args", []), request.get("kwargs", {"$dict": []})
                )
            elif op == "get":
                answer = self.get(str(request["name"]))
            else:
                answer = {"ok": False, "error": {"type": "UnknownRequest", "where": []}}
            answer["id"] = rid
            sys.stdout.flush()
            sys.stderr.flush()
            _write_all(self.ans_fd, codec.dumps(answer))


def _plain_display(*objs, **kwargs):
    for obj in objs:
        print(repr(obj))


def main() -> None:
    req, ans = _private_fds()
    os.makedirs(os.environ.get("HOME", "/tmp/home"), exist_ok=True)
    cache, config = os.environ.get("EMLAB_MPL_CACHE"), os.environ.get("MPLCONFIGDIR")
    if cache and config and os.path.isdir(cache):  # a font cache, so matplotlib does not rebuild it
        shutil.copytree(cache, config, dirs_exist_ok=True)
    os.chdir(os.environ.get("EMLAB_WORKDIR", os.getcwd()))
    sys.argv = ["notebook"]
    # the library view first; then, as in a Jupyter kernel, the notebook's folder (a helper module
    # the notebook wrote with %%writefile is importable)
    sys.path[:0] = [p for p in os.environ.get("EMLAB_SANDBOX_PATH", "").split(":") if p] + [os.getcwd()]
    Runner(req, ans).serve()


if __name__ == "__main__":
    main()
