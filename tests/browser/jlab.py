"""Drive the course the way a student meets it: JupyterLab in headless Chromium.

`LabServer` starts ``jupyter lab`` from this virtualenv on 127.0.0.1 (free port, random token) in a
scratch copy of the repository, so autosave can never write outputs into the tracked notebooks, with
news, update checks and autosave switched off and notebook windowing disabled (every cell stays in the
DOM, so every output can be inspected). `NotebookSession` opens one notebook in a browser page, runs all
cells through the Run menu, waits for the kernel to go idle and reports what the student sees.
`WidgetProbe` finds every interactive widget and moves it.

Used by conftest.py (fixtures) and the test modules; no pytest in here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError

REPO = Path(__file__).resolve().parents[2]
# EMLAB_BROWSER_NOTEBOOKS points the tests at another folder of notebooks (to try the harness).
NOTEBOOK_DIR = Path(os.environ.get("EMLAB_BROWSER_NOTEBOOKS", REPO / "notebooks")).resolve()
SCREENSHOTS = REPO / "screenshots"
CHROMIUM = Path(os.environ.get("EMLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-renderer-backgrounding",
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
]
# Seconds a notebook may take to run all its cells in the browser (the machine may be busy).
RUN_TIMEOUT = float(os.environ.get("EMLAB_BROWSER_TIMEOUT", "300"))
VIEWPORT = {"width": 1280, "height": 1000}

# JupyterLab user settings for the scratch server: no network, no autosave into the copies, all cells in
# the DOM (the default windowing would detach cells scrolled out of view).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}

# A widget shown as text instead of a control means the widget manager is missing in the front end.
RAW_WIDGET_REPR = re.compile(
    r"^\s*(IntSlider|FloatSlider|FloatLogSlider|IntRangeSlider|FloatRangeSlider|SelectionSlider|"
    r"SelectionRangeSlider|Dropdown|Button|ToggleButton|ToggleButtons|RadioButtons|Checkbox|Select|"
    r"SelectMultiple|Play|IntText|FloatText|BoundedIntText|BoundedFloatText|Text|Textarea|Label|HTML|"
    r"HTMLMath|Output|VBox|HBox|Box|GridBox|Tab|Accordion|interactive|Image|IntProgress|FloatProgress)"
    r"\((value|children|description|options|layout|outputs|min|max|index|_dom_classes)=",
    re.MULTILINE,
)
WIDGET_MANAGER_MISSING = re.compile(
    r"Error displaying widget|Loading widget\.\.\.|model not found|"
    r"Failed to load model class|A Jupyter widget could not be displayed",
)
# matplotlib's text stand-in for a figure that was never drawn inline.
FIGURE_NOT_DRAWN = re.compile(r"<Figure size \d+(\.\d+)?x\d+(\.\d+)? with \d+ Axes>")
# The repr of a stray last expression (`ax.legend()` without `;`): noise a student should not see.
STRAY_REPR = re.compile(r"<[A-Za-z_][\w.]* (object )?at 0x[0-9a-fA-F]+>|^Text\(-?\d", re.MULTILINE)
# LaTeX left as source in rendered markdown: MathJax did not typeset it.
UNRENDERED_MATH = re.compile(r"\$\$|\\(frac|sum|prod|theta|log|mathbb|mathcal|begin|left|right|hat)\b")
# stderr text that a student reads as a failure (tqdm bars, also on stderr, are fine).
STDERR_FAILURE = re.compile(r"Traceback|Error\b|Warning\b|Exception\b")


def notebooks() -> list[Path]:
    """Every lecture notebook, in course order."""
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def chromium_problem() -> str | None:
    """Why the browser tests cannot run here, with the fix; None when Chromium is present."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"Chromium not found at {CHROMIUM}. The browser tests need Debian's Chromium; install it with\n"
        "    apt-get update && apt-get install -y chromium\n"
        "(or point EMLAB_CHROMIUM at a Chromium binary). Never run `playwright install`."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``jupyter lab`` on a scratch copy of the repository; stop() kills its whole process group."""

    def __init__(self, workdir: Path, notebook_dir: Path = NOTEBOOK_DIR):
        self.workdir = Path(workdir)
        self.notebook_dir = Path(notebook_dir)
        self.root = self.workdir / "course"
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.proc: subprocess.Popen | None = None
        self.log_path = self.workdir / "jupyterlab.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "lab") -> str:
        return f"{self.base_url}/{path}?token={self.token}"

    def _prepare(self) -> None:
        # Copy the notebooks (the server edits what it opens); link everything else so relative paths
        # used by the notebooks (../emlab, ../README.md) still resolve.
        self.root.mkdir(parents=True)
        skip = {".git", ".venv", "notebooks", "screenshots", "_build", ".pytest_cache", ".ruff_cache"}
        for entry in REPO.iterdir():
            if entry.name not in skip:
                (self.root / entry.name).symlink_to(entry)
        shutil.copytree(
            self.notebook_dir, self.root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints")
        )
        settings = self.workdir / "lab-settings"
        for rel, values in LAB_SETTINGS.items():
            path = settings / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        for sub in ("workspaces", "config", "data", "runtime", "ipython"):
            (self.workdir / sub).mkdir()

    def start(self, timeout: float = 120.0) -> None:
        self._prepare()
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)
        env.update(
            JUPYTERLAB_SETTINGS_DIR=str(self.workdir / "lab-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "workspaces"),
            JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
            JUPYTER_DATA_DIR=str(self.workdir / "data"),
            JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
            IPYTHONDIR=str(self.workdir / "ipython"),
            JUPYTER_PLATFORM_DIRS="1",
            PYTHONDONTWRITEBYTECODE="1",
        )
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.terminals_enabled=False",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]  # fmt: skip
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            cmd, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f}s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text()[-4000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            # Kernels run in sessions of their own: shut them down through the server first.
            try:
                with urllib.request.urlopen(self.url("api/kernels"), timeout=10) as r:
                    kernels = json.load(r)
                for k in kernels:
                    req = urllib.request.Request(self.url(f"api/kernels/{k['id']}"), method="DELETE")
                    urllib.request.urlopen(req, timeout=30).close()
            except OSError:
                pass  # the server's own SIGTERM handler shuts down what is left
            pgid = os.getpgid(self.proc.pid)
            os.killpg(pgid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(pgid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self._log.close()
        self.proc = None


# --------------------------------------------------------------------------------------------------
# What the page shows, collected in one JavaScript pass over the notebook panel.

_INSPECT_JS = r"""
(panel) => {
  const nb = panel.querySelector('.jp-Notebook');
  const cells = [...nb.querySelectorAll(':scope > .jp-Cell, .jp-WindowedPanel-viewport > .jp-Cell')];
  const out = [];
  cells.forEach((cell, i) => {
    const isCode = cell.classList.contains('jp-CodeCell');
    const prompt = isCode ? (cell.querySelector('.jp-InputArea-prompt')?.textContent || '').trim() : '';
    const outputs = [...cell.querySelectorAll('.jp-OutputArea-output')].map(o => ({
      mime: o.getAttribute('data-mime-type') ||
            (o.querySelector('[data-mime-type]')?.getAttribute('data-mime-type') || ''),
      text: (o.innerText || '').slice(0, 2000),
    }));
    // A figure is clipped when a box between it and its cell hides part of it.
    const clippedBy = (el) => {
      const r = el.getBoundingClientRect();
      for (let a = el.parentElement; a && a !== cell; a = a.parentElement) {
        const s = getComputedStyle(a);
        if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
        const b = a.getBoundingClientRect();
        if (r.left < b.left - 2 || r.right > b.right + 2 || r.top < b.top - 2 || r.bottom > b.bottom + 2)
          return a.className.toString().slice(0, 80) || a.tagName;
      }
      return '';
    };
    const images = [...cell.querySelectorAll('.jp-OutputArea-output img')].map(img => ({
      complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
      width: img.getBoundingClientRect().width, height: img.getBoundingClientRect().height,
      clippedBy: clippedBy(img),
    }));
    const svgs = [...cell.querySelectorAll('.jp-RenderedSVG svg')].map(s => ({
      width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height,
      clippedBy: clippedBy(s)}));
    const area = cell.querySelector('.jp-Cell-outputArea');
    const clipped = area ? [...area.querySelectorAll('.jp-OutputArea-output')].some(
      o => o.scrollWidth > o.clientWidth + 2 && getComputedStyle(o).overflowX !== 'visible') : false;
    const scrolled = !!cell.querySelector('.jp-OutputArea-scrolled, .jp-mod-outputsScrolled');
    const source = (cell.querySelector('.jp-InputArea-editor')?.innerText || '').slice(0, 160);
    const scroller = cell.querySelector('.jp-InputArea-editor .cm-scroller');
    const wideCode = !!scroller && scroller.scrollWidth > scroller.clientWidth + 2;
    const markdown = isCode ? '' : (cell.querySelector('.jp-MarkdownOutput')?.innerText || '');
    const editing = !isCode && !cell.querySelector('.jp-MarkdownOutput');
    out.push({index: i, isCode, prompt, outputs, images, svgs, clipped, scrolled, source, markdown, editing,
              wideCode});
  });
  return out;
}
"""

_SIGNATURE_JS = r"""
([panel, skip]) => {
  // Per cell, what its outputs show except the control being moved: texts, values and image data.
  const fnv = (str) => {  // FNV-1a, so only short digests cross to Python
    let h = 0x811c9dc5;
    for (let i = 0; i < str.length; i++) { h ^= str.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return (h >>> 0).toString(16) + ':' + str.length;
  };
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell')];
  return cells.map(cell => {
    const texts = [], images = [];
    const walker = (node) => {
      if (skip && (node === skip || skip.contains(node))) return;
      if (node.nodeType === Node.TEXT_NODE) {
        const t = node.textContent.trim();
        if (t) texts.push(t);
        return;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) return;
      if (node.tagName === 'IMG') images.push(fnv(node.src));
      if (node.tagName === 'CANVAS') { try { images.push(fnv(node.toDataURL())); } catch (e) {} }
      if (node.tagName === 'svg') images.push(fnv(node.outerHTML));
      if (node.tagName === 'INPUT' || node.tagName === 'SELECT') texts.push('value=' + node.value);
      for (const c of node.childNodes) walker(c);
    };
    const area = cell.querySelector('.jp-Cell-outputArea');
    if (area) walker(area);
    return {texts: texts.join('\u241e'), images};
  });
}
"""

# Interactive leaves of a rendered ipywidget, and how to recognise each kind.
_CONTROLS_JS = r"""
(panel) => {
  const kinds = [
    ['slider', '.widget-slider'], ['dropdown', '.widget-dropdown'],
    ['togglebuttons', '.widget-toggle-buttons'], ['radio', '.widget-radio'],
    ['checkbox', '.widget-checkbox'], ['select', '.widget-select'],
    ['play', '.widget-play'], ['button', 'button.widget-button'], ['toggle', 'button.widget-toggle-button'],
    ['text', '.widget-text'], ['textarea', '.widget-textarea'],
    ['colorpicker', '.widget-colorpicker'], ['datepicker', '.widget-datepicker'],
  ];
  const found = [];
  const claimed = new Set();
  const root = panel.querySelector('.jp-Notebook');
  for (const [kind, sel] of kinds) {
    for (const el of root.querySelectorAll('.jp-OutputArea-output ' + sel)) {
      if ([...claimed].some(c => c.contains(el) || el.contains(c))) continue;
      claimed.add(el);
      found.push(el);
      el.setAttribute('data-h7-kind', kind);
    }
  }
  // Anything a student can operate that none of the recipes above claims.
  const stray = [...root.querySelectorAll(
      '.jp-OutputArea-output .jupyter-widgets input, .jp-OutputArea-output .jupyter-widgets select, ' +
      '.jp-OutputArea-output .jupyter-widgets button, .jp-OutputArea-output .jupyter-widgets textarea')]
    .filter(el => !found.some(f => f.contains(el)))
    .map(el => el.outerHTML.slice(0, 200));
  const cells = [...root.querySelectorAll('.jp-Cell')];
  found.forEach((el, i) => {
    el.setAttribute('data-h7-control', String(i));
    const cell = el.closest('.jp-Cell');
    el.setAttribute('data-h7-cell', String(cells.indexOf(cell)));
  });
  return {
    controls: found.map((el, i) => ({
      id: i,
      kind: el.getAttribute('data-h7-kind'),
      cell: Number(el.getAttribute('data-h7-cell')),
      label: ([el.querySelector('.widget-label')?.innerText, el.innerText, el.title]
              .map(t => (t || '').replace(/\u200b/g, '').trim()).find(t => t) || '').slice(0, 60),
      disabled: !!el.querySelector(':disabled') || el.disabled === true,
    })),
    stray,
  };
}
"""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class OutputSignature:
    """Per cell: a digest of its output text and one digest per image."""

    texts: tuple[str, ...]
    images: tuple[tuple[str, ...], ...]

    def changed_cells(self, other: OutputSignature) -> dict[int, set[str]]:
        """{cell index: {"text", "image"}} for every cell whose outputs differ."""
        out: dict[int, set[str]] = {}
        for i, (a, b) in enumerate(zip(self.texts, other.texts, strict=False)):
            if a != b:
                out.setdefault(i, set()).add("text")
        for i, (a, b) in enumerate(zip(self.images, other.images, strict=False)):
            if a != b:
                out.setdefault(i, set()).add("image")
        return out


@dataclass
class CellView:
    index: int
    is_code: bool
    prompt: str
    outputs: list[dict]
    images: list[dict]
    svgs: list[dict]
    clipped: bool
    scrolled: bool
    source: str
    markdown: str = ""
    editing: bool = False
    wide_code: bool = False

    def where(self) -> str:
        first = self.source.strip().splitlines()[0] if self.source.strip() else ""
        return f"cell {self.index} {self.prompt} `{first[:70]}`"


@dataclass
class NotebookRun:
    """The state of one notebook after Run All, as shown in the browser."""

    name: str
    seconds: float
    cells: list[CellView]
    screenshots: list[Path] = field(default_factory=list)

    @property
    def code_cells(self) -> list[CellView]:
        return [c for c in self.cells if c.is_code]

    def problems(self) -> list[str]:
        """Everything a student would see as broken; empty when the notebook looks right."""
        found = []
        for c in self.cells:
            if c.is_code:
                continue
            if c.editing:
                found.append(f"markdown cell {c.index}: shown as source, not rendered")
            lines = c.markdown.splitlines()
            raw = [ln for ln in lines if re.match(r"\s*#{1,6}\s", ln) or UNRENDERED_MATH.search(ln)]
            if raw:
                found.append(f"markdown cell {c.index}: unrendered markup or math: {raw[0][:100]!r}")
        for c in self.code_cells:
            if c.source.strip() and not re.fullmatch(r"\[\d+\]:", c.prompt):
                found.append(f"{c.where()}: not executed (prompt {c.prompt!r})")
            for o in c.outputs:
                mime, text = o["mime"], o["text"]
                if mime == "application/vnd.jupyter.error":
                    found.append(f"{c.where()}: error output\n{text[:800]}")
                elif mime == "application/vnd.jupyter.stderr" and STDERR_FAILURE.search(text):
                    found.append(f"{c.where()}: error or warning on stderr\n{text[:800]}")
                if RAW_WIDGET_REPR.search(text):
                    found.append(f"{c.where()}: raw widget repr instead of a widget: {text[:120]!r}")
                if STRAY_REPR.search(text) and not FIGURE_NOT_DRAWN.search(text):
                    found.append(f"{c.where()}: stray object repr (end the line with `;`): {text[:120]!r}")
                if FIGURE_NOT_DRAWN.search(text):
                    found.append(f"{c.where()}: figure shown as text, not drawn: {text[:120]!r}")
                if WIDGET_MANAGER_MISSING.search(text):
                    found.append(f"{c.where()}: widget not rendered: {text[:120]!r}")
            for img in c.images:
                if not img["complete"] or img["naturalWidth"] == 0 or img["width"] == 0:
                    found.append(f"{c.where()}: figure not rendered ({img})")
            for fig in c.images + c.svgs:
                if fig["width"] == 0 or fig["height"] == 0:
                    found.append(f"{c.where()}: figure has no size on the page ({fig})")
                if fig["clippedBy"]:
                    found.append(f"{c.where()}: figure clipped by its container .{fig['clippedBy']}")
            if c.clipped:
                found.append(f"{c.where()}: output wider than the notebook (horizontally clipped)")
        return found

    def remarks(self) -> list[str]:
        """What looks less than ideal but is not broken: reported in screenshots/report.txt."""
        found = []
        for c in self.code_cells:
            if c.wide_code:
                found.append(f"{c.where()}: a code line is wider than the editor (student must scroll)")
            for img in c.images:
                if img["naturalWidth"] and img["width"] < 0.6 * img["naturalWidth"]:
                    found.append(
                        f"{c.where()}: figure shrunk to {img['width']:.0f}px of {img['naturalWidth']}px"
                    )
        return found

    @property
    def n_figures(self) -> int:
        return sum(len(c.images) + len(c.svgs) for c in self.cells)


class NotebookSession:
    """One notebook open in one browser page with a live kernel."""

    def __init__(self, server: LabServer, context, name: str):
        self.server = server
        self.context = context
        self.name = name
        self.page = context.new_page()
        self.page.set_default_timeout(60_000)
        self.panel = None

    # -- opening and running ------------------------------------------------------------------------
    def open(self) -> None:
        page = self.page
        # A workspace of its own per notebook, so JupyterLab restores no other tabs into this page.
        workspace = "emlab-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.name.removesuffix(".ipynb"))
        page.goto(
            self.server.url(f"lab/workspaces/{workspace}/tree/notebooks/{self.name}"),
            wait_until="domcontentloaded",
        )
        page.wait_for_selector("#jp-main-dock-panel", state="attached", timeout=120_000)
        # The visible notebook panel once its cells and toolbar are rendered (they re-render on load).
        page.wait_for_function(
            "() => !!document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')"
            " && !!document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Notebook-ExecutionIndicator')",
            timeout=120_000,
        )
        page.wait_for_timeout(500)
        self.panel = page.query_selector(".jp-NotebookPanel:not(.lm-mod-hidden)")
        dialogs = page.locator(".jp-Dialog")
        if dialogs.count():
            raise AssertionError(f"{self.name}: dialog on opening: {dialogs.first.inner_text()[:300]}")
        self.wait_kernel_idle(120)
        self.close_left_sidebar()

    def wait_kernel_idle(self, timeout: float) -> None:
        """Until the kernel is connected and idle (Run All before that silently runs nothing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                self.kernel_status() == "idle"
                and self.page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| Idle$")).count()
            ):
                return
            self.page.wait_for_timeout(250)
        raise TimeoutError(
            f"{self.name}: kernel not connected and idle after {timeout:.0f}s "
            f"(status {self.kernel_status()!r})"
        )

    def close_left_sidebar(self) -> None:
        """More room for the notebook, as a student would have after closing the file browser."""
        if self.page.locator("#jp-left-stack:not(.lm-mod-hidden)").count():
            try:
                self.run_command_via_menu("View", "File Browser", timeout=10_000)
            except PlaywrightError:  # cosmetic only: the notebook is still usable with it open
                self.page.keyboard.press("Escape")
        self.page.wait_for_timeout(200)

    def run_command_via_menu(self, menu: str, item: str, timeout: float = 60_000) -> None:
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(rf"^{re.escape(menu)}$")).click(
            timeout=timeout
        )
        page.locator(
            ".lm-Menu:visible .lm-Menu-itemLabel", has_text=re.compile(rf"^{re.escape(item)}$")
        ).first.click(timeout=timeout)

    def kernel_status(self) -> str:
        el = self.panel.query_selector(".jp-Notebook-ExecutionIndicator")
        return el.get_attribute("data-status") if el else ""

    def _prompts(self) -> list[str]:
        return self.panel.evaluate(
            "p => [...p.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(e => e.textContent.trim())"
        )

    def run_all(self, timeout: float = RUN_TIMEOUT) -> NotebookRun:
        start = time.monotonic()
        self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").click(
            position={"x": 5, "y": 5}
        )
        self.run_command_via_menu("Run", "Run All Cells")
        deadline = start + timeout
        started = False
        retried = False
        calm = 0
        while True:
            prompts = self._prompts()
            busy = any("*" in p for p in prompts)
            started = started or busy or any(re.fullmatch(r"\[\d+\]:", p) for p in prompts)
            if not started and not retried and time.monotonic() - start > 20:
                # The kernel was not ready for the first request; ask once more.
                retried = True
                self.wait_kernel_idle(60)
                self.run_command_via_menu("Run", "Run All Cells")
            status = self.kernel_status()
            calm = calm + 1 if started and not busy and status == "idle" else 0
            if calm >= 4:  # idle for about a second: no cell queued or running
                break
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.name}: still running after {timeout:.0f}s (kernel {status!r}, "
                    f"{sum('*' in p for p in prompts)} cells pending); raise EMLAB_BROWSER_TIMEOUT"
                )
            self.page.wait_for_timeout(250)
        self.wait_images_loaded()
        return self.inspect(time.monotonic() - start)

    def wait_images_loaded(self, timeout_ms: int = 15_000) -> None:
        self.page.wait_for_function(
            "p => [...p.querySelectorAll('.jp-OutputArea-output img')].every(i => i.complete)",
            arg=self.panel,
            timeout=timeout_ms,
        )

    def inspect(self, seconds: float = 0.0) -> NotebookRun:
        cells = [
            CellView(
                index=c["index"],
                is_code=c["isCode"],
                prompt=c["prompt"],
                outputs=c["outputs"],
                images=c["images"],
                svgs=c["svgs"],
                clipped=c["clipped"],
                scrolled=c["scrolled"],
                source=c["source"],
                markdown=c["markdown"],
                wide_code=c["wideCode"],
                editing=c["editing"],
            )
            for c in self.panel.evaluate(_INSPECT_JS)
        ]
        return NotebookRun(self.name, seconds, cells)

    # -- screenshots --------------------------------------------------------------------------------
    def scroller(self):
        """The element that scrolls the notebook (JupyterLab 4: .jp-WindowedPanel-outer)."""
        return self.panel.evaluate_handle(
            "p => { const nb = p.querySelector('.jp-Notebook');"
            " const cands = [nb, ...nb.querySelectorAll('*')].filter(el => {"
            "   const s = getComputedStyle(el);"
            "   return (s.overflowY === 'auto' || s.overflowY === 'scroll') && el.clientHeight > 200; });"
            " return p.querySelector('.jp-WindowedPanel-outer') || cands[0] || nb; }"
        )

    def screenshot_sections(self, folder: Path, max_sections: int = 40) -> list[Path]:
        """Scroll the notebook top to bottom, one viewport-high PNG per step, what a student sees."""
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()
        scroller = self.scroller()
        scroller.evaluate("el => el.scrollTo(0, 0)")
        paths = []
        for i in range(max_sections):
            self.page.wait_for_timeout(150)
            past_end = scroller.evaluate(
                "el => { const cells = el.querySelectorAll('.jp-Cell');"
                " const last = cells[cells.length - 1];"
                " const top = el.getBoundingClientRect().top;"
                " return !!last && last.getBoundingClientRect().bottom < top + 40; }"
            )
            if i and past_end:  # only JupyterLab's scroll-past-end padding is left
                break
            path = folder / f"{i + 1:02d}.png"
            self.page.screenshot(path=str(path))
            paths.append(path)
            moved = scroller.evaluate(
                "el => { const before = el.scrollTop; el.scrollTop = before + el.clientHeight - 60;"
                " return el.scrollTop - before; }"
            )
            if moved <= 0:
                break
        scroller.evaluate("el => el.scrollTo(0, 0)")
        return paths

    # -- widgets ------------------------------------------------------------------------------------
    def controls(self) -> dict:
        return self.panel.evaluate(_CONTROLS_JS)

    def signature(self, skip_selector: str | None = None) -> OutputSignature:
        """Digest of every cell's outputs, leaving out the element matching skip_selector."""
        skip = self.panel.query_selector(skip_selector) if skip_selector else None
        cells = self.page.evaluate(_SIGNATURE_JS, [self.panel, skip])
        return OutputSignature(
            tuple(_digest(c["texts"]) for c in cells),
            tuple(tuple(_digest(i) for i in c["images"]) for c in cells),
        )

    def move(self, control: dict) -> str:
        """Operate one control as a student would; returns a description of what was done."""
        page = self.page
        el = self.page.locator(f'[data-h7-control="{control["id"]}"]')
        if el.count() == 0:
            raise AssertionError(f"control {control} vanished from the page")
        el.scroll_into_view_if_needed()
        kind = control["kind"]
        if kind == "slider":
            handle = el.locator(".noUi-handle").first
            readout = el.locator(".widget-readout").first
            before = handle.get_attribute("aria-valuenow")
            before_text = readout.inner_text() if readout.count() else ""
            handle.focus()
            page.keyboard.press("End")
            if handle.get_attribute("aria-valuenow") == before:  # already at the maximum
                page.keyboard.press("Home")
            after = handle.get_attribute("aria-valuenow")
            if after == before:
                raise AssertionError(f"slider {control['label']!r} did not move with End/Home")
            after_text = readout.inner_text() if readout.count() else ""
            return f"slider {before_text or before} -> {after_text or after}"
        if kind in ("dropdown", "select"):
            select = el.locator("select").first
            current = select.input_value()
            values = select.locator("option").evaluate_all("os => os.map(o => o.value)")
            others = [v for v in values if v != current]
            if not others:
                raise AssertionError(f"{kind} {control['label']!r} has no other option to choose")
            select.select_option(value=others[0])
            texts = select.locator("option").evaluate_all("os => os.map(o => o.textContent)")
            return (
                f"{kind} {texts[values.index(current)] if current in values else current!r} -> "
                f"{texts[values.index(others[0])]!r}"
            )
        if kind in ("button", "toggle"):
            el.click()
            return f"{kind} {control['label']!r} clicked"
        if kind == "togglebuttons":
            target = el.locator("button:not(.mod-active)").first
            label = target.inner_text()
            target.click()
            return f"toggle buttons -> {label!r}"
        if kind == "radio":
            target = el.locator("input[type=radio]:not(:checked)").first
            target.check()
            return "radio -> another option"
        if kind == "checkbox":
            box = el.locator("input[type=checkbox]").first
            box.click()
            return f"checkbox -> {box.is_checked()}"
        if kind == "play":
            el.locator("button").first.click()
            page.wait_for_timeout(1500)
            el.locator("button").nth(1).click()
            return "play pressed, then pause"
        if kind in ("text", "textarea"):
            box = el.locator("input, textarea").first
            if box.get_attribute("type") == "number":
                box.fill(str(float(box.input_value() or 0) + 1).removesuffix(".0"))
            else:
                box.fill((box.input_value() or "") + "a")
            box.press("Enter" if kind == "text" else "Tab")
            return f"{kind} typed into"
        raise AssertionError(f"no recipe to operate a {kind} widget ({control}); add one in jlab.py")

    def operate(self, control: dict, action: str) -> None:
        """One precise action on a control: "End"/"Home" for a slider, "option:<value>", "click"."""
        el = self.page.locator(f'[data-h7-control="{control["id"]}"]')
        el.scroll_into_view_if_needed()
        if action in ("End", "Home"):
            el.locator(".noUi-handle").first.focus()
            self.page.keyboard.press(action)
        elif action.startswith("option:"):
            el.locator("select").first.select_option(value=action.removeprefix("option:"))
        elif action == "click":
            el.click()
        else:
            raise ValueError(f"unknown action {action!r}")

    def options(self, control: dict) -> list[str]:
        el = self.page.locator(f'[data-h7-control="{control["id"]}"] select').first
        return el.locator("option").evaluate_all("os => os.map(o => o.value)")

    def settle(self, control: dict, action: str) -> OutputSignature:
        """Do `action`, wait until the outputs stop changing, return what they show."""
        skip = f'[data-h7-control="{control["id"]}"]'
        before = self.signature(skip)
        self.operate(control, action)
        self.wait_for_change(before, skip)
        return self.signature(skip)

    def wait_for_change(
        self, before: OutputSignature, skip_selector: str, timeout: float = 180.0, quiet: float = 3.0
    ) -> float:
        """Seconds until the outputs differ from `before` and settle (kernel idle, stable).

        Returns -1 when nothing changed while the kernel stayed idle for `quiet` seconds (a busy kernel
        is waited for up to `timeout`: a callback may run EM for a while).
        """
        start = time.monotonic()
        changed_at = None
        last = None
        stable = 0
        idle_since = None
        while time.monotonic() - start < timeout:
            sig = self.signature(skip_selector)
            now = time.monotonic() - start
            idle = self.kernel_status() == "idle"
            if sig != before and changed_at is None:
                changed_at = now
            if changed_at is not None:
                stable = stable + 1 if sig == last and idle else 0
                if stable >= 3:
                    break
            else:
                idle_since = (now if idle_since is None else idle_since) if idle else None
                if idle_since is not None and now - idle_since >= quiet:
                    return -1.0
            last = sig
            self.page.wait_for_timeout(250)
        if changed_at is None:
            return -1.0
        self.wait_images_loaded()
        return changed_at

    def close(self) -> None:
        try:
            self.page.close()
        except Exception:  # noqa: BLE001 - the browser may be gone already at teardown
            pass


# -- named parts of a widget (used by test_spreadsheet.py) -----------------------------------------
_PARTS_JS = r"""
([panel, classes]) => {
  // For each CSS class: a digest of the element's text and of its images' data, and the widest image.
  const fnv = (str) => {
    let h = 0x811c9dc5;
    for (let i = 0; i < str.length; i++) { h ^= str.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return (h >>> 0).toString(16) + ':' + str.length;
  };
  const out = {};
  for (const cls of classes) {
    const el = panel.querySelector('.' + cls);
    if (!el) { out[cls] = null; continue; }
    const imgs = [...el.querySelectorAll('img')];
    out[cls] = {
      text: fnv(el.innerText || ''),
      raw: (el.innerText || '').slice(0, 600),
      images: imgs.map(i => fnv(i.src)),
      widest: Math.max(0, ...imgs.map(i => i.naturalWidth)),
      loaded: imgs.every(i => i.complete && i.naturalWidth > 0),
    };
  }
  return out;
}
"""


def widget_parts(session: NotebookSession, classes: list[str]) -> dict[str, dict | None]:
    """What each part of a widget (found by its CSS class) shows: ``{class: {text, raw, images,
    widest, loaded}}``, digests of its text and image data; None for a part not on the page."""
    return session.page.evaluate(_PARTS_JS, [session.panel, list(classes)])


def same_picture(a: dict | None, b: dict | None) -> bool:
    """Two parts show the same text and the same images."""
    return a is not None and b is not None and a["text"] == b["text"] and a["images"] == b["images"]


def wait_parts_settled(session: NotebookSession, classes: list[str], before: dict, timeout: float = 90.0,
                       quiet: float = 4.0, last: str | None = None) -> dict:
    """Poll the parts until they differ from ``before`` and stay the same for about a second with the
    kernel idle (images loaded); returns them. With ``last`` (the part a widget redraws last), only a
    change of that part counts, so a redraw half done is never taken for the result. Raises
    TimeoutError if nothing changed within ``quiet`` seconds of an idle kernel, or nothing settled
    within ``timeout``."""
    start = time.monotonic()
    previous, stable, idle_since = None, 0, None
    while time.monotonic() - start < timeout:
        now = widget_parts(session, classes)
        idle = session.kernel_status() == "idle"
        watched = [last] if last else classes
        changed = any(not same_picture(now[c], before.get(c)) for c in watched)
        if changed:
            done = now == previous and idle and all(p is None or p["loaded"] for p in now.values())
            stable = stable + 1 if done else 0
            if stable >= 4:
                return now
        else:
            idle_since = (idle_since or time.monotonic()) if idle else None
            if idle_since is not None and time.monotonic() - idle_since > quiet:
                raise TimeoutError(f"{session.name}: nothing changed in {watched}")
        previous = now
        session.page.wait_for_timeout(250)
    raise TimeoutError(f"{session.name}: the parts {classes} did not settle in {timeout:.0f}s")
