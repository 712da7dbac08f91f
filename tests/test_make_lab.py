"""`make lab PORT=…` serves JupyterLab on that port, bound to 127.0.0.1, and shuts down cleanly.

The server runs in its own process group, which the test kills as a whole and then checks
is empty, so no process is left behind.
"""

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


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc to inspect sockets")
def test_make_lab_serves_on_the_requested_port_bound_to_localhost(tmp_path):
    assert (ROOT / "notebooks" / "00_start_here.ipynb").exists()
    port = free_port()
    env = dict(os.environ, BROWSER="true",  # never open a browser window
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"))
    log = (tmp_path / "lab.log").open("w+")
    proc = subprocess.Popen(["make", "lab", f"PORT={port}"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    pgid = proc.pid  # start_new_session: make leads its own group; jupyter inherits it
    try:
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
        output = log.read()
        assert answer is not None, f"JupyterLab did not answer on port {port}:\n{output[-3000:]}"
        assert "version" in answer
        assert f"http://127.0.0.1:{port}/lab" in output
        # bound to 127.0.0.1 only: every listening socket on the port is 127.0.0.1 (0100007F)
        assert listening_addresses(port) == ["0100007F"], listening_addresses(port)
        other = other_local_address()
        if other is not None:
            with socket.socket() as s:
                s.settimeout(2)
                assert s.connect_ex((other, port)) != 0, f"the server also answers on {other}"
    finally:
        stop_group(pgid)
        proc.wait(timeout=10)
        log.close()
    assert group_members(pgid) == [], "make lab left processes behind"
    assert listening_addresses(port) == []
