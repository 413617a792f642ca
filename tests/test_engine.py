"""The grading engine knows no course: here it grades a made-up one (an exercise ``double(x)``),
with no MXNet and nothing of the convolution course, through the same interface grader/course.py
gives it (grader/engine/course.py)."""
from dataclasses import dataclass

import pytest

from grader.engine import isolation, sandbox
from grader.engine.autograde import check_of, make_job
from grader.engine.worker import Worker


@dataclass
class _Case:
    text: str
    inputs: dict


@dataclass
class _Check:
    exercise: str


class DoublingCourse:
    """A course of one exercise: ``double(x)`` returns 2 * x."""

    checks = {"double.values": _Check("double")}

    def graded_check(self, source):
        return "double.values" if source.strip() == 'check("double.values", double)' else None

    def passed_text(self, check_id):
        return f"{check_id}: passed\n"

    def case_seed(self, student, assignment, check_id, secret):
        return len(student) + len(assignment)

    def cases(self, check_id, seed):
        return [_Case(f"x = {x}", {"x": x}) for x in (seed, -3, 0)]

    def call_seed(self, check_id, index, student, assignment):
        return index

    def judge(self, check_id, cases, call):
        for index, case in enumerate(cases):
            kind, value = call(index, case)
            if kind == "problem":
                return value
            if value != 2 * case.inputs["x"]:
                return f"for {case.text} your double returned {value}; expected {2 * case.inputs['x']}"
        return None

    def student_side(self, check_id, namespace, text, inputs, seed):
        try:
            return "result", int(namespace["double"](inputs["x"]))
        except Exception as error:
            return "problem", f"for {text} your double raised {type(error).__name__}"


def _job(answer):
    import nbformat
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(answer),
        nbformat.v4.new_code_cell('check("double.values", double)',
                                  metadata={"nbgrader": {"grade": True, "grade_id": "values", "points": 1}})])
    return make_job(notebook, "student", "doubling", "doubling", "", DoublingCourse())


@pytest.fixture(scope="module")
def worker():
    made = Worker(DoublingCourse(), sandbox.claim_slot(), sandbox.Limits(cell_seconds=10), isolation.view_for(),
                  isolation.choose_mode())
    yield made
    made.close()


def test_the_engine_grades_another_course(worker):
    right = worker.grade_here(_job("def double(x):\n    return x + x"))
    wrong = worker.grade_here(_job("def double(x):\n    return x * x"))
    assert right["checks"][1]["problem"] is None
    assert wrong["checks"][1]["problem"] == "for x = 15 your double returned 225; expected 30"


def test_a_cell_the_course_does_not_recognise_is_not_graded_by_the_engine():
    import nbformat
    cell = nbformat.v4.new_code_cell("assert double(2) == 4", metadata={"nbgrader": {"grade_id": "mine"}})
    with pytest.raises(Exception, match="must call exactly one known check"):
        check_of(cell, DoublingCourse())


def test_the_engine_imports_no_course_module():
    """The engine's modules name no module of the convolution course."""
    import ast
    from pathlib import Path
    engine = Path(sandbox.__file__).parent
    for path in engine.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
            module = getattr(node, "module", None) or ""
            for name in names + [module]:
                assert not any(part in name.split(".") for part in
                               ("checks", "reference", "rules", "guard", "notebook", "known_answers", "diagnose",
                                "course_runtime", "mxnet")), f"{path.name} imports {name}"
