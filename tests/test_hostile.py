"""Hostile submissions graded by `python -m grader autograde` in one class with honest students:
each cheat gains nothing, each attack costs at most its own cell, the rest is graded normally."""
import hashlib
import os
import signal
import socket
import sysconfig
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests import course, ordinary_user
from tests.hostile import ENTRIES, CH1, CH5

pytestmark = pytest.mark.slow
BUDGET = 45  # seconds per notebook: the slowest attack's cells fit their limit, not this
SHM_KEY = 0x5EC7E7
LEFTOVERS = [Path(folder) / "cnn-grader-leftover" for folder in ("/run/lock", "/var/tmp", "/dev/shm", "/tmp")]
SANDBOX_UIDS = range(61000, 62000)   # as root, sandbox slot n runs as uid 61000 + n


def _build(root, entry, placeholders):
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
    for cell in notebook.cells:
        for placeholder, value in placeholders.items():
            cell.source = cell.source.replace(placeholder, value)
    return notebook


def _exercise_of(root, assignment):
    """{grade_id: exercise} of an assignment's graded cells."""
    source = course.read(root / "solutions" / assignment / course.chapters()[assignment])
    return {course.nbgrader_meta(c)["grade_id"]: course.check_ids(c)[0].split(".")[0]
            for c in source.cells if course.nbgrader_meta(c).get("grade")}


def _plant_secrets(root, home):
    """What students' code must never reach, each holding a marker to look for afterwards: the
    grading secret, the instructor's built sites, exported grades, downloaded submissions, tokens
    in the environment, the instructor's shell start-up file."""
    markers = {name: f"{name}-{uuid.uuid4().hex}" for name in
               ("secret", "instructor-site", "grades", "downloaded", "token", "cloud-key", "victim")}
    (root / ".grader_secret").write_text(markers["secret"])
    site = root / "_build" / "instructor" / "html"
    site.mkdir(parents=True)
    (site / "index.html").write_text(f"<p>{markers['instructor-site']}</p>")
    (root / "grades.csv").write_text(f"student_id,score\n{markers['grades']},35\n")
    downloaded = root / "downloaded" / "someone" / CH1
    downloaded.mkdir(parents=True)
    (downloaded / "notebook.ipynb").write_text(markers["downloaded"])
    home.mkdir(parents=True, exist_ok=True)
    (home / ".bashrc").write_text("# the instructor's own start-up file\n")
    return markers


def _grade_class(root, mode, tmp):
    """Release, submit and grade the hostile class in ``root``, as the invoking user or as an
    ordinary user; what each attack left behind, looked at a few seconds after the run."""
    home = tmp / "home"
    markers = _plant_secrets(root, home)
    for assignment in (CH1, CH5):
        name = course.chapters()[assignment]
        answers = course.solution_sources(course.read(root / "solutions" / assignment / name))
        honest = course.with_answers(course.read(root / "chapters" / assignment / name), answers)
        honest.cells.append(course.nbformat.v4.new_markdown_cell(markers["victim"]))
        course.submit(root, "honest-complete", assignment, honest)
        course.submit(root, "honest-blank", assignment, course.read(root / "chapters" / assignment / name))
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
    placeholders = {"__ROOT__": str(root), "__PORT__": str(listener.getsockname()[1]), "__HOME__": str(home),
                    "__SITE__": sysconfig.get_paths()["purelib"]}
    for entry in ENTRIES:
        course.submit(root, entry.name, entry.assignment, _build(root, entry, placeholders))
    for leftover in LEFTOVERS:
        leftover.unlink(missing_ok=True)
    planted = Path(placeholders["__SITE__"]) / "zz_pwned.pth"
    env = {"PATH": f"{course.BIN}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "PYTHONWARNINGS": "ignore::DeprecationWarning",
           "JUPYTERHUB_API_TOKEN": markers["token"], "AWS_SECRET_ACCESS_KEY": markers["cloud-key"]}
    if os.environ.get("PYTHONPATH"):  # e.g. to run this catalogue against another checkout's grader
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    args = [course.sys.executable, "-m", "grader", "autograde", "--jobs", "2", "--cell-timeout", "5",
            "--case-timeout", "3", "--notebook-timeout", str(BUDGET)]
    watched_uids = SANDBOX_UIDS
    try:
        if mode == "ordinary-user":
            uid, gid = ordinary_user.ensure_user()
            ordinary_user.give(tmp, uid, gid)
            watched_uids = [uid]
            with ordinary_user.reachable(*ordinary_user.environment_paths()):
                result = course.subprocess.run(ordinary_user.command(args, env), cwd=root, capture_output=True,
                                               text=True, timeout=1800)
        else:
            result = course.subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=1800)
        time.sleep(3)  # long enough for anything that waited for the run to end to act
        survivors = [pid for uid in watched_uids for pid in ordinary_user.processes_of(uid)] if \
            mode == "ordinary-user" else _sandbox_processes()
    finally:
        listener.close()
    found = {"survivors": survivors, "shared_memory": _segment_exists(SHM_KEY),
             "leftovers": [str(p) for p in LEFTOVERS if p.exists()], "planted": planted.exists(),
             "bashrc": (home / ".bashrc").read_text()}
    _clean_up(survivors, planted)
    return {"root": root, "output": result.stdout + result.stderr, "returncode": result.returncode,
            "connections": connections, "victim": (victim, victim_hash), "markers": markers, "found": found}


def _sandbox_processes():
    return [pid for uid in SANDBOX_UIDS for pid in ordinary_user.processes_of(uid)] if os.geteuid() == 0 else []


def _segment_exists(key):
    with open("/proc/sysvipc/shm") as table:
        return any(line.split()[0] == str(key) for line in table.readlines()[1:])


def _clean_up(survivors, planted):
    """Whatever a failing run left behind must not disturb the tests after it."""
    for pid in survivors:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for leftover in LEFTOVERS:
        leftover.unlink(missing_ok=True)
    planted.unlink(missing_ok=True)
    if _segment_exists(SHM_KEY):
        course.subprocess.run(["ipcrm", "-M", str(SHM_KEY)], check=False)


MODES = ["invoking-user", pytest.param("ordinary-user", marks=[pytest.mark.root_only, pytest.mark.skipif(
    ordinary_user.available() is not None, reason=str(ordinary_user.available()))])]


@pytest.fixture(scope="module", params=MODES)
def hostile_class(request, tmp_path_factory):
    if request.param == "ordinary-user":  # a folder of the user's, like an instructor's on a hub
        tmp = ordinary_user.scratch_folder()
        yield _grade_class(course.make_course(tmp / "course"), request.param, tmp)
        course.shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
        yield _grade_class(course.make_course(tmp / "course"), request.param, tmp)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.name for e in ENTRIES])
def test_hostile_submission_is_graded_as_stated(hostile_class, entry):
    root = hostile_class["root"]
    assert hostile_class["returncode"] == 0, hostile_class["output"][-3000:]
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
    """Read a few seconds after the run: a process left to wait for the run's end is too late."""
    root = hostile_class["root"]
    for assignment in (CH1, CH5):
        assert all(s == t > 0 for s, t in course.cell_scores(root, "honest-complete", assignment).values())
        assert all(s == 0 for s, t in course.cell_scores(root, "honest-blank", assignment).values())


def test_no_hostile_code_reached_the_network_or_the_files(hostile_class):
    victim, digest = hostile_class["victim"]
    assert hostile_class["connections"] == []
    assert hashlib.sha256(victim.read_bytes()).hexdigest() == digest
    assert "could not grade" not in hostile_class["output"]
    assert hostile_class["found"]["bashrc"] == "# the instructor's own start-up file\n"
    assert not hostile_class["found"]["planted"], "a .pth file was planted in the grading environment"


def test_nothing_outlives_the_run(hostile_class):
    found = hostile_class["found"]
    assert found["survivors"] == [], "processes of students' code outlived the run"
    assert not found["shared_memory"], "a System V shared memory segment outlived the run"
    assert found["leftovers"] == [], "files in world-writable folders outlived the run"


def test_no_secret_of_the_instructor_reaches_students(hostile_class):
    """Nothing of the grading secret, the instructor's environment, sites, exports, downloads or
    other students' submissions is in any autograded notebook."""
    root = hostile_class["root"]
    for path in (root / "autograded").rglob("*.ipynb"):
        text = path.read_text(errors="replace")
        for name, marker in hostile_class["markers"].items():
            if name == "victim" and "honest-complete" in path.parts:
                continue  # the honest student's own notebook
            assert marker not in text, f"the {name} marker reached {path.relative_to(root)}"


def test_a_gigabyte_of_output_is_cut(hostile_class):
    """Cut at the cap, or stopped at the cell's time limit on a busy machine: never stored."""
    folder = hostile_class["root"] / "autograded" / "gigabyte-of-output" / CH1
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5 * 2**20
    text = next(folder.glob("*.ipynb")).read_text()
    assert "characters of output were dropped" in text or "this cell was stopped: it ran longer" in text


def test_output_beyond_the_cap_is_dropped_and_counted():
    from grader.engine import sandbox
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
