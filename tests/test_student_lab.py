"""The chapters where students work: a real JupyterLab of the student edition, in headless Chromium.

The student edition's environment (the ``student_venv`` fixture of conftest.py: ``make student``,
then its requirements.txt installed with Debian's Python) runs ``jupyter lab`` on 127.0.0.1 with a
token, from a scratch home and Jupyter configuration, so nothing of this machine's own set-up is
used. Each chapter is opened in Debian's Chromium (the browser fixture of tests/test_browser.py);
every request to another host is blocked and fails the test. In the rendered markdown there must be
no raw MyST: no role (``{term}`padding```), no directive fence (```` ```{important} ````), and the
chapters' terms and admonitions must show as text and boxes (jupyterlab-myst). Nor may anything of
nbgrader's instructor extensions be there (the "Nbgrader" menu, "Create Assignment", the
formgrader). A screenshot of each chapter is saved in ``_build/screenshots/jupyterlab-<chapter>.png``.

The same checks run against the instructor's JupyterLab (this repository's environment, which has
nbgrader) with jupyterlab-myst turned off: they must find the raw roles and directives and nbgrader's
menus there, so they can fail.
"""
import contextlib
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
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests import course
from tests.test_browser import SCREENSHOTS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHAPTERS = [f"chapters/{assignment}/{name}" for assignment, name in course.chapters().items()]
# A MyST role or directive name in braces, as it shows when the markdown is not MyST-rendered:
# {term}`padding` and ```{important}. (Formulas are taken out of the text before this is looked for.)
RAW_MYST = re.compile(r"\{[a-z][\w-]*\}|```|^:::", re.M)
TERM = re.compile(r"\{term\}`([^`<]+?)\s*(?:<[^>]*>)?`")
DIRECTIVE = re.compile(r"^(?:```|:::)\{([a-z][\w-]*)\}(.*)\n((?::[\w-]+:.*\n)*)", re.M)
NBGRADER_LABELS = ("Nbgrader", "Create Assignment", "Formgrader", "Course List")
# A markdown cell's rendered text: jupyterlab-myst's widget, or JupyterLab's own renderer (the
# first such element of each cell holds the others).
CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-MarkdownCell"
RENDERED = ":is(.myst, .jp-MarkdownOutput)"
RENDERED_CELLS = f"""cells => cells.map(cell => cell.querySelector('{RENDERED}')).filter(Boolean)"""
SERVER_START_SECONDS = 120
RENDER_TIMEOUT_MS = 60000


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def jupyter_lab(venv_bin, folder, scratch, disabled=()):
    """``jupyter lab`` of the environment in ``venv_bin``, serving ``folder`` on 127.0.0.1 with a
    token; ``disabled``: JupyterLab extensions turned off. Yields (origin, token)."""
    home, config = scratch / "home", scratch / "jupyter-config"
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {name: True for name in disabled}}))
    settings = scratch / "lab-settings"
    # Every cell rendered at once (JupyterLab otherwise renders cells as they scroll into view), and
    # no prompt about fetching Jupyter's news over the screenshot.
    for plugin, values in {"notebook-extension/tracker": {"windowingMode": "none"},
                           "apputils-extension/notification": {"fetchNews": "false"}}.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), secrets.token_hex(16)
    env = {"PATH": f"{venv_bin}{os.pathsep}/usr/bin:/bin", "HOME": str(home), "PYTHONPATH": "",
           "JUPYTER_CONFIG_DIR": str(config), "JUPYTER_DATA_DIR": str(scratch / "jupyter-data"),
           "JUPYTER_RUNTIME_DIR": str(scratch / "jupyter-runtime"), "LANG": "C.UTF-8",
           "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    command = [str(venv_bin / "jupyter"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               # offline: no news, no update check
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={scratch / 'workspaces'}",
               # window.jupyterapp: the plugins JupyterLab loaded
               "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        command.append("--allow-root")  # CI runs as root
    log = scratch / "jupyter-lab.log"
    with open(log, "w") as out:
        server = subprocess.Popen(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if server.poll() is not None:
                pytest.fail(f"jupyter lab exited {server.returncode}:\n{log.read_text()[-3000:]}")
            try:
                request = urllib.request.Request(f"{origin}/api/status", headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(request, timeout=2).read()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer in {SERVER_START_SECONDS} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
        yield origin, token
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)  # the server's own session: it and its kernels
            server.wait()


class Lab:
    """A browser context on one JupyterLab; every request to another host is blocked and recorded."""

    def __init__(self, browser, origin, token):  # noqa: F811 (the fixture's value)
        self.origin, self.token, self.external = origin, token, []
        netloc = urlparse(origin).netloc
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")

        def route(route):
            url = urlparse(route.request.url)
            if url.scheme in ("http", "https", "ws", "wss") and url.netloc != netloc:
                self.external.append(route.request.url)
                route.abort("blockedbyclient")
            else:
                route.continue_()

        self.context.route("**/*", route)

    def open(self, notebook):
        """The notebook opened in JupyterLab, once every markdown cell of it is rendered."""
        page = self.context.new_page()
        # ?reset: an empty workspace, not the notebooks the server's last visitor had open
        page.goto(f"{self.origin}/lab/tree/{notebook}?reset&token={self.token}", wait_until="load")
        markdown_cells = sum(c.cell_type == "markdown" for c in course.read(course.REPO / notebook).cells)
        count = f"() => ({RENDERED_CELLS})([...document.querySelectorAll('{CELLS}')]).filter(e => e.textContent.trim()).length"
        try:
            page.wait_for_function(f"n => ({count})() === n", arg=markdown_cells, timeout=RENDER_TIMEOUT_MS)
        except PlaywrightTimeout as late:
            raise AssertionError(f"{page.evaluate(count)} of the {markdown_cells} markdown cells of {notebook} "
                                 f"rendered in {RENDER_TIMEOUT_MS / 1000:.0f} s") from late
        # Typesetting (KaTeX with MyST, MathJax without) and fonts finish after the cells appear.
        page.evaluate("() => document.fonts.ready.then(() => true)")
        page.wait_for_timeout(1000)
        return page

    def close(self):
        self.context.close()


def rendered_markdown(page):
    """The text of each rendered markdown cell, with its formulas taken out."""
    return page.eval_on_selector_all(CELLS, f"""cells => ({RENDERED_CELLS})(cells).map(cell => {{
        const copy = cell.cloneNode(true);
        copy.querySelectorAll('.katex, .math, mjx-container, math, script').forEach(m => m.remove());
        return copy.textContent; }})""")


def raw_myst(page):
    """Raw MyST in the rendered markdown: roles and fences as text, and directives shown as code
    blocks (plain markdown renders ```{important} as <code class="language-{important}">)."""
    found = [f"cell {i}: {match.group(0)!r} in {text[max(0, match.start() - 40):match.end() + 40]!r}"
             for i, text in enumerate(rendered_markdown(page)) for match in RAW_MYST.finditer(text)]
    languages = page.eval_on_selector_all(f'{CELLS} {RENDERED} code[class*="language-{{"]',
                                          "els => els.map(e => e.className)")
    return found + [f"directive shown as a code block: {language}" for language in languages]


def nbgrader_ui(page):
    """What the page shows of nbgrader: its loaded plugins, menus and panels."""
    plugins = page.evaluate("() => window.jupyterapp.listPlugins()")
    found = [f"plugin {p}" for p in plugins if "nbgrader" in p]
    menus = page.eval_on_selector_all("#jp-MainMenu .lm-MenuBar-itemLabel", "els => els.map(e => e.textContent)")
    found += [f"menu {m}" for m in menus if m in NBGRADER_LABELS]
    for label in NBGRADER_LABELS:
        shown = page.locator(f'text="{label}"').count() + page.locator(f'[title="{label}"]').count()
        found += [f"{shown} × {label!r} on the page"] if shown else []
    return found


def myst_in_source(notebook):
    """The terms and directives of a notebook's markdown: ([term text], [(directive, title)],
    [titles of folded directives (:class: dropdown), which show as a collapsed line, not a box])."""
    sources = [c.source + "\n" for c in course.read(course.REPO / notebook).cells if c.cell_type == "markdown"]
    terms = [t.strip() for s in sources for t in TERM.findall(s)]
    found = [(name, title.strip(), options) for s in sources for name, title, options in DIRECTIVE.findall(s)]
    directives = [(name, title) for name, title, options in found if "dropdown" not in options]
    folded = [title or name.capitalize() for name, title, options in found if "dropdown" in options]
    return terms, directives, folded


@pytest.fixture(scope="module")
def lab_folder(edition, tmp_path_factory):
    """A copy of the edition for JupyterLab to serve: it writes .ipynb_checkpoints/ next to the
    notebooks it opens, and the edition is shared with tests that check what it holds."""
    folder, _ = edition
    return Path(shutil.copytree(folder, tmp_path_factory.mktemp("lab") / "edition"))


@pytest.fixture(scope="module")
def student_lab(student_venv, lab_folder, browser, tmp_path_factory):
    """JupyterLab of the student edition's environment, serving (a copy of) the edition's folder."""
    with jupyter_lab(Path(student_venv).parent, lab_folder, tmp_path_factory.mktemp("student-lab")) as server:
        yield server


@pytest.fixture
def lab(student_lab, browser):
    visit = Lab(browser, *student_lab)
    yield visit
    visit.close()


def test_the_student_environment_has_no_nbgrader_and_has_jupyterlab_myst(student_venv, edition):
    folder, _ = edition
    probe = ("import importlib.metadata as m\n"
             "for name in ('nbgrader', 'jupyterlab-myst'):\n"
             "    try: print(name, m.version(name))\n"
             "    except m.PackageNotFoundError: print(name, None)\n")
    done = subprocess.run([str(student_venv), "-c", probe], cwd=folder, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""})
    assert done.returncode == 0, done.stderr
    versions = dict(line.split() for line in done.stdout.splitlines())
    pins = {line.split("==")[0]: line.split("==")[1] for line in (folder / "requirements.txt").read_text().splitlines()
            if "==" in line}
    assert versions == {"nbgrader": "None", "jupyterlab-myst": pins["jupyterlab-myst"]}


def test_the_formgrader_is_not_served_to_students(student_lab):
    origin, token = student_lab
    request = urllib.request.Request(f"{origin}/formgrader", headers={"Authorization": f"token {token}"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 404


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda n: n.split("/")[1])
def test_a_chapter_reads_well_in_the_students_jupyterlab(lab, notebook):
    page = lab.open(notebook)
    terms, directives, folded = myst_in_source(notebook)
    assert terms, f"{notebook} has no {{term}} role: the test would check nothing of MyST's roles"
    screenshot = SCREENSHOTS / f"jupyterlab-{notebook.split('/')[1]}.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))

    assert raw_myst(page) == [], "raw MyST in the rendered notebook"
    plugins = page.evaluate("() => window.jupyterapp.listPlugins()")
    assert "jupyterlab-myst:content-factory" in plugins
    text = " ".join(rendered_markdown(page))
    assert [t for t in terms if t not in text] == [], "terms missing from the rendered text"
    assert [title for title in folded if title not in text] == [], "folded hints missing from the rendered text"
    # Each admonition is a box with its title (```{important} has the title "Important").
    boxes = page.eval_on_selector_all(".jp-MarkdownCell aside.myst-admonition .myst-admonition-header",
                                      "els => els.map(e => e.textContent.trim())")
    assert sorted(boxes) == sorted(title or name.capitalize() for name, title in directives)
    if boxes:  # and a screenshot of the first box
        page.locator(".jp-MarkdownCell aside.myst-admonition").first.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot.with_name(f"{screenshot.stem}-box.png")))
    assert nbgrader_ui(page) == [], "nbgrader's instructor extensions in the students' JupyterLab"
    assert lab.external == [], f"JupyterLab tried to load from other hosts: {lab.external}"


def test_the_checks_find_raw_myst_and_nbgrader_where_they_are(lab_folder, browser, tmp_path):  # noqa: F811
    """The instructor's environment (with nbgrader), jupyterlab-myst turned off: raw roles, the
    Important box as a code block, nbgrader's menu and panel are all found."""
    notebook = next(n for n in CHAPTERS if "ch4_" in n)
    with jupyter_lab(Path(sys.executable).parent, lab_folder, tmp_path, disabled=["jupyterlab-myst"]) as server:
        visit = Lab(browser, *server)
        try:
            page = visit.open(notebook)
            found = raw_myst(page)
            assert any("'{term}'" in f for f in found), found
            assert any(f.startswith("directive shown as a code block: language-{important}") for f in found), found
            shown = nbgrader_ui(page)
            assert "plugin @jupyter/nbgrader:create-assignment" in shown and "menu Nbgrader" in shown, shown
            assert any("'Create Assignment' on the page" in f for f in shown), shown
            page.screenshot(path=str(tmp_path / "instructor-lab.png"))
        finally:
            visit.close()
