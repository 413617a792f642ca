"""`python -m grader autograde`: the same scores as nbgrader, into the same gradebook, resumable."""
import os
import re
import signal
import subprocess
import time

import pytest

from tests import course
from tests.conftest import ungraded_copy
from tests.test_grading_day import NOISE

pytestmark = pytest.mark.slow


def _gradable(graded_class):
    return [key for key, cells in graded_class.expected.items() if cells is not None]


def test_scores_equal_plain_nbgrader_on_the_sample_class(fast_graded_class):
    differ = {}
    for student, assignment in _gradable(fast_graded_class.nbgrader):
        ours = fast_graded_class.cells(student, assignment)
        theirs = fast_graded_class.nbgrader.cells(student, assignment)
        if ours != theirs:
            differ[(student, assignment)] = (ours, theirs)
    assert not differ


def test_a_broken_submission_is_reported_and_the_rest_graded(fast_graded_class):
    ch1, ch2 = list(course.chapters())[:2]
    assert f"could not grade broken/{ch1}" in fast_graded_class.output and "JSON" in fast_graded_class.output
    assert (fast_graded_class.root / "autograded" / "broken" / ch2).is_dir()
    assert not (fast_graded_class.root / "autograded" / "broken" / ch1).exists()


def test_the_summary_table_counts_failed_cells(fast_graded_class):
    for assignment in course.chapters():
        assert f"{assignment}: " in fast_graded_class.output
    blank_fails_all = [line for line in fast_graded_class.output.splitlines() if "failed by" in line]
    assert blank_fails_all and all(int(line.split("failed by")[1].split("of")[0]) >= 1 for line in blank_fails_all)


def test_feedback_and_export_work_on_its_gradebook(fast_graded_class):
    grades = course.read_grades(fast_graded_class.root / "grades.csv")
    for key, (score, top) in fast_graded_class.nbgrader.grades.items():
        assert grades[key] == (score, top), key
    ch1 = list(course.chapters())[0]
    html = next((fast_graded_class.root / "feedback" / "wrong-corr2d" / ch1).glob("*.html")).read_text()
    assert "GradingFailure" in html and "HIDDEN TESTS" not in html


def test_grading_again_grades_nothing_twice(fast_graded_class):
    """A second run grades nothing that was graded; only what could not be graded is tried again."""
    before = {p: p.stat().st_mtime_ns for p in (fast_graded_class.root / "autograded").rglob("*.ipynb")}
    result = course.run([course.sys.executable, "-m", "grader", "autograde"], cwd=fast_graded_class.root)
    assert "graded 1/1 submissions" in result.stderr and "could not grade broken" in result.stdout
    assert {p: p.stat().st_mtime_ns for p in (fast_graded_class.root / "autograded").rglob("*.ipynb")} == before


def test_a_killed_run_resumes_to_the_same_gradebook(graded_class, fast_graded_class, tmp_path):
    root = ungraded_copy(graded_class, tmp_path / "course")
    env = dict(os.environ, PATH=f"{course.BIN}{os.pathsep}{os.environ['PATH']}")
    process = subprocess.Popen([course.sys.executable, "-m", "grader", "autograde", "--jobs", "2"], cwd=root,
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 300
    while len(list((root / "autograded").glob("*/*"))) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the grader and its workers, mid-class
    process.wait()
    done_before = {p.relative_to(root / "autograded") for p in (root / "autograded").glob("*/*")}
    total = len(_gradable(graded_class))
    assert 5 <= len(done_before) < total, "the kill should land halfway through the class"

    result = course.run([course.sys.executable, "-m", "grader", "autograde", "--jobs", "2"], cwd=root)
    graded_again = max(int(total_) for _, total_ in re.findall(r"graded (\d+)/(\d+) submissions", result.stderr))
    broken = len(graded_class.expected) - total
    assert graded_again == total + broken - len(done_before), result.stderr
    assert not (root / ".autograde-partial").exists()
    for student, assignment in _gradable(graded_class):
        assert course.cell_scores(root, student, assignment) == fast_graded_class.cells(student, assignment)


def test_the_console_shows_only_what_an_instructor_can_act_on(fast_graded_class):
    """No SQLAlchemy warning, no configuration warning, no "checksum has changed!" on honest
    submissions, nothing of the workers' start-up (MXNet's engine, matplotlib's fonts): only the
    summary, progress and what could not be graded."""
    noise = [line for line in fast_graded_class.output.splitlines()
             if NOISE.search(line) and not line.startswith("could not grade ")]
    assert not noise, "\n".join(noise)


def test_a_second_run_still_reports_the_whole_class(fast_graded_class):
    """The summary is the class as it stands in the gradebook, not only what this run graded."""
    result = course.run([course.sys.executable, "-m", "grader", "autograde"], cwd=fast_graded_class.root)
    gradable = _gradable(fast_graded_class.nbgrader)
    for assignment in course.chapters():
        graded = sum(1 for _, a in gradable if a == assignment)
        assert f"{assignment}: {graded} submissions graded so far (0 by this run)" in result.stdout, result.stdout
    first = [line for line in fast_graded_class.output.splitlines() if "failed by" in line]
    again = [line for line in result.stdout.splitlines() if "failed by" in line]
    assert first and again == first
    assert "this run graded 0 submissions; 1 could not be graded" in result.stdout
