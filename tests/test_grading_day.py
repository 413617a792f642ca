"""The instructor's day (README, "For instructors"): set-up errors that say what to run, `make grade`
from a fresh copy of the course, the grades exported for Canvas, the formgrader's Autograde turned
off, and a console with nothing but what an instructor can act on."""
import csv
import logging
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from tests import course

CH1 = next(iter(course.chapters()))
NOTEBOOK1 = course.chapters()[CH1]

# Lines no instructor can act on (library warnings, start-up chatter, tracebacks). The grader's own
# messages ("error: ...", "could not grade ...") say what to do; none of them is expected here but
# "could not grade" of the broken submissions, which callers allow.
NOISE = re.compile(r"warn|SAWarning|checksum|not recognized|findfont|Glyph|engine\.cc|Traceback", re.I)


def _noise(output):
    return [line for line in output.splitlines() if NOISE.search(line)]


def _grader(*args, cwd, python=sys.executable):
    env = dict(os.environ, PATH="/usr/bin:/bin", PYTHONWARNINGS="ignore::DeprecationWarning")
    return subprocess.run([python, "-m", "grader", *args], cwd=cwd, env=env, capture_output=True, text=True)


def _fresh_clone(target):
    """The course's tracked files, as a fresh clone has them (no gradebook, submissions or grades;
    the release in chapters/ is committed). Times are kept, so make does not re-make the venv."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=course.REPO, capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        source = course.REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


# ------------------------------------------------------------------ 1. set-up steps that are missing

@pytest.fixture
def fresh(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(course.REPO / "nbgrader_config.py", root)
    for folder in ("solutions", "chapters"):
        shutil.copytree(course.REPO / folder, root / folder)
    return root


def test_a_fresh_clone_without_submissions_is_told_what_to_do_not_nothing_to_grade(fresh):
    """It printed "nothing to grade: every submission is graded" and exited 0, even with --force."""
    for args in (["autograde"], ["autograde", "--force"]):
        result = _grader(*args, "--jobs", "1", cwd=fresh)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "nothing to grade" not in result.stdout + result.stderr
        assert "no submissions in" in result.stderr and "submitted/<student>/<chapter>/" in result.stderr
        # run as the README writes it, .venv/bin/python without the venv on PATH: nbgrader finds `alembic`
        assert "alembic" not in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_submissions_of_a_chapter_the_gradebook_lacks_are_an_error_naming_make_grade(fresh):
    course.submit(fresh, "alice", CH1, course.read(fresh / "chapters" / CH1 / NOTEBOOK1))
    result = _grader("autograde", "--jobs", "1", cwd=fresh)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "knows no chapter" in result.stderr and "make grade" in result.stderr
    assert not (fresh / "autograded").exists()


def test_setting_up_the_gradebook_leaves_the_release_alone_and_warns_when_it_is_stale(tmp_path, alembic_on_path):
    from grader.engine.autograde import Grader
    from grader.engine.day import set_up_gradebook
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(course.REPO / "nbgrader_config.py", root)
    shutil.copytree(course.REPO / "solutions" / CH1, root / "solutions" / CH1)
    shutil.copytree(course.REPO / "chapters" / CH1, root / "chapters" / CH1)
    source = course.read(root / "solutions" / CH1 / NOTEBOOK1)
    # Prose the release may leave out (instructor-only answers) does not matter to the gradebook ...
    next(c for c in source.cells if c.cell_type == "markdown").source += "\n\nEdited after the release."
    nbformat.write(source, str(root / "solutions" / CH1 / NOTEBOOK1))
    said = []
    assert set_up_gradebook(Grader(root, pool=None, log=said.append), said.append) == [CH1]
    assert not [line for line in said if line.startswith("warning:")], said
    (root / "gradebook.db").unlink()
    # ... a graded or locked cell does: students would hand in other cells than the gradebook knows.
    next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("locked")).source += "\n# edited"
    nbformat.write(source, str(root / "solutions" / CH1 / NOTEBOOK1))
    released = (root / "chapters" / CH1 / NOTEBOOK1).read_bytes()

    said = []
    grader = Grader(root, pool=None, log=said.append)
    assert set_up_gradebook(grader, said.append) == [CH1]
    assert list(grader.assignments()) == [CH1]
    assert (root / "chapters" / CH1 / NOTEBOOK1).read_bytes() == released
    assert any(line.startswith("warning:") and "make release" in line for line in said), said
    assert set_up_gradebook(grader, said.append) == []  # known now: nothing to do


# ------------------------------------------------------------------ 3. grades out, for Canvas

def _gradebook_course(root):
    """A gradebook of three chapters (the third never handed out), three students, one
    submission that could not be graded, one not graded yet; nothing of MXNet."""
    from nbgrader.api import Gradebook
    from nbgrader.coursedir import CourseDirectory

    from grader.engine.autograde import PROBLEMS, Grader
    root.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(db_url) as gradebook:
        for name, points in (("ch1", 5), ("ch2", 3), ("ch3", 4)):
            gradebook.add_assignment(name)
            gradebook.add_notebook("nb", name)
            gradebook.add_grade_cell("a", "nb", name, max_score=points - 1, cell_type="code")
            gradebook.add_grade_cell("b", "nb", name, max_score=1, cell_type="code")
        gradebook.add_student("jane", first_name="Jane", last_name="Doe, Jr.", lms_user_id="4711")
        gradebook.add_student("li")
        for student, assignment, a, b in (("jane", "ch1", 4, 1), ("li", "ch1", 1.5, 0), ("jane", "ch2", 0, 0)):
            with gradebook.db.no_autoflush:  # nbgrader's add_submission flushes half-made rows otherwise
                gradebook.add_submission(assignment, student)
            for cell, score in (("a", a), ("b", b)):
                grade = gradebook.find_grade(cell, "nb", assignment, student)
                grade.auto_score, grade.needs_manual_grade = score, False
            gradebook.db.commit()
            (root / "autograded" / student / assignment).mkdir(parents=True)
    for student, assignment in (("jane", "ch1"), ("li", "ch1"), ("jane", "ch2"), ("bob", "ch1"), ("li", "ch2")):
        (root / "submitted" / student / assignment).mkdir(parents=True)
    (root / PROBLEMS).write_text('{"bob/ch1": "nb.ipynb: NotJSONError: not JSON"}')
    grader = Grader.__new__(Grader)  # its gradebook and folders only: no course to load
    grader.root, grader.db_url = root, db_url
    grader.coursedir = CourseDirectory(root=str(root))
    return grader


@pytest.fixture
def alembic_on_path(monkeypatch):
    """nbgrader's Gradebook runs `alembic` from PATH, as the grader's command line arranges."""
    monkeypatch.setenv("PATH", f"{course.BIN}{os.pathsep}{os.environ['PATH']}")


def test_the_canvas_csv_has_canvas_columns_points_possible_and_tells_missing_from_zero(tmp_path, alembic_on_path):
    from grader.engine import export
    grader = _gradebook_course(tmp_path / "course")
    lines = export.export(grader, tmp_path)
    with open(tmp_path / "grades_canvas.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    # Canvas's documented import columns, in order, then one column per chapter handed out
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "ch1", "ch2"]
    assert rows[1] == ["Points Possible", "", "", "", "", "5", "3"]
    by_login = {row[3]: dict(zip(rows[0], row)) for row in rows[2:]}
    assert set(by_login) == {"jane", "li", "bob"}
    jane, li, bob = by_login["jane"], by_login["li"], by_login["bob"]
    assert (jane["Student"], jane["ID"], jane["ch1"], jane["ch2"]) == ("Doe, Jr., Jane", "4711", "5", "0")
    assert (li["Student"], li["ch1"]) == ("li", "1.5")
    assert li["ch2"] == ""             # submitted, not graded yet: blank, not a zero
    assert bob["ch1"] == "" and bob["ch2"] == "0"  # could not be graded: blank; not submitted: 0
    assert "ch3" not in rows[0]        # never handed out: no column (Canvas would make an assignment)
    assert any("ch3" in line and "never handed out" in line for line in lines)

    with open(tmp_path / "grades_ungraded.csv", newline="", encoding="utf-8") as handle:
        ungraded = {(r["student"], r["assignment"]): r["reason"] for r in csv.DictReader(handle)}
    assert ungraded == {("bob", "ch1"): "could not be graded: nb.ipynb: NotJSONError: not JSON",
                        ("li", "ch2"): "not graded yet: run `make grade`"}
    with open(tmp_path / "grades.csv", newline="", encoding="utf-8") as handle:
        nbgrader_rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    assert tuple(next(iter(nbgrader_rows.values()))) == export.NBGRADER_COLUMNS
    assert nbgrader_rows[("jane", "ch1")]["last_name"] == "Doe, Jr."   # quoted, not split
    assert float(nbgrader_rows[("jane", "ch1")]["score"]) == 5 and float(nbgrader_rows[("li", "ch1")]["score"]) == 1.5
    assert float(nbgrader_rows[("li", "ch3")]["score"]) == 0  # nbgrader's convention, kept in its CSV


def test_nbgrader_export_uses_the_quoting_csv_plugin(tmp_path, alembic_on_path):
    grader = _gradebook_course(tmp_path / "course")
    shutil.copy(course.REPO / "nbgrader_config.py", grader.root)
    course.nbgrader("export", "--to", str(tmp_path / "out.csv"), cwd=grader.root)
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    assert rows[("jane", "ch1")]["first_name"] == "Jane" and float(rows[("jane", "ch1")]["score"]) == 5


# ------------------------------------------------------------------ 4 and 7. nbgrader's own routes

@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """Chapter 1 released with nbgrader into a scratch course (its gradebook holds the cells)."""
    root = tmp_path_factory.mktemp("released")
    shutil.copy(course.REPO / "nbgrader_config.py", root)
    shutil.copytree(course.REPO / "solutions" / CH1, root / "solutions" / CH1)
    # the release writes the Chinese notebook too, from the catalogs
    shutil.copytree(course.REPO / "locales", root / "locales", ignore=shutil.ignore_patterns("*.mo"))
    course.run([sys.executable, "-c", f"from book.release import generate; from pathlib import Path; "
                                      f"generate(Path({str(root)!r}), [{CH1!r}])"], cwd=course.REPO)
    return root


def _api(root):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def test_the_formgrader_autograde_button_does_not_run_student_code(released, tmp_path, alembic_on_path):
    """The formgrader's Autograde button posts to AutogradeHandler, which calls
    NbGraderAPI.autograde with the course's nbgrader_config.py: the student's code must not run."""
    import inspect

    from nbgrader.server_extensions.formgrader import apihandlers
    assert "self.api.autograde(assignment_id, student_id)" in inspect.getsource(apihandlers.AutogradeHandler.post)

    marker = tmp_path / "student-code-ran"
    notebook = course.read(released / "chapters" / CH1 / NOTEBOOK1)
    for cell in notebook.cells:
        if course.nbgrader_meta(cell).get("solution"):
            cell.source = f"open({str(marker)!r}, 'w').write('pwned')\n" + cell.source
    course.submit(released, "mallory", CH1, notebook)
    result = _api(released).autograde(CH1, "mallory")
    assert not result["success"]
    assert "make grade" in result["error"] + result["log"]
    assert not marker.exists()
    assert not (released / "autograded" / "mallory" / CH1).exists()


def test_plain_nbgrader_overwrite_cells_warned_on_every_honest_hidden_test_cell_ours_does_not(released, caplog,
                                                                                             alembic_on_path):
    """nbgrader records locked cells with their hidden tests and releases them without: its
    OverwriteCells reports the honest release as "checksum has changed!". Ours restores the hidden
    tests silently and still reports a locked cell that differs from the release."""
    from nbgrader.preprocessors import OverwriteCells as Plain

    from grader.engine.nbgrader_plugins import OverwriteCells
    from grader.engine.nbgrader_plugins import grade_id as gid_of
    release = course.read(released / "chapters" / CH1 / NOTEBOOK1)
    resources = {"nbgrader": {"notebook": NOTEBOOK1[:-len(".ipynb")], "assignment": CH1, "student": "x",
                              "db_url": f"sqlite:///{released / 'gradebook.db'}"}}
    hidden = [gid_of(c) for c in course.read(released / "solutions" / CH1 / NOTEBOOK1).cells
              if "BEGIN HIDDEN TESTS" in c.source]
    assert hidden

    def warnings_of(preprocessor, notebook):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            preprocessor.log.addHandler(caplog.handler)
            try:
                out, _ = preprocessor.preprocess(nbformat.from_dict(notebook), dict(resources))
            finally:
                preprocessor.log.removeHandler(caplog.handler)
        return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING], out

    plain, _ = warnings_of(Plain(), release)
    assert any("checksum" in w for w in plain)  # the cause, as nbgrader has it
    ours, graded = warnings_of(OverwriteCells(), release)
    assert ours == []
    restored = {gid_of(c): c.source for c in graded.cells}
    assert all("BEGIN HIDDEN TESTS" in restored[gid] for gid in hidden)

    tampered = nbformat.from_dict(release)
    cell = next(c for c in tampered.cells if gid_of(c) == hidden[0])
    cell.source = "pass  # my own test"
    ours, graded = warnings_of(OverwriteCells(), tampered)
    assert any("checksum" in w and hidden[0] in w for w in ours)
    assert "BEGIN HIDDEN TESTS" in next(c.source for c in graded.cells if gid_of(c) == hidden[0])


def test_feedback_preprocessors_raise_no_configuration_warning(caplog):
    """nbconvert's HTMLExporter configures NbConvertBase.display_data_priority, which nbgrader's
    ClearHiddenTests cannot take ("Config option ... not recognized"); the course's can."""
    from nbconvert.exporters import HTMLExporter
    from nbgrader.preprocessors import ClearHiddenTests as Plain

    from grader.engine.nbgrader_plugins import ClearHiddenTests

    def config_warnings(preprocessor):
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            HTMLExporter().register_preprocessor(preprocessor, enabled=True)
        return [r.getMessage() for r in caplog.records if "not recognized" in r.getMessage()]

    assert config_warnings(Plain)
    assert config_warnings(ClearHiddenTests) == []


# ------------------------------------------------------------------ the whole day, end to end

@pytest.mark.slow
def test_make_grade_from_a_fresh_clone_to_exported_grades(tmp_path):
    """README's instructor section as written: a fresh clone (its venv made), submissions collected,
    `make grade`; then `make grade` again the next day."""
    root = _fresh_clone(tmp_path / "clone")
    os.symlink(course.BIN.parent, root / ".venv")
    release = course.read(root / "chapters" / CH1 / NOTEBOOK1)
    answers = course.solution_sources(course.read(root / "solutions" / CH1 / NOTEBOOK1))
    course.submit(root, "complete", CH1, course.with_answers(release, answers))
    course.submit(root, "blank", CH1, release)
    course.submit(root, "broken", CH1, '{"cells": [')
    env = dict(os.environ, PATH="/usr/bin:/bin")
    for name in ("MAKEFLAGS", "MAKELEVEL"):  # as a newcomer runs it, not nested in `make test`
        env.pop(name, None)
    first = subprocess.run(["make", "grade", "GRADE_ARGS=--jobs 2"], cwd=root, env=env, capture_output=True, text=True)
    output = first.stdout + first.stderr
    assert first.returncode == 0, output
    assert "gradebook: set up" in output and CH1 in output
    assert not [line for line in _noise(output) if "could not grade broken" not in line], output
    assert "could not grade broken" in output
    for student in ("complete", "blank"):
        assert list((root / "feedback" / student / CH1).glob("*.html"))
    with open(root / "grades_canvas.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"] and rows[0][5:] == [CH1]
    scores = {row[3]: row[5] for row in rows[2:]}
    assert scores == {"complete": rows[1][5], "blank": "0", "broken": ""}
    assert "broken" in (root / "grades_ungraded.csv").read_text()
    assert (root / "grades.csv").is_file()
    for path in (root / "chapters").rglob("*.ipynb"):  # the gradebook was set up beside the release
        assert path.read_bytes() == (course.REPO / path.relative_to(root)).read_bytes(), path

    again = subprocess.run(["make", "grade"], cwd=root, env=env, capture_output=True, text=True)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output
    assert "this run graded 0 submissions; 1 could not be graded" in output and "set up" not in output
    assert f"{CH1}: 2 submissions graded so far (0 by this run)" in output


@pytest.mark.slow
def test_a_real_formgrader_refuses_to_autograde(released, tmp_path):
    """The same through the button's own route: a Jupyter server started in the course's folder
    (as the README says), a POST to the formgrader's autograde API."""
    import json
    import socket
    import time
    import urllib.request

    marker = tmp_path / "student-code-ran-in-the-server"
    notebook = course.read(released / "chapters" / CH1 / NOTEBOOK1)
    for cell in notebook.cells:
        if course.nbgrader_meta(cell).get("solution"):
            cell.source = f"open({str(marker)!r}, 'w').write('pwned')\n" + cell.source
    course.submit(released, "eve", CH1, notebook)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "formgrader-test"
    env = dict(os.environ, PATH=f"{course.BIN}{os.pathsep}{os.environ['PATH']}", JUPYTER_PLATFORM_DIRS="1")
    server = subprocess.Popen([str(course.BIN / "jupyter-server"), "--no-browser", f"--port={port}",
                               "--ip=127.0.0.1", f"--IdentityProvider.token={token}", "--allow-root"],
                              cwd=released, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(urllib.request.Request(f"{base}/api/status", headers=headers), timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("the Jupyter server did not start")
                time.sleep(0.5)
        request = urllib.request.Request(f"{base}/formgrader/api/submission/{CH1}/eve/autograde",
                                         data=b"", method="POST", headers=headers)
        reply = json.loads(urllib.request.urlopen(request, timeout=300).read())
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)
    assert reply["success"] is False
    assert "make grade" in reply.get("error", "") + reply.get("log", "")
    assert not marker.exists()
    assert not (released / "autograded" / "eve" / CH1).exists()
