"""Shared fixtures: a sample class graded end to end with nbgrader's own commands."""
import os

# MXNet as the grader's workers run it (grader/pool.py ENGINE), set before anything imports MXNet:
# tests that start sandboxes in this process fork it, and a fork of MXNet's threaded engine is
# not what the grader ever forks.
os.environ.setdefault("MXNET_ENGINE_TYPE", "NaiveEngine")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from grader import known_answers  # noqa: E402
from tests import course  # noqa: E402


@dataclass
class GradedClass:
    root: Path
    grades: dict            # {(student, assignment): (score, max_score)} from `nbgrader export`
    expected: dict          # {(student, assignment): {grade_id: True (full points) / False (zero)}}
    autograde_logs: dict    # {assignment: stdout + stderr of `nbgrader autograde`}

    def cells(self, student, assignment):
        return course.cell_scores(self.root, student, assignment)


def _exercise_cells(source):
    """{exercise: [grade_ids of its graded cells]}, from the instructor's notebook (in the release
    the hidden tests are gone)."""
    cells = {}
    for cell in source.cells:
        for check_id in course.check_ids(cell):
            cells.setdefault(check_id.split(".")[0], []).append(course.nbgrader_meta(cell)["grade_id"])
    return cells


def _first_wrong_answer(exercise):
    return next(a for a in known_answers.WRONG if a.exercise == exercise)


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """Release the course in a scratch folder, submit a sample class, autograde, feedback, export.

    Students: ``complete`` (the instructor's answers), ``blank`` (the release untouched), ``partly``
    (the first exercise of each chapter answered), ``wrong-<exercise>`` (a known wrong answer to one
    exercise, the others right), ``broken`` (chapter 1 not valid JSON, chapter 2 complete) and
    ``shuffled`` (chapter 1 answered, its cells reordered, a test cell deleted and one duplicated).
    """
    root = course.make_course(tmp_path_factory.mktemp("course"))
    expected = {}
    for assignment, name in course.chapters().items():
        release = course.read(root / "chapters" / assignment / name)
        source = course.read(root / "solutions" / assignment / name)
        answers = course.solution_sources(source)
        by_exercise = _exercise_cells(source)
        graded = course.graded_cells(release)

        def submit(student, notebook, passing, assignment=assignment, graded=graded):
            course.submit(root, student, assignment, notebook)
            expected[(student, assignment)] = {gid: gid in passing for gid in graded}

        submit("complete", course.with_answers(release, answers), set(graded))
        submit("blank", release, set())
        first = next(iter(answers))
        submit("partly", course.with_answers(release, {first: answers[first]}), set(by_exercise[first]))
        for exercise in answers:
            wrong = dict(answers, **{exercise: _first_wrong_answer(exercise).source})
            others = {gid for ex, gids in by_exercise.items() if ex != exercise for gid in gids}
            # the wrong exercise's own cells: some must fail, which ones is the checks' business
            submit(f"wrong-{exercise}", course.with_answers(release, wrong), others)
            expected[(f"wrong-{exercise}", assignment)].update({gid: None for gid in by_exercise[exercise]})

    ch1, ch2 = list(course.chapters())[:2]
    course.submit(root, "broken", ch1, '{"cells": [')  # not valid JSON
    expected[("broken", ch1)] = None
    release2 = course.read(root / "chapters" / ch2 / course.chapters()[ch2])
    answers2 = course.solution_sources(course.read(root / "solutions" / ch2 / course.chapters()[ch2]))
    course.submit(root, "broken", ch2, course.with_answers(release2, answers2))
    expected[("broken", ch2)] = {gid: True for gid in course.graded_cells(release2)}

    release1 = course.read(root / "chapters" / ch1 / course.chapters()[ch1])
    answers1 = course.solution_sources(course.read(root / "solutions" / ch1 / course.chapters()[ch1]))
    shuffled = course.with_answers(release1, answers1)
    graded1 = list(course.graded_cells(release1))
    shuffled.cells = [c for c in shuffled.cells if course.nbgrader_meta(c).get("grade_id") != graded1[-1]]
    shuffled.cells.reverse()
    shuffled.cells.append(course.nbformat.from_dict(json.loads(json.dumps(shuffled.cells[0]))))
    course.submit(root, "shuffled", ch1, shuffled)
    expected[("shuffled", ch1)] = {gid: True for gid in graded1}

    logs = {}
    for assignment in course.chapters():
        result = course.nbgrader("autograde", assignment, cwd=root, check=False)
        logs[assignment] = result.stdout + result.stderr
        course.nbgrader("generate_feedback", assignment, cwd=root)
    course.nbgrader("export", "--to", str(root / "grades.csv"), cwd=root)
    return GradedClass(root, course.read_grades(root / "grades.csv"), expected, logs)


@dataclass
class FastGradedClass:
    root: Path
    output: str               # what `python -m grader autograde` printed
    nbgrader: GradedClass     # the same class graded by plain nbgrader

    def cells(self, student, assignment):
        return course.cell_scores(self.root, student, assignment)


def ungraded_copy(graded_class, target):
    """The sample class as submitted, with nbgrader's grading removed (gradebook cells kept)."""
    import shutil
    shutil.copytree(graded_class.root, target, ignore=shutil.ignore_patterns("autograded", "feedback"))
    return target


@pytest.fixture(scope="session")
def fast_graded_class(graded_class, tmp_path_factory):
    """The sample class graded again, from the start, with `python -m grader autograde`."""
    root = ungraded_copy(graded_class, tmp_path_factory.mktemp("fast") / "course")
    result = course.run([course.sys.executable, "-m", "grader", "autograde", "--jobs", "2"], cwd=root)
    for assignment in course.chapters():
        course.nbgrader("generate_feedback", assignment, cwd=root)
    course.nbgrader("export", "--to", str(root / "grades.csv"), cwd=root)
    return FastGradedClass(root, result.stdout + result.stderr, graded_class)


# ---------------------------------------------------------------- the student edition

# The Python a student's environment is made with: Debian 12's own (3.11.2) unless told otherwise.
STUDENT_PYTHON = os.environ.get("STUDENT_PYTHON", "/usr/bin/python3.11")


@pytest.fixture(scope="session")
def edition(tmp_path_factory):
    """`make student` into a scratch folder: (folder, zip)."""
    out = tmp_path_factory.mktemp("edition")
    course.run(["make", "--no-print-directory", "student", f"OUT={out}"], cwd=course.REPO)
    return out / "_build" / "student", out / "_build" / "student.zip"


@pytest.fixture(scope="session")
def student_venv(edition, tmp_path_factory):
    """A fresh virtual environment with the edition's requirements.txt only, pip run in a copy of
    the edition as a student's download (``-e .`` writes its egg-info there, and the edition is
    shared with tests that check what it holds): its python. Made once per session (about two
    minutes), for every test that needs it."""
    if not Path(STUDENT_PYTHON).is_file():
        pytest.fail(f"{STUDENT_PYTHON} is missing: set STUDENT_PYTHON to a Python 3.11")
    scratch = tmp_path_factory.mktemp("student-venv")
    folder = Path(shutil.copytree(edition[0], scratch / "download"))
    venv = scratch / ".venv"
    course.run([STUDENT_PYTHON, "-m", "venv", str(venv)], cwd=folder)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_CONSTRAINT")}
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
                            cwd=folder, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return python


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's), one for the whole session: Playwright's sync API cannot be
    started again while another instance runs, so every browser test shares this one."""
    import subprocess
    from pathlib import Path

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS
    # The script installs what is missing, Chromium or the Chinese font of the Chinese pages'
    # screenshots, and returns at once when both are there.
    repo = Path(__file__).resolve().parents[1]
    result = subprocess.run(["bash", str(repo / "book/install_browser.sh")], capture_output=True, text=True)
    if result.returncode != 0 or not Path(CHROMIUM).exists():
        pytest.fail(f"could not install Chromium and a Chinese font:\n{result.stdout}\n{result.stderr}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
