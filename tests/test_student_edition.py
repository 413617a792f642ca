"""The student edition (`make student`): what students get instead of this repository.

Fast: the edition holds the chapter notebooks, the runtime, a pinned requirements.txt and a README,
and nothing of the instructor's; the runtime's visible checks agree with the grader's; its expected
outputs are those the grader computes now. Slow: a fresh virtual environment made from the
edition's requirements.txt alone (the ``student_venv`` fixture of conftest.py, shared with
tests/test_student_lab.py) runs every chapter, with the instructor's answers (every visible
check passes) and with the stubs (every visible check fails with the stub message).
"""
import ast
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from packaging.utils import canonicalize_name

from book import student_edition
from course_runtime import checking, given
from course_runtime.messages import GradingFailure
from grader import known_answers as ka
from grader import reference
from grader.checks import CHECKS, make_cases
from grader.notebook import run_check
from tests import course

REPO = course.REPO
HIDDEN_BLOCK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS\n(.*?)^[ \t]*### END HIDDEN TESTS\n?", re.S | re.M)
# What the edition holds, and nothing else.
ALLOWED = re.compile(r"(chapters(_zh)?/ch\d_\w+/\w+\.ipynb|course_runtime/\w+\.(py|json)|README(\.zh)?\.md|requirements\.txt"
                     r"|course_runtime/locale/zh_CN/LC_MESSAGES/\w+\.po"
                     r"|pyproject\.toml|\.gitignore)")
STUB_MESSAGE = "is still the stub (it raised NotImplementedError)"


# ---------------------------------------------------------------- what must not leak

def _solution_lines():
    return {line for name in course.chapters().values() for a in course.chapters()
            if (REPO / "solutions" / a / name).is_file()
            for line in course.solution_lines(course.read(REPO / "solutions" / a / name))}


def _hidden_test_lines():
    lines = set()
    for path in REPO.glob("solutions/*/*.ipynb"):
        for cell in course.read(path).cells:
            for block in HIDDEN_BLOCK.findall(cell.source):
                lines.update(line.strip() for line in block.splitlines() if len(line.strip()) >= 12)
    return lines


def _instructor_names():
    """Names that only the instructor's code has: the reference's own helpers (not the exercises),
    the generators of the hidden cases, the known-answers catalogue's answers."""
    exercises = {check.exercise for check in CHECKS.values()}
    defined = {module: {node.name for node in ast.parse((REPO / module).read_text("utf8")).body
                        if isinstance(node, ast.FunctionDef)}
               for module in ("grader/reference.py", "grader/checks.py")}
    generators = {name for name in defined["grader/checks.py"]
                  if name.endswith("_cases") or name in ("case_seed", "make_cases", "_hessian_lr", "_training_case")}
    return ((defined["grader/reference.py"] - exercises) | generators | {a.name for a in ka.WRONG + ka.RIGHT}
            | {".grader_secret"})


def leaks(folder):
    """Everything of the instructor's found in ``folder``: one line per finding."""
    folder = Path(folder)
    skipped = {".git", ".venv", "_build", "__pycache__", ".pytest_cache"}
    files = [p for p in folder.rglob("*") if p.is_file() and not skipped & set(p.relative_to(folder).parts)]
    instructor_files = {p.read_bytes(): p.relative_to(REPO) for top in ("grader", "solutions", "tests")
                        for p in (REPO / top).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    secret = (REPO / ".grader_secret").read_text().strip() if (REPO / ".grader_secret").is_file() else None
    solution, hidden, names = _solution_lines(), _hidden_test_lines(), _instructor_names()
    assert solution and hidden and "loss_of_kernel" in names and "_corr2d_value_cases" in names
    found = []
    for path in files:
        where = path.relative_to(folder).as_posix()
        if where.split("/")[0] in ("grader", "solutions", "tests") or path.name == ".grader_secret":
            found.append(f"{where}: an instructor's file")
        data = path.read_bytes()
        if data in instructor_files:
            found.append(f"{where}: a copy of {instructor_files[data]}")
        text = data.decode("utf8", "replace")
        if path.suffix == ".ipynb":  # the cells' text, as a student's editor shows it
            text += "\n".join("".join(cell.get("source", "")) for cell in json.loads(text).get("cells", []))
        found += [f"{where}: solution line {line!r}" for line in solution if line in text]
        found += [f"{where}: hidden-test line {line!r}" for line in hidden if line in text]
        found += [f"{where}: names {name!r}" for name in names if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)]
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS"):
            if marker in text:
                found.append(f"{where}: {marker}")
        if secret and secret in text:
            found.append(f"{where}: the grading secret")
    return found


def test_the_edition_holds_the_notebooks_the_runtime_and_the_set_up_only(edition):
    folder, archive = edition
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert [f for f in files if not ALLOWED.fullmatch(f)] == []
    assert {f for f in files if f.endswith(".ipynb")} == {f"{top}/{a}/{n}" for a, n in course.chapters().items()
                                                           for top in ("chapters", "chapters_zh")}
    assert {"course_runtime/__init__.py", "course_runtime/given.py", "course_runtime/examples.json",
            "course_runtime/figures.py", "course_runtime/i18n.py", "course_runtime/locale/zh_CN/LC_MESSAGES/figures.po",
            "course_runtime/locale/zh_CN/LC_MESSAGES/course_runtime.po", "README.md", "README.zh.md",
            "requirements.txt"} <= set(files)
    for notebook in [*folder.glob("chapters/*/*.ipynb"), *folder.glob("chapters_zh/*/*.ipynb")]:
        assert notebook.read_bytes() == (REPO / notebook.relative_to(folder)).read_bytes()
    with zipfile.ZipFile(archive) as zipped:
        assert sorted(zipped.namelist()) == [f"{student_edition.ZIP_FOLDER}/{f}" for f in files]


def test_the_edition_has_nothing_of_the_instructors(edition):
    folder, _ = edition
    assert leaks(folder) == []


def test_the_leak_check_finds_the_instructors_code_in_this_repository():
    """The check above can fail: this repository, which students must not get, fails it."""
    found = leaks(REPO)
    assert any(f.startswith("solutions/") and "solution line" in f for f in found)
    assert any(f.startswith("solutions/") and "hidden-test line" in f for f in found)
    assert any(f.startswith("grader/reference.py: names 'loss_of_kernel'") for f in found)
    assert any(f.startswith("grader/known_answers.py: names 'corr2d.flipped_kernel'") for f in found)
    assert any(f.startswith("grader/checks.py: names '_corr2d_value_cases'") for f in found)
    assert any(f.startswith("grader/") and "an instructor's file" in f for f in found)


def test_requirements_are_the_pins_of_constraints():
    pins = {canonicalize_name(name): version for name, version in
            (line.split("==") for line in (REPO / "constraints.txt").read_text().splitlines() if "==" in line)}
    lines = [line for line in student_edition.requirements().splitlines() if line and not line.startswith("#")]
    names = ("mxnet", "numpy", "matplotlib", "jupyterlab", "jupyterlab-myst", "pylopdf-fonts-zh-cn", "babel")
    assert lines == [f"{name}=={pins[name]}" for name in names] + ["-e ."]
    assert pins["mxnet"] == "1.9.1" and pins["numpy"] == "1.23.5"
    # nbgrader's JupyterLab extensions are the instructor's: students get no nbgrader.
    assert "nbgrader" not in student_edition.requirements()


def test_each_chapter_says_what_it_needs_to_run():
    for assignment, name in course.chapters().items():
        first = course.read(REPO / "chapters" / assignment / name).cells[0]
        assert first.cell_type == "markdown" and "course_runtime" in first.source and "requirements.txt" in first.source


def test_the_notebooks_import_the_runtime_and_nothing_of_the_instructors():
    for assignment, name in course.chapters().items():
        for folder in ("solutions", "chapters"):
            code = "\n".join(c.source for c in course.read(REPO / folder / assignment / name).cells if c.cell_type == "code")
            modules = set(re.findall(r"^\s*(?:from|import) ([\w.]+)", code, re.M))
            assert modules and not {m for m in modules if m.split(".")[0] in ("grader", "book", "tests")}, (folder, modules)
            assert "from course_runtime import check" in code


# ---------------------------------------------------------------- the runtime

def test_examples_json_is_generated_from_the_grader_now():
    assert checking.EXAMPLES_FILE.read_text("utf8") == student_edition.examples_text(), \
        "course_runtime/examples.json is stale: run `make examples` and commit it"


def test_examples_json_has_every_visible_check_and_names_the_hidden_ones():
    examples = checking.load_examples()
    assert set(examples["examples"]) == {i for i in CHECKS if i.endswith(".example")}
    assert set(examples["hidden"]) == {i for i in CHECKS if not i.endswith(".example")}


def _answers_of(exercise):
    return [a for a in ka.RIGHT + ka.WRONG if a.exercise == exercise]


@pytest.mark.parametrize("check_id", [i for i in CHECKS if i.endswith(".example")])
def test_the_runtime_judges_each_example_as_the_grader_does(check_id):
    """Every known right and wrong answer gets the same verdict from the student's runtime as from
    the grader on the visible check. (Messages may differ: the grader calls the reference's
    versions of the other exercises an answer uses, and adds hints.)"""
    check, example = CHECKS[check_id], checking.load_examples()["examples"][check_id]
    disagreements, failed = [], 0
    for answer in _answers_of(check.exercise):
        namespace = ka.chapter_namespace(answer)
        graded = run_check(check, namespace[check.exercise], make_cases(check, "", ""))
        if graded and "broke a rule of this exercise" in graded:
            continue  # the exercises' rules are the instructor's grading only
        mine = checking.example_problem(example, namespace[check.exercise])
        failed += mine is not None
        if (graded is None) != (mine is None) or (mine and not mine.startswith(f"for {example['cases'][0]['text']['en'][:20]}")):
            disagreements.append(f"{answer.name}: grader {graded!r}, runtime {mine!r}")
    assert not disagreements, "\n".join(disagreements)
    assert failed, "no known answer fails the example: the comparison would pass anything"


@pytest.fixture
def student_environment(monkeypatch, tmp_path):
    """A student's environment: no grader package (None in sys.modules makes its import fail)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "grader", None)
    for name in [n for n in sys.modules if n.startswith("grader.")]:
        monkeypatch.delitem(sys.modules, name)


def _answer(source, name):
    """A function defined as a notebook cell defines it (this test file's code is not an answer)."""
    namespace = ka.base_namespace()
    exec(compile(source, f"<answer {name}>", "exec"), namespace)
    return namespace[name]


_stub = _answer("def corr2d(X, K):\n    raise NotImplementedError()\n", "corr2d")


def _transposed(X, K):
    return given.corr2d(X.T, K.T)


def test_in_a_students_environment_the_visible_check_runs_from_the_stored_examples(student_environment, capsys):
    from course_runtime import check
    check("corr2d.example", given.corr2d)
    assert "corr2d.example: passed (the example of the notes)" in capsys.readouterr().out
    with pytest.raises(GradingFailure, match=re.escape(f"your corr2d {STUB_MESSAGE}")):
        check("corr2d.example", _stub)
    with pytest.raises(GradingFailure, match=r"differs from the expected one at position \(0, 1\): yours is 37"):
        check("corr2d.example", _transposed)
    with pytest.raises(GradingFailure, match=r"your output is a list; expected an MXNet NDArray"):
        check("corr2d.example", lambda X, K: [[19, 25], [37, 43]])


def test_in_a_students_environment_a_hidden_check_is_left_to_the_instructor(student_environment, capsys):
    from course_runtime import check
    check("corr2d.values", _stub)  # no failure: the instructor runs it
    assert "corr2d.values: graded by your instructor with hidden tests" in capsys.readouterr().out
    with pytest.raises(KeyError, match="no check named 'corr2d.valeus'"):
        check("corr2d.valeus", _stub)


def test_in_the_instructors_environment_every_check_is_graded_by_the_grader(monkeypatch, tmp_path, capsys):
    from course_runtime import check
    monkeypatch.chdir(tmp_path)  # no course here: the secret is "", nothing is written
    with pytest.raises(GradingFailure, match=r"for X of shape \(5, 7\) .* is still the stub"):
        check("corr2d.values", _stub)  # hidden: run, not skipped
    check("corr2d.values", _answer(ka.right_answer("corr2d").source, "corr2d"))
    assert "corr2d.values: passed (values on random inputs" in capsys.readouterr().out


def test_a_grader_that_fails_to_import_is_an_error_not_a_students_environment(monkeypatch):
    from course_runtime import check
    monkeypatch.delitem(sys.modules, "grader.notebook")
    monkeypatch.setitem(sys.modules, "grader.checks", None)
    with pytest.raises(ModuleNotFoundError):
        check("corr2d.values", _stub)


def test_the_given_helpers_are_plain_functions_with_the_references_results():
    import numpy as np
    from mxnet import nd
    rng = np.random.default_rng(0)
    for helper in (given.corr2d, given.corr2d_multi_in_out):
        assert type(helper).__name__ == "function" and helper.__module__ == "course_runtime.given"
        assert helper.__qualname__ == helper.__name__  # module level
    for dtype in ("float32", "float64"):
        X, K = nd.array(rng.uniform(-1, 1, (5, 7)), dtype=dtype), nd.array(rng.uniform(-1, 1, (2, 3)), dtype=dtype)
        mine, ref = given.corr2d(X, K), reference.corr2d(X, K)
        assert mine.dtype == ref.dtype and np.array_equal(mine.asnumpy(), ref.asnumpy())
        X, K = nd.array(rng.uniform(-1, 1, (3, 6, 4)), dtype=dtype), nd.array(rng.uniform(-1, 1, (2, 3, 3, 2)), dtype=dtype)
        mine, ref = given.corr2d_multi_in_out(X, K), reference.corr2d_multi_in_out(X, K)
        assert mine.shape == (2, 4, 3) and np.array_equal(mine.asnumpy(), ref.asnumpy())
    # One nd.Convolution each and no loop: the helpers give no exercise away.
    tree = ast.parse(Path(given.__file__).read_text())
    assert not [n for n in ast.walk(tree) if isinstance(n, (ast.For, ast.While, ast.comprehension))]
    assert ast.unparse(tree).count("nd.Convolution(") == 2


def test_launch_buttons_wait_for_the_students_repository():
    from book import student_site
    hubs = {"binderhub_url": "https://mybinder.org", "jupyterhub_url": "https://hub.uni.edu", "notebook_interface": "jupyterlab"}
    unset = student_site.launch_buttons({"repository_url": "", "launch_buttons": hubs})
    assert unset == dict(hubs, binderhub_url="", jupyterhub_url="", colab_url="", deepnote_url="", jupyterlite_url="")
    assert student_site.launch_buttons({"repository_url": "https://github.com/uni/cnn-student", "launch_buttons": hubs}) == hubs


# ---------------------------------------------------------------- slow: a student's fresh environment

# Runs in the student's environment: nbclient and the kernel are the edition's, not ours.
RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
source, target, folder = sys.argv[1:]
notebook = nbformat.read(source, as_version=4)
NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
               resources={"metadata": {"path": folder}}).execute()
nbformat.write(notebook, target)
"""


def _execute(notebook, folder, chapter_folder, python, scratch):
    """``notebook`` run by the student environment's nbclient and kernel: from the edition's
    folder, with PYTHONPATH empty, the kernel in the chapter's folder as in JupyterLab."""
    source, target = scratch / "in.ipynb", scratch / "out.ipynb"
    nbformat.write(notebook, str(source))
    env = {"PATH": f"{Path(python).parent}{os.pathsep}/usr/bin:/bin", "HOME": str(scratch), "PYTHONPATH": "",
           "MPLBACKEND": "Agg", "PYTHONWARNINGS": "ignore::DeprecationWarning"}
    result = subprocess.run([str(python), "-c", RUNNER, str(source), str(target), str(chapter_folder)],
                            cwd=folder, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return nbformat.read(str(target), as_version=4)


def _visible_check_outputs(notebook):
    """{check id: the text of its cell's outputs} of the graded cells that call a visible check
    (the hidden ones are not in a student's notebook)."""
    def text(cell):
        # One print can reach the notebook as two stream outputs (the kernel flushes its output
        # on a timer, here between the text and its newline): a stream's consecutive parts are joined.
        parts = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                parts.append((None, f"{output['ename']}: {output['evalue']}"))
            elif output.get("output_type") == "stream" and parts and parts[-1][0] == output["name"]:
                parts[-1] = (output["name"], parts[-1][1] + output["text"])
            else:
                parts.append((output.get("name"), output.get("text", "")))
        return "\n".join(part for _, part in parts)
    return {check_id: text(c)
            for c in notebook.cells if course.nbgrader_meta(c).get("grade") for check_id in course.check_ids(c)}


@pytest.mark.slow
@pytest.mark.parametrize("answers", ["instructor", "stubs"])
def test_a_fresh_student_environment_runs_every_chapter(edition, student_venv, answers, tmp_path):
    folder, _ = edition
    probe = subprocess.run([str(student_venv), "-c", "import grader"], cwd=folder, capture_output=True, text=True,
                           env={"PATH": os.environ["PATH"], "PYTHONPATH": ""})
    assert probe.returncode != 0, "the student's environment must not have the grader"
    problems = []
    for assignment, name in course.chapters().items():
        notebook = nbformat.read(str(folder / "chapters" / assignment / name), as_version=4)
        if answers == "instructor":
            notebook = course.with_answers(notebook, course.solution_sources(course.read(REPO / "solutions" / assignment / name)))
        notebook = _execute(notebook, folder, folder / "chapters" / assignment, student_venv, tmp_path)
        errors = [f"{o['ename']}: {o['evalue']}" for c in notebook.cells if not course.nbgrader_meta(c).get("grade")
                  for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if answers == "instructor" and errors:
            problems.append(f"{assignment}: {errors}")
        graded = _visible_check_outputs(notebook)
        exercises = set(course.solution_sources(notebook))
        assert set(graded) == {i for i in CHECKS if i.endswith(".example") and CHECKS[i].exercise in exercises}
        for grade_id, text in graded.items():
            passed = re.fullmatch(rf"{re.escape(grade_id)}: passed \(.+\)\n?", text) is not None
            stub = text.startswith("GradingFailure: ") and STUB_MESSAGE in text
            if (answers == "instructor" and not passed) or (answers == "stubs" and not stub):
                problems.append(f"{assignment} {grade_id}: {text!r}")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- answers and try-it cells

def _answer_cells(notebook):
    return [c for c in notebook.cells if "instructor-answer" in c.get("metadata", {}).get("tags", [])]


@pytest.mark.parametrize("assignment", list(course.chapters()))
def test_answers_are_in_the_solutions_only(assignment):
    """The answers to the questions to think about: on the instructor's site (solutions/), never in a
    student's notebook (chapters/, which the student site and the edition are made of)."""
    name = course.chapters()[assignment]
    solution = course.read(REPO / "solutions" / assignment / name)
    released = course.read(REPO / "chapters" / assignment / name)
    answers = _answer_cells(solution)
    assert answers and all("Answer" in c.source for c in answers)
    assert _answer_cells(released) == []
    text = json.dumps([c.source for c in released.cells], ensure_ascii=False)
    for cell in answers:
        lines = [line for line in cell.source.splitlines() if len(line) > 40]
        assert lines and not [line for line in lines if json.dumps(line, ensure_ascii=False)[1:-1] in text]
    hints = [c for c in released.cells if c.cell_type == "markdown" and "{admonition} Hints" in c.source]
    if assignment[:3] in ("ch1", "ch2", "ch3", "ch4"):
        assert len(hints) == 1 and ":class: dropdown" in hints[0].source


def test_the_release_drops_answer_cells_and_keeps_the_others(tmp_path):
    from book.release import drop_instructor_cells
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## Questions"),
        nbformat.v4.new_markdown_cell("The answer is 42.", metadata={"tags": ["instructor-answer"]}),
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["remove-input"]}),
    ])
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, str(path))
    drop_instructor_cells(path)
    assert [c.source for c in course.read(path).cells] == ["## Questions", "x = 1"]


# Chapter -> the exercises whose "Try it" cell must follow their solution cell.
TRY_IT = {"ch1": ["corr2d"], "ch2": ["Conv2D"], "ch3": ["train_kernel"],
          "ch4": ["conv2d_output_shape", "corr2d_pad_stride"], "ch5": ["corr2d_multi_in", "corr2d_multi_in_out"],
          "ch6": ["corr2d_multi_in_out_1x1", "corr2d_im2col"]}


@pytest.mark.parametrize("assignment", [a for a in course.chapters() if a[:3] in TRY_IT])
def test_each_exercise_is_followed_by_an_ungraded_try_it_cell(assignment):
    notebook = course.read(REPO / "chapters" / assignment / course.chapters()[assignment])
    for exercise in TRY_IT[assignment[:3]]:
        start = next(i for i, c in enumerate(notebook.cells) if course.nbgrader_meta(c).get("grade_id") == exercise)
        following = notebook.cells[start + 1:start + 4]
        calls = [c for c in following if c.cell_type == "code" and "try_it(" in c.source and exercise in c.source]
        assert len(calls) == 1, f"{assignment}: no try-it cell after {exercise}"
        assert not course.nbgrader_meta(calls[0]) and not calls[0].metadata.get("tags")


def test_try_it_shows_the_result_or_says_why_there_is_none(capsys):
    from course_runtime import try_it

    def stub(X):
        raise NotImplementedError()

    def broken(X):
        return X[5]

    assert try_it(lambda X: X + 1, 1) == 2
    assert try_it(stub, 1) is None
    out = capsys.readouterr().out
    assert "stub is not written yet" in out and "NotImplementedError" not in out  # the site shows it
    assert try_it(broken, [1], name="corr2d") is None
    out = capsys.readouterr().out
    assert "your corr2d raised IndexError: list index out of range" in out and "return X[5]" in out


def test_the_readme_says_in_both_languages_which_folder_is_which(edition):
    folder, _ = edition
    english, chinese = (folder / "README.md").read_text("utf8"), (folder / "README.zh.md").read_text("utf8")
    for readme in (english, chinese):
        assert "`chapters/<" in readme and "`chapters_zh/<" in readme
    assert re.search(r"chapters_zh/.*Chinese", english) and re.search(r"chapters_zh/.*中文", chinese)
    assert "README.zh.md" in english and "README.md" in chinese


@pytest.mark.slow
def test_the_student_environment_draws_the_figures_in_chinese(edition, student_venv, tmp_path):
    """A Chinese notebook's figures in a student's environment: the edition's requirements bring
    the font (Noto Sans SC) and its runtime the catalog, so every figure is drawn with Chinese
    labels and no glyph missing (warnings are errors), with a fresh matplotlib cache."""
    import textwrap

    from course_runtime import figures
    folder, _ = edition
    script = textwrap.dedent("""
        import matplotlib.text, warnings
        from IPython.core.pylabtools import print_figure
        from course_runtime import figures
        warnings.simplefilter("error")
        drawn = [f for f in vars(figures).values() if hasattr(f, "png") and hasattr(f, "draw")]
        for figure in drawn:
            assert figure.png()[:4] == b"\\x89PNG"
        runs = {name: {0.03: [3.0, 2.0, 1.0]} for name in figures.IMAGE_NAMES}
        chart = figures.learning_rate_figure(runs)
        print_figure(chart, "png")
        shown = {t.get_text() for t in chart.findobj(matplotlib.text.Text)}
        assert {"学习率 0.03", "d2l 的图像", "迭代周期"} <= shown, shown
        print("drew", len(drawn) + 1)
    """)
    env = {"PATH": f"{Path(student_venv).parent}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": "",
           "MPLBACKEND": "Agg", "COURSE_LANGUAGE": "zh_CN"}
    result = subprocess.run([str(student_venv), "-c", script], cwd=folder, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    drawn_once = [f for f in vars(figures).values() if hasattr(f, "png") and hasattr(f, "draw")]
    assert result.stdout.split() == ["drew", str(len(drawn_once) + 1)]
