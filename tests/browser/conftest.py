"""Fixtures for the browser tests: one JupyterLab server and one headless Chromium for the whole run.

Notebooks run one after another in that single server; each is executed once and its page (with live
kernel) is shared by test_notebooks.py and test_widgets.py through the `course` fixture.

Chromium comes from Debian (/usr/bin/chromium, `apt-get install -y chromium`), driven by PyPI's
playwright; a missing Chromium is a test failure with the install command, never a skip.
"""

from __future__ import annotations

import shutil

import jlab
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path():
    problem = jlab.chromium_problem()
    if problem:
        pytest.fail(problem, pytrace=False)
    return str(jlab.CHROMIUM)


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory, chromium_path):
    server = jlab.LabServer(tmp_path_factory.mktemp("jupyterlab"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=jlab.CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def browser_context(browser):
    context = browser.new_context(viewport=jlab.VIEWPORT)
    yield context
    context.close()


@pytest.fixture(scope="session")
def screenshots():
    jlab.SCREENSHOTS.mkdir(exist_ok=True)
    return jlab.SCREENSHOTS


class Course:
    """Each notebook opened and run once; later requests get the same page and live kernel."""

    def __init__(self, server, context, screenshots):
        self.server = server
        self.context = context
        self.screenshots = screenshots
        self.sessions: dict[str, jlab.NotebookSession] = {}
        self.runs: dict[str, jlab.NotebookRun] = {}
        self.failures: dict[str, BaseException] = {}

    def run(self, name: str) -> tuple[jlab.NotebookSession, jlab.NotebookRun]:
        if name in self.failures:
            raise RuntimeError(f"{name} could not be run in the browser earlier") from self.failures[name]
        if name not in self.runs:
            session = jlab.NotebookSession(self.server, self.context, name)
            self.sessions[name] = session
            try:
                session.open()
                run = session.run_all()
            except BaseException as exc:
                self.failures[name] = exc
                try:
                    session.page.screenshot(path=str(self.screenshots / f"{name[:-6]}-FAILED.png"))
                except Exception:  # noqa: BLE001 - the screenshot is only a diagnosis aid
                    pass
                raise
            folder = self.screenshots / name.removesuffix(".ipynb")
            run.screenshots = session.screenshot_sections(folder)
            self.runs[name] = run
            self.report(
                name,
                [
                    f"  ran in {run.seconds:.1f}s: {len(run.code_cells)} code cells, "
                    f"{run.n_figures} figures, {len(run.problems())} problems, "
                    f"{len(run.screenshots)} screenshots"
                ]
                + [f"  remark: {r}" for r in run.remarks()],
            )
        return self.sessions[name], self.runs[name]

    def report(self, name: str, lines: list[str]) -> None:
        """Append to screenshots/report.txt: what ran, how long, which widgets moved what."""
        with open(self.screenshots / "report.txt", "a") as f:
            f.write(f"{name}\n" + "".join(line + "\n" for line in lines))

    def close(self):
        for session in self.sessions.values():
            session.close()


@pytest.fixture(scope="session")
def course(lab_server, browser_context, screenshots):
    c = Course(lab_server, browser_context, screenshots)
    yield c
    c.close()


@pytest.fixture
def fresh_page(browser_context):
    page = browser_context.new_page()
    yield page
    page.close()


def pytest_sessionstart(session):
    # Stale sections from a previous run would be mistaken for this run's screenshots.
    for sub in jlab.SCREENSHOTS.glob("*"):
        if sub.is_dir():
            shutil.rmtree(sub)
        elif sub.name == "report.txt" or sub.name.endswith("-FAILED.png"):
            sub.unlink()
