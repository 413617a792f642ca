"""Hostile submissions graded by `python -m grader autograde` in one class with honest students:
each cheat gains nothing, each attack costs at most its own cell, the rest is graded normally."""
import hashlib
import os
import socket
import threading

import pytest

from tests import course
from tests.hostile import ENTRIES, CH1, CH5

pytestmark = pytest.mark.slow
BUDGET = 45  # seconds per notebook: the slowest attack's cells fit their limit, not this


def _build(root, entry):
    name = course.chapters()[entry.assignment]
    release = course.read(root / "chapters" / entry.assignment / name)
    answers = course.solution_sources(course.read(root / "solutions" / entry.assignment / name))
    if entry.answer is not None:
        answers["corr2d"] = entry.answer
    answers.update(entry.answers)
    notebook = course.with_answers(release, answers)
    last_answer = max(i for i, c in enumerate(notebook.cells) if course.nbgrader_meta(c).get("solution"))
    for offset, source in enumerate(entry.extra, start=1):
        notebook.cells.insert(last_answer + offset, course.nbformat.v4.new_code_cell(source))
    if entry.tamper:
        entry.tamper(notebook)
    return notebook


def _exercise_of(root, assignment):
    """{grade_id: exercise} of an assignment's graded cells."""
    source = course.read(root / "solutions" / assignment / course.chapters()[assignment])
    return {course.nbgrader_meta(c)["grade_id"]: course.check_ids(c)[0].split(".")[0]
            for c in source.cells if course.nbgrader_meta(c).get("grade")}


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    root = course.make_course(tmp_path_factory.mktemp("hostile") / "course")
    for assignment in (CH1, CH5):
        name = course.chapters()[assignment]
        answers = course.solution_sources(course.read(root / "solutions" / assignment / name))
        course.submit(root, "honest-complete", assignment,
                      course.with_answers(course.read(root / "chapters" / assignment / name), answers))
        course.submit(root, "honest-blank", assignment, course.read(root / "chapters" / assignment / name))
    for entry in ENTRIES:
        course.submit(root, entry.name, entry.assignment, _build(root, entry))
    victim = next((root / "submitted" / "honest-complete" / CH1).glob("*.ipynb"))
    victim_hash = hashlib.sha256(victim.read_bytes()).hexdigest()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    connections = []

    def accept():
        while listener.fileno() != -1:
            try:
                connections.append(listener.accept())
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    os.environ.update(HOSTILE_ROOT=str(root), HOSTILE_PORT=str(listener.getsockname()[1]))
    try:
        result = course.run([course.sys.executable, "-m", "grader", "autograde", "--jobs", "2",
                             "--cell-timeout", "5", "--case-timeout", "3", "--notebook-timeout", str(BUDGET)],
                            cwd=root)
    finally:
        listener.close()
    return {"root": root, "output": result.stdout + result.stderr, "connections": connections,
            "victim": (victim, victim_hash)}


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_hostile_submission_is_graded_as_stated(hostile_class, entry):
    root = hostile_class["root"]
    scores = course.cell_scores(root, entry.name, entry.assignment)
    exercise_of = _exercise_of(root, entry.assignment)
    assert set(scores) == set(exercise_of), "graded cells must be the release's, no more, no less"
    for grade_id, (score, top) in scores.items():
        if entry.expect == "all":
            wanted = True
        elif entry.expect == "none":
            wanted = False
        else:
            wanted = entry.expect.get(grade_id, entry.expect.get(exercise_of[grade_id]))
        assert top == course.graded_cells(course.read(root / "chapters" / entry.assignment /
                                                      course.chapters()[entry.assignment]))[grade_id]
        assert score == (top if wanted else 0), f"{grade_id}: {score} of {top}"


def test_honest_students_in_the_same_class_are_graded_normally(hostile_class):
    root = hostile_class["root"]
    for assignment in (CH1, CH5):
        assert all(s == t > 0 for s, t in course.cell_scores(root, "honest-complete", assignment).values())
        assert all(s == 0 for s, t in course.cell_scores(root, "honest-blank", assignment).values())


def test_no_hostile_code_reached_the_network_or_the_files(hostile_class):
    victim, digest = hostile_class["victim"]
    assert hostile_class["connections"] == []
    assert hashlib.sha256(victim.read_bytes()).hexdigest() == digest
    assert "could not grade" not in hostile_class["output"]


def test_a_gigabyte_of_output_is_cut(hostile_class):
    """Cut at the cap, or stopped at the cell's time limit on a busy machine: never stored."""
    folder = hostile_class["root"] / "autograded" / "gigabyte-of-output" / CH1
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5 * 2**20
    text = next(folder.glob("*.ipynb")).read_text()
    assert "characters of output were dropped" in text or "this cell was stopped: it ran longer" in text


def test_output_beyond_the_cap_is_dropped_and_counted():
    from grader import sandbox
    limits = sandbox.Limits(output_bytes=2**20)
    result = sandbox._run_cell(sandbox.shell(), "print('x' * 10**7)", limits)
    (stream,) = [o for o in result["outputs"] if o["name"] == "stdout"]
    assert result["status"] == "ok" and stream["text"].startswith("x" * 2**20)
    assert len(stream["text"]) < 2**20 + 100
    assert f"[{10**7 + 1 - 2**20} more characters of output were dropped]" in stream["text"]


def test_output_beyond_the_cap_is_cut_by_the_grader_too(hostile_class):
    """The student turned the sandbox's own cap off: the worker cuts what it sends."""
    folder = hostile_class["root"] / "autograded" / "output-cap-turned-off" / CH1
    assert sum(p.stat().st_size for p in folder.iterdir()) < 3 * 2**20
    assert "characters of output were dropped" in next(folder.glob("*.ipynb")).read_text()


def test_the_notebook_budget_stops_cells_that_each_fit_their_limit(hostile_class):
    folder = hostile_class["root"] / "autograded" / "twenty-cells-sleeping-just-under-the-timeout" / CH1
    assert f"the notebook used up its {BUDGET} s budget" in next(folder.glob("*.ipynb")).read_text()


def _live_html(text):
    """Scripts and event-handler attributes a browser would run in ``text`` (escaped text is none)."""
    from html.parser import HTMLParser

    class Finder(HTMLParser):
        def __init__(self):
            super().__init__()
            self.found, self.in_script = [], False

        def handle_starttag(self, tag, attrs):
            self.in_script = tag == "script"
            self.found += [f"<{tag} {name}=...>" for name, value in attrs
                           if name.startswith("on") and "alert" in (value or "")]

        def handle_data(self, data):
            if self.in_script and "alert(" in data:
                self.found.append(f"<script>{data[:40]}")

        def handle_endtag(self, tag):
            self.in_script = False

    finder = Finder()
    finder.feed(text)
    return finder.found


def test_no_live_html_of_a_student_reaches_the_instructor(hostile_class):
    """The student's own markdown and raw cells hold <script> and onerror=: neither the autograded
    notebook, rendered without any sanitizing, nor the feedback page runs them."""
    from nbconvert import HTMLExporter
    root, student = hostile_class["root"], "live-html-in-added-cells"
    notebook = next((root / "autograded" / student / CH1).glob("*.ipynb"))
    rendered, _ = HTMLExporter(sanitize_html=False).from_filename(str(notebook))
    assert "alert(1)" in rendered and _live_html(rendered) == []  # shown, as text
    course.nbgrader("generate_feedback", CH1, "--student", student, cwd=root)
    feedback = next((root / "feedback" / student / CH1).glob("*.html")).read_text()
    assert "alert(1)" in feedback and _live_html(feedback) == []
