"""The grader on machines that allow less: without user namespaces it falls back to Landlock, and
with neither it refuses to run students' code unless told --unsafe-no-isolation. Such machines are
made here by a seccomp filter that denies the system calls, as Docker's default profile or
Ubuntu's AppArmor restriction do."""
import sys

import pytest

from tests import course

pytestmark = pytest.mark.slow
CH1 = "ch1_cross_correlation"
# A submission whose extra cell writes into the course's folder and reads the grading secret.
INTRUDER = ("import glob\n"
            "open('__ROOT__/written-by-a-student', 'w').write('pwned')\n"
            "print('secret:', open('__ROOT__/.grader_secret').read())\n")


def _denying(names, args):
    """``args`` run under a seccomp filter that fails ``names`` with EPERM (inherited by every
    process the grader starts)."""
    rules = "".join(f"f.add_rule(s.ERRNO(1), {name!r})\n" for name in names)
    program = ("import os, sys, pyseccomp as s\nf = s.SyscallFilter(s.ALLOW)\n" + rules +
               "f.load()\nos.execv(sys.executable, [sys.executable] + sys.argv[1:])\n")
    return [sys.executable, "-c", program, *args]


@pytest.fixture
def small_class(tmp_path):
    root = course.make_course(tmp_path / "course")
    (root / ".grader_secret").write_text("the-course-secret")
    name = course.chapters()[CH1]
    release = course.read(root / "chapters" / CH1 / name)
    answers = course.solution_sources(course.read(root / "solutions" / CH1 / name))
    course.submit(root, "honest", CH1, course.with_answers(release, answers))
    intruder = course.with_answers(release, answers)
    last_answer = max(i for i, c in enumerate(intruder.cells) if course.nbgrader_meta(c).get("solution"))
    intruder.cells.insert(last_answer + 1, course.nbformat.v4.new_code_cell(INTRUDER.replace("__ROOT__", str(root))))
    course.submit(root, "intruder", CH1, intruder)
    return root


def _grade(root, denied, *flags):
    args = ["-m", "grader", "autograde", "--jobs", "1", *flags]
    return course.run(_denying(denied, args), cwd=root, check=False)


def test_refuses_when_nothing_isolates(small_class):
    result = _grade(small_class, ["unshare", "landlock_create_ruleset"])
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot be isolated" in result.stderr and "--unsafe-no-isolation" in result.stderr
    assert not (small_class / "written-by-a-student").exists(), "students' code ran"
    assert not (small_class / "autograded").exists()


def test_unsafe_flag_grades_and_says_so(small_class):
    result = _grade(small_class, ["unshare", "landlock_create_ruleset"], "--unsafe-no-isolation")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "NO ISOLATION" in result.stdout and "warning: students' code ran without isolation" in result.stdout
    assert (small_class / "written-by-a-student").exists()  # what "unsafe" means, shown


def test_falls_back_to_landlock(small_class):
    result = _grade(small_class, ["unshare"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Landlock" in result.stdout and "seccomp filter" in result.stdout
    assert all(s == t > 0 for s, t in course.cell_scores(small_class, "honest", CH1).values())
    assert not (small_class / "written-by-a-student").exists()
    graded = next((small_class / "autograded" / "intruder" / CH1).glob("*.ipynb")).read_text()
    assert "the-course-secret" not in graded
