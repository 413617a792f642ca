"""What the engine asks of a course: an object, named in ``nbgrader_config.py`` as
``c.FastGrader.course = "package.module"`` (the module's ``COURSE``), with:

In the instructor's process:
    environment() -> {name: value}            variables the grading workers start with
    graded_check(source) -> check id | None   the check a graded cell runs (None: not one the
                                                engine can run; grade with plain nbgrader)
    passed_text(check_id) -> str              the cell's output when the check passes
    description(check_id) -> str              (optional) what the check checks, for the feedback
                                                page of a notebook not in English
    case_seed(student, assignment, check_id, secret) -> int
    secret(root) -> str                       the course's secret (part of every case seed)
    private_paths(root) -> [path]             what students' code must never read
    options(config) -> dict                   the instructor's choices the workers need (plain
                                                data; ValueError says what is wrong)
In a grading worker (trusted), before any sandbox is forked:
    prepare_worker(options), warm_up()
    prepare_language(language)                (optional) before the sandboxes of notebooks in a
                                                language other than English
    cases(check_id, seed) -> [case]           a case has .text (how feedback names it) and
                                                .inputs (plain data for the student's side)
    call_seed(check_id, index, student, assignment) -> int
    judge(check_id, cases, call) -> problem | None
                                              ``call(index, case)`` returns the student's side's
                                              ("result", data) or ("problem", message)
In the student's sandbox:
    student_side(check_id, namespace, text, inputs, seed) -> ("result", data) | ("problem", message)
    checks                                     {check_id: check}, a check with .exercise (the
                                                name the student defines)

Language: whatever the course says to the student (passed_text, cases' texts, problems) it says
in the language of ``COURSE_LANGUAGE`` in the environment, which the engine sets to the notebook's
(metadata ``course.language``) while it works for one submission, in every process (i18n.py).
"""
import importlib


class CourseNotFound(Exception):
    """nbgrader_config.py names no course, or one that cannot be imported."""


def configured_name(root):
    """The course's module named in ``root``/nbgrader_config.py (read without nbgrader, so the
    workers can start warming it up at once), or None."""
    import os

    from traitlets.config.loader import PyFileConfigLoader
    if not os.path.isfile(os.path.join(root, "nbgrader_config.py")):
        return None
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    section = config.FastGrader if "FastGrader" in config else {}
    return section.get("course") if "course" in section else None


def load(name):
    """The course object of the module ``name`` (its ``COURSE``)."""
    if not name:
        raise CourseNotFound("nbgrader_config.py must name the course's grading content, e.g. "
                             "c.FastGrader.course = 'grader.course'")
    try:
        return importlib.import_module(name).COURSE
    except (ImportError, AttributeError) as error:
        raise CourseNotFound(f"the course {name!r} named in nbgrader_config.py cannot be loaded: {error}") from None
