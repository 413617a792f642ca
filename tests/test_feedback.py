"""The feedback pages a student gets (``nbgrader generate_feedback``, grader/engine/feedback/).

The fast tests check the parts: MyST rewritten to markdown, the summary, the images the grader
keeps. The browser tests grade a small class with ``python -m grader autograde``, make its feedback
with ``nbgrader generate_feedback``, copy each page alone into an empty folder (what a student
usually receives) and open it from disk in headless Chromium with every request watched. Screenshots
go to ``_build/screenshots/feedback-<student>-<chapter>.png``.
"""
import base64
import io
import re
import shutil

import nbformat
import pytest

from grader import known_answers
from grader.engine import autograde
from grader.engine.feedback import myst_to_markdown, summarize
from tests import course

REPO = course.REPO
SCREENSHOTS = REPO / "_build" / "screenshots"
CHAPTERS = ["ch1_cross_correlation", "ch4_padding_stride"]  # formulas, figures, terms, boxes, a table
LONG_WORD = "x" * 600  # printed by a student's own cell: must wrap, not run off the page
HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS\n(.*?)^[ \t]*### END HIDDEN TESTS", re.S | re.M)


# ---------------------------------------------------------------------------------- the parts

def test_myst_roles_and_directives_become_markdown():
    source = ("A {term}`kernel` and {term}`strides <stride>`, see {numref}`fig-pad`, {math}`x^2`, "
              "[the glossary](../../glossary.md) and [d2l](https://d2l.ai).\n\n"
              "```{important}\n**Per side**: $p$ zeros.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n```\n\n"
              "```{admonition} A correction\n:class: warning\nThe notes say {term}`padding`.\n```\n\n"
              "```python\nprint('{term}`left alone`')\n```")
    markdown = myst_to_markdown(source)
    assert "A kernel and strides, see fig-pad, $x^2$, the glossary and [d2l](https://d2l.ai)." in markdown
    assert '<div class="admonition important">\n<p class="admonition-title">Important</p>' in markdown
    assert "| a | b |" in markdown and "**Per side**: $p$ zeros." in markdown
    assert '<div class="admonition warning">\n<p class="admonition-title">A correction</p>' in markdown
    assert "The notes say padding." in markdown and ":class:" not in markdown
    assert "```python\nprint('{term}`left alone`')\n```" in markdown
    assert "{important}" not in markdown and "{admonition}" not in markdown


def _cell(kind, source, **nbgrader):
    cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


def test_summary_groups_checks_under_their_exercise_and_keeps_one_line_per_failure():
    failing = _cell("code", "# Graded, hidden (2 points): random shapes.\n", grade=True, grade_id="f_shapes",
                    points=2, score=0)
    failing.outputs = [nbformat.v4.new_output("error", ename="GradingFailure", evalue="shape (4, 4); expected (4, 5)\nhint",
                                              traceback=[])]
    crashed = _cell("code", "check()", grade=True, grade_id="g_example", points=1, score=0)
    crashed.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="name 'g' is not defined", traceback=[])]
    nb = nbformat.v4.new_notebook(cells=[
        _cell("markdown", "intro"),
        _cell("code", "def f(): ...", solution=True, grade=False, grade_id="f"),
        _cell("code", "check()", grade=True, grade_id="f_example", points=1, score=1),
        failing,
        _cell("code", "def g(): ...", solution=True, grade=False, grade_id="g"),
        crashed,
    ])
    summary = summarize(nb)
    assert [(e["name"], e["score"], e["points"]) for e in summary] == [("f", 1, 3), ("g", 0, 1)]
    assert summary[0]["failed"] == [{"grade_id": "f_shapes", "description": "Graded, hidden (2 points): random shapes.",
                                     "problem": "shape (4, 4); expected (4, 5)", "score": 0, "points": 2}]
    assert summary[1]["failed"][0]["problem"] == "NameError: name 'g' is not defined"


def _png():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def test_the_grader_keeps_real_images_and_text_from_a_display_only():
    png = _png()
    kept = autograde._cell_output({"output_type": "display_data", "data": {"image/png": png, "text/plain": "<Figure>",
                                                                           "text/html": "<script>x()</script>"}})
    assert kept.output_type == "display_data" and set(kept.data) == {"image/png", "text/plain"}
    fake = base64.b64encode(b"<svg onload=alert(1)>").decode()
    kept = autograde._cell_output({"output_type": "display_data", "data": {"image/png": fake, "text/plain": "a"}})
    assert set(kept.data) == {"text/plain"}
    broken = autograde._cell_output({"output_type": "display_data", "data": {"image/png": "not base64!"}})
    assert broken.output_type == "error"
    result = autograde._cell_output({"output_type": "execute_result", "data": {"text/plain": "42"}})
    assert result.output_type == "execute_result" and result.data == {"text/plain": "42"}


# ------------------------------------------------------------------------- the pages, in a browser

def _hidden_lines(root, assignment):
    source = course.read(root / "solutions" / assignment / course.chapters()[assignment])
    return {line.strip() for cell in source.cells for block in HIDDEN.findall(cell.source)
            for line in block.splitlines() if len(line.strip()) >= 16 and not line.strip().startswith("#")}


def _with_extra_cells(notebook, after_grade_id):
    """The student's own cells after an answer: a long printed word, and markdown with a script."""
    index = next(i for i, c in enumerate(notebook.cells) if course.nbgrader_meta(c).get("grade_id") == after_grade_id)
    notebook.cells[index + 1:index + 1] = [
        nbformat.v4.new_code_cell(f"print('{LONG_WORD}')"),
        nbformat.v4.new_markdown_cell("<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'>"),
    ]
    return notebook


@pytest.fixture(scope="module")
def feedback_class(tmp_path_factory):
    """Two chapters graded by the fast grader for two students, with their feedback pages."""
    root = course.make_course(tmp_path_factory.mktemp("feedback") / "course")
    expected = {}
    for assignment in CHAPTERS:
        name = course.chapters()[assignment]
        release = course.read(root / "chapters" / assignment / name)
        answers = course.solution_sources(course.read(root / "solutions" / assignment / name))
        course.submit(root, "complete", assignment, course.with_answers(release, answers))
        first = next(iter(answers))
        wrong = next(a for a in known_answers.WRONG if a.exercise == first)
        notebook = course.with_answers(release, dict(answers, **{first: wrong.source}))
        course.submit(root, "wrong", assignment, _with_extra_cells(notebook, first))
        expected[assignment] = list(answers)
    course.run([course.sys.executable, "-m", "grader", "autograde", "--jobs", "2"], cwd=root)
    for assignment in CHAPTERS:
        course.nbgrader("generate_feedback", assignment, cwd=root)
    return root, expected


@pytest.fixture
def chromium(browser):
    return browser  # the session's one Chromium (tests/conftest.py)


CUT_OFF = """() => [...document.querySelectorAll('pre, div.output_subarea, ul.failed li, table.summary td')]
    .filter(e => e.scrollWidth > e.clientWidth + 1)
    .map(e => e.tagName + ': ' + e.textContent.slice(0, 80))"""
RAW_TEX = re.compile(r"\$[^$\n]+\$|\\(frac|mathbf|times|lfloor|sum)\b")
RAW_MYST = re.compile(r"\{(term|numref|ref|doc|important|admonition|note|warning|math)\}")


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("student", ["complete", "wrong"])
@pytest.mark.parametrize("assignment", CHAPTERS)
def test_feedback_page_offline_in_a_browser(feedback_class, chromium, tmp_path, student, assignment):
    root, exercises = feedback_class
    page_file = root / "feedback" / student / assignment / course.chapters()[assignment].replace(".ipynb", ".html")
    assert page_file.is_file(), f"no feedback page at {page_file}"
    alone = tmp_path / page_file.name  # the page as a student receives it: one file, nothing beside it
    shutil.copy(page_file, alone)
    html = alone.read_text("utf8")
    assert "<script" not in html.lower(), "the page runs a script"
    hidden = [line for line in _hidden_lines(root, assignment) if line in html]
    assert not hidden and "BEGIN HIDDEN TESTS" not in html, f"hidden test code in the page: {hidden}"

    context = chromium.new_context(viewport={"width": 1000, "height": 900}, java_script_enabled=True)
    requests, errors = [], []
    page = context.new_page()
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                  else route.abort("blockedbyclient"))
    try:
        page.goto(alone.as_uri(), wait_until="load")
        page.evaluate("() => document.fonts.ready.then(() => true)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"feedback-{student}-{assignment}.png"), full_page=True)

        assert [url for url in requests if url != alone.as_uri() and not url.startswith("data:")] == [], \
            "the page loaded something besides itself"
        assert not errors and page.evaluate("() => window.pwned") is None, errors

        # The summary: one row per exercise, one item per failed check.
        rows = page.eval_on_selector_all("table#summary tbody tr td:first-child", "els => els.map(e => e.textContent.trim())")
        assert rows == exercises[assignment]
        scores = course.cell_scores(root, student, assignment)
        failed = [gid for gid, (score, top) in scores.items() if score < top]
        listed = page.eval_on_selector_all("ul.failed li a.check", "els => els.map(e => e.getAttribute('href'))")
        assert listed == [f"#{gid}" for gid in failed]
        assert (student == "wrong") == bool(failed)

        # Nothing cut off: no message wider than its box, and no page wider than the window.
        assert page.evaluate(CUT_OFF) == []
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        if student == "wrong":
            assert LONG_WORD in page.inner_text("body"), "the student's long output is not all there"

        # Formulas typeset by MathJax (SVG in the page), no TeX left as text, no MyST left raw.
        assert page.locator("mjx-container svg").count() > 10
        assert page.locator('[data-mml-node="merror"]').count() == 0, "MathJax reports a TeX error"
        prose = page.eval_on_selector_all(".text_cell_render", "els => els.map(e => e.innerText)")
        raw = [m.group(0) for text in prose for m in list(RAW_TEX.finditer(text)) + list(RAW_MYST.finditer(text))]
        assert not raw, f"raw TeX or MyST in the page: {raw[:5]}"
        if assignment == "ch4_padding_stride":
            assert page.locator("div.admonition.important table td").count() > 0, "the Important box lost its table"

        # Figures: images that show, with a size on the page.
        images = page.eval_on_selector_all("div.output_area img", "els => els.map(e => [e.naturalWidth, e.getBoundingClientRect().width])")
        assert images and all(natural > 0 and shown > 100 for natural, shown in images), images
        assert "<Figure size" not in page.inner_text("body")
    finally:
        context.close()


@pytest.mark.slow
def test_feedback_needs_mathjax_and_says_how_to_get_it(feedback_class, tmp_path):
    root = shutil.copytree(feedback_class[0], tmp_path / "course")
    config = root / "nbgrader_config.py"
    config.write_text(config.read_text() + f"\nc.FeedbackExporter.mathjax_dir = {str(tmp_path / 'none')!r}\n")
    result = course.nbgrader("generate_feedback", CHAPTERS[0], "--force", cwd=root, check=False)
    assert result.returncode != 0
    assert "python -m book.vendor" in result.stdout + result.stderr


FORMGRADER = """
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config.loader import PyFileConfigLoader
config = PyFileConfigLoader("nbgrader_config.py", path=".").load_config()
api = NbGraderAPI(CourseDirectory(config=config), config=config)
result = api.generate_feedback({assignment!r}, "wrong", force=True)
assert result["success"], result.get("error")
"""


@pytest.mark.slow
def test_the_formgrader_button_makes_the_same_page(feedback_class, tmp_path):
    """The formgrader's "generate feedback" runs nbgrader's API, which forces its own template name:
    the page is still the course's (summary, typeset formulas, no script)."""
    root = shutil.copytree(feedback_class[0], tmp_path / "course")
    page = root / "feedback" / "wrong" / CHAPTERS[0] / course.chapters()[CHAPTERS[0]].replace(".ipynb", ".html")
    page.unlink()
    course.run([course.sys.executable, "-c", FORMGRADER.format(assignment=CHAPTERS[0])], cwd=root)
    html = page.read_text("utf8")
    assert 'id="summary"' in html and "<mjx-container" in html and "<script" not in html
    assert "cdnjs" not in html and "{term}" not in html
