"""The instructor's sources and the student notebooks generated from them."""
import ast
import json

import pytest
from nbclient import NotebookClient

from grader.checks import CHECKS
from tests import course

pytestmark = pytest.mark.slow

CHAPTERS = course.chapters()

# The fixed interface of the exercises (README, "The exercises"): chapter folder prefix -> definitions.
INTERFACE = {
    "ch1": {"corr2d": "def corr2d(X, K)"},
    "ch2": {"Conv2D": "class Conv2D(nn.Block)"},
    "ch3": {"train_kernel": "def train_kernel(X, Y, kernel_size, num_epochs=10, lr=0.03)"},
    "ch4": {"conv2d_output_shape": "def conv2d_output_shape(input_shape, kernel_size, padding=0, strides=1)",
            "corr2d_pad_stride": "def corr2d_pad_stride(X, K, padding=0, strides=1)"},
    "ch5": {"corr2d_multi_in": "def corr2d_multi_in(X, K)", "corr2d_multi_in_out": "def corr2d_multi_in_out(X, K)"},
    "ch6": {"corr2d_multi_in_out_1x1": "def corr2d_multi_in_out_1x1(X, K)",
            "corr2d_im2col": "def corr2d_im2col(X, K, padding=0, strides=1)"},
}


def solution(assignment):
    return course.read(course.REPO / "solutions" / assignment / CHAPTERS[assignment])


def release(assignment):
    return course.read(course.REPO / "chapters" / assignment / CHAPTERS[assignment])


def signature(node):
    """`def name(a, b=1)` or `class Name(Base)` of a definition, as written in the README."""
    if isinstance(node, ast.ClassDef):
        return f"class {node.name}({', '.join(ast.unparse(b) for b in node.bases)})"
    args = node.args
    defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
    params = [a.arg if d is None else f"{a.arg}={ast.literal_eval(d)!r}" for a, d in zip(args.args, defaults)]
    return f"def {node.name}({', '.join(params)})"


def test_every_chapter_is_there():
    assert [name[:3] for name in CHAPTERS] == list(INTERFACE)


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_each_exercise_has_its_own_solution_cell_with_the_fixed_signature(assignment):
    expected = INTERFACE[assignment[:3]]
    for notebook in (solution(assignment), release(assignment)):
        cells = {course.nbgrader_meta(c)["grade_id"]: c for c in notebook.cells if course.nbgrader_meta(c).get("solution")}
        assert set(cells) == set(expected)
        for name, wanted in expected.items():
            definitions = [n for n in ast.parse(cells[name].source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            assert [signature(d) for d in definitions] == [wanted]
    if assignment.startswith("ch2"):
        init = next(n for n in ast.walk(ast.parse(cells["Conv2D"].source)) if getattr(n, "name", "") == "__init__")
        assert signature(init) == "def __init__(self, kernel_size)" and init.args.kwarg.arg == "kwargs"


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_sources_carry_no_outputs(assignment):
    """Outputs are made by the build; the sources stay diffable."""
    for cell in solution(assignment).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:80]


def test_every_check_is_graded_in_exactly_one_cell_of_its_chapter():
    seen = {}
    for assignment in CHAPTERS:
        exercises = set(INTERFACE[assignment[:3]])
        for cell in solution(assignment).cells:
            ids = course.check_ids(cell)
            if not course.nbgrader_meta(cell).get("grade"):
                assert not ids, f"{assignment}: check() outside a graded cell"
                continue
            assert len(ids) == 1, f"{assignment}: a graded cell must call exactly one check: {cell.source}"
            (check_id,) = ids
            assert CHECKS[check_id].exercise in exercises, check_id
            assert course.nbgrader_meta(cell)["grade_id"] == check_id.replace(".", "_")
            hidden = "### BEGIN HIDDEN TESTS" in cell.source
            assert hidden == (not check_id.endswith(".example")), f"{check_id}: only examples are visible"
            seen.setdefault(check_id, []).append(assignment)
    assert {k: v for k, v in seen.items() if len(v) != 1} == {}
    assert sorted(seen) == sorted(CHECKS)


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_released_notebook_holds_no_solution_and_no_hidden_test(assignment):
    text = json.dumps(release(assignment).cells)
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    hidden = [i for i in CHECKS if not i.endswith(".example")]
    assert not [i for i in hidden if f'check(\\"{i}\\"' in text]
    lines = course.solution_lines(solution(assignment))
    assert lines and not [line for line in lines if json.dumps(line)[1:-1] in text]


# The earlier exercises each chapter builds on, given working in a locked cell.
GIVEN = {"ch2": "corr2d", "ch3": "corr2d", "ch5": "corr2d", "ch6": "corr2d_multi_in_out"}


@pytest.mark.parametrize("assignment", [a for a in CHAPTERS if a[:3] in GIVEN])
def test_a_chapter_gets_earlier_exercises_in_a_locked_cell(assignment):
    locked = [c.source for c in release(assignment).cells
              if course.nbgrader_meta(c).get("locked") and not course.nbgrader_meta(c).get("grade")]
    assert any(f"from course_runtime.given import {GIVEN[assignment[:3]]}" in source for source in locked)


def test_student_notebooks_are_generated_from_the_solutions(tmp_path):
    """chapters/ must equal what nbgrader generates from solutions/ now (run `make release`)."""
    fresh = course.make_course(tmp_path)
    stale = [a for a, name in CHAPTERS.items()
             if course.read(fresh / "chapters" / a / name) != release(a)]
    assert not stale, f"chapters/ is stale for {stale}: run `make release` and commit chapters/"


def test_a_stale_student_notebook_is_detected(tmp_path):
    """The comparison above can fail: an edit to a source changes the generated notebook."""
    fresh = course.make_course(tmp_path)
    first = next(iter(CHAPTERS))
    path = fresh / "solutions" / first / CHAPTERS[first]
    notebook = course.read(path)
    # a code cell: an English sentence without its Chinese would stop the release (book/zh/notebooks.py)
    next(c for c in notebook.cells if c.cell_type == "code").source += "\n# An edit."
    course.nbformat.write(notebook, str(path))
    course.run([course.sys.executable, "-m", "book.release", "--root", str(fresh)], cwd=course.REPO)
    assert course.read(fresh / "chapters" / first / CHAPTERS[first]) != release(first)


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_solution_notebook_executes_and_passes_its_tests(assignment):
    notebook = solution(assignment)
    folder = course.REPO / "solutions" / assignment
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    passed = [o for c in notebook.cells for o in c.get("outputs", []) if "passed (" in o.get("text", "")]
    assert len(passed) == len(course.graded_cells(notebook))
