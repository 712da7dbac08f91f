"""`make lab PORT=…` serves JupyterLab on that port, bound to 127.0.0.1, and shuts down cleanly.

It serves the student's working copy (``WORK``, here a temporary folder): a notebook opened, changed and
saved through the server lands in the copy and the tracked notebook is byte for byte unchanged; a second
start keeps the student's edit. The printed URL opens lecture 00, and the environment's JupyterLab
settings switch the news pop-up off.

The server runs in its own process group, which the test kills as a whole and then checks
is empty, so no process is left behind.
"""

import hashlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 90  # seconds; usually a few


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def listening_addresses(port: int) -> list[str]:
    """Local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            cols = line.split()
            addr, hexport = cols[1].split(":")
            if int(hexport, 16) == port and cols[3] == "0A":  # 0A = LISTEN
                found.append(addr)
    return found


def other_local_address() -> str | None:
    """An address of this machine that is not loopback, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: no packet is sent for a UDP connect
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def stop_group(pgid: int) -> None:
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not group_members(pgid):
                return
            time.sleep(0.2)


def tracked_notebooks() -> dict[str, str]:
    """sha256 of every notebook of notebooks/ and exercises/, by relative path."""
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in ("notebooks", "exercises") for p in sorted((ROOT / folder).glob("*.ipynb"))}


def api(port: int, token: str, path: str, method: str = "GET", body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/contents/{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def start_lab(tmp_path: Path, work: Path, token: str, log_name: str):
    port = free_port()
    env = dict(os.environ, BROWSER="true",  # never open a browser window
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    log = (tmp_path / log_name).open("w+")
    proc = subprocess.Popen(["make", "lab", f"PORT={port}", f"WORK={work}",
                             f"LAB_ARGS=--IdentityProvider.token={token}"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    answer = None
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as resp:
                answer = json.loads(resp.read())
                break
        except OSError:
            time.sleep(0.5)
    log.seek(0)
    return proc, log, port, answer, log.read()


def stop_lab(proc, log) -> None:
    pgid = proc.pid  # start_new_session: make leads its own group; jupyter inherits it
    stop_group(pgid)
    proc.wait(timeout=10)
    log.close()
    assert group_members(pgid) == [], "make lab left processes behind"


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to inspect sockets")
def test_make_lab_serves_the_working_copy_on_the_requested_port_bound_to_localhost(tmp_path):
    before = tracked_notebooks()
    assert "notebooks/00_start_here.ipynb" in before
    work = tmp_path / "work"
    token = "emlab-test-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:16]
    proc, log, port, answer, output = start_lab(tmp_path, work, token, "lab.log")
    try:
        assert answer is not None, f"JupyterLab did not answer on port {port}:\n{output[-3000:]}"
        assert "version" in answer
        # the URL to open is lecture 00's
        assert f"http://127.0.0.1:{port}/lab/tree/notebooks/00_start_here.ipynb?token=" in output
        # bound to 127.0.0.1 only: every listening socket on the port is 127.0.0.1 (0100007F)
        assert listening_addresses(port) == ["0100007F"], listening_addresses(port)
        other = other_local_address()
        if other is not None:
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((other, port)) != 0, f"the server also answers on {other}"
        # the server's root is the working copy, filled with every lecture and exercise
        listing = {item["name"] for item in api(port, token, "exercises")["content"]}
        assert listing == {p.name for p in (ROOT / "exercises").glob("*.ipynb")}
        # a student opens lecture 00, changes it and saves: the copy changes, the tracked file does not
        model = api(port, token, "notebooks/00_start_here.ipynb?content=1")
        model["content"]["cells"][0]["source"] = "# my notes"
        api(port, token, "notebooks/00_start_here.ipynb", "PUT",
            {"type": "notebook", "format": "json", "content": model["content"]})
        saved = json.loads((work / "notebooks" / "00_start_here.ipynb").read_text())
        assert "".join(saved["cells"][0]["source"]) == "# my notes"
    finally:
        stop_lab(proc, log)
    assert listening_addresses(port) == []
    assert tracked_notebooks() == before

    # a second start keeps the student's edit
    proc, log, port, answer, output = start_lab(tmp_path, work, token, "lab2.log")
    try:
        assert answer is not None, output[-3000:]
        content = api(port, token, "notebooks/00_start_here.ipynb?content=1")["content"]
        assert content["cells"][0]["source"] == "# my notes"
    finally:
        stop_lab(proc, log)
    assert tracked_notebooks() == before


def test_the_environment_switches_the_news_popup_off():
    overrides = ROOT / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings = json.loads(overrides.read_text())["@jupyterlab/apputils-extension:notification"]
    assert settings["fetchNews"] == "false" and settings["checkForUpdates"] is False
