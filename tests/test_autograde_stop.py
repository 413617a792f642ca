"""`python -m grader autograde` stopped by SIGTERM or killed outright leaves no process behind, and
a later run finishes the class; a notebook too large to read, and student ids and notebook fields
holding terminal escapes, are reported without harm."""
import os
import signal
import subprocess
import time

import pytest

from tests import course

CH1 = "ch1_cross_correlation"
HUGE = "huge\x1b]0;owned\x07"       # a student folder whose name retitles the terminal
ESCAPE = "escape\x1b[2J"            # one whose notebook's nbformat field clears the screen
pytestmark = pytest.mark.slow


def _grader_processes():
    """Living processes of grading workers, and of what they forked (process starters, zygotes,
    sandboxes: forks keep the worker's command line). Their environment is an allowlist, so no
    marker of the test's reaches them."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{entry}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if b"grader.engine.worker" in cmdline and state != "Z":
            found.add(int(entry))
    return found


def _processes_of_run(before):
    """The grading processes that were not there before the run (``before``) started."""
    return sorted(_grader_processes() - before)


def _gone(before, seconds=15):
    deadline = time.monotonic() + seconds
    while _processes_of_run(before) and time.monotonic() < deadline:
        time.sleep(0.1)
    return _processes_of_run(before)


@pytest.fixture(scope="module")
def small_class(tmp_path_factory):
    root = course.make_course(tmp_path_factory.mktemp("stop") / "course")
    name = course.chapters()[CH1]
    release = course.read(root / "chapters" / CH1 / name)
    answers = course.solution_sources(course.read(root / "solutions" / CH1 / name))
    complete = course.with_answers(release, answers)
    slow = course.with_answers(release, answers)
    slow.cells.insert(1, course.nbformat.v4.new_code_cell("import time\ntime.sleep(20)\n"))
    course.submit(root, "a-slow", CH1, slow)  # graded first: still running when the run is stopped
    for n in range(6):
        course.submit(root, f"honest-{n}", CH1, complete)
    huge = complete.copy()
    huge.cells = complete.cells + [course.nbformat.v4.new_markdown_cell("x" * (9 << 20))]
    course.submit(root, HUGE, CH1, huge)
    course.submit(root, ESCAPE, CH1, '{"nbformat": "\\u001b[2J\\u001b]0;owned\\u0007", "cells": []}')
    return root


def _errors(root, student):
    notebook = course.read(next((root / "autograded" / student / CH1).glob("*.ipynb")))
    return [o.get("evalue") for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]


def _start(root):
    """The grader started on ``root``; and the grading processes there were before it."""
    before = _grader_processes()
    env = dict(os.environ, PATH=f"{course.BIN}{os.pathsep}{os.environ['PATH']}",
               PYTHONWARNINGS="ignore::DeprecationWarning")
    process = subprocess.Popen([course.sys.executable, "-m", "grader", "autograde", CH1, "--jobs", "2"], cwd=root,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process, before


def _wait_for_graded(root, count, process, seconds=300):
    deadline = time.monotonic() + seconds
    while len(list((root / "autograded").glob("honest-*/*"))) < count and time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.05)


def test_sigterm_stops_the_run_and_its_processes_and_a_second_run_finishes(small_class):
    root = small_class
    process, before = _start(root)
    _wait_for_graded(root, 2, process)
    assert _processes_of_run(before), "the workers and a-slow's sandbox should be running"
    assert not (root / "autograded" / "a-slow").exists()
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "stopped: SIGTERM" in err
    assert _gone(before) == [], "no worker or sandbox of the stopped run may be left"
    graded_before = {p.name for p in (root / "autograded").iterdir()}
    assert "a-slow" not in graded_before

    # Killed outright, the grader cannot clean up: its workers must die with it all the same.
    process, before = _start(root)
    deadline = time.monotonic() + 120
    # two workers, their process starters, sandboxes: a-slow's among them
    while len(_processes_of_run(before)) < 6 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)
    process.kill()
    process.communicate()
    assert _gone(before, seconds=10) == [], "workers outlived the grader that started them"

    process, before = _start(root)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    for student in ["a-slow"] + [f"honest-{n}" for n in range(6)]:
        scores = course.cell_scores(root, student, CH1)
        assert all(s == t > 0 for s, t in scores.values()), (student, scores, _errors(root, student))
    assert _gone(before) == []

    # The notebook over the size limit and the one with escapes are reported, harmlessly.
    text = out + err
    assert "\x1b" not in text and "\x07" not in text
    assert "could not grade huge\\x1b]0;owned\\x07/" in text
    assert "notebook is 9.0 MiB, over the 8 MiB limit" in text
    assert "could not grade escape\\x1b[2J" in text
    assert "Unsupported nbformat version \\x1b[2J\\x1b]0;owned\\x07" in text  # the field, quoted harmlessly
    assert not (root / "autograded" / HUGE).exists()
