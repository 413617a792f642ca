"""What the test cells of the course's notebooks call: ``check("corr2d.values", corr2d)``.

Runs one graded check in the notebook's own kernel (the route of plain ``nbgrader autograde``)
and raises ``GradingFailure`` with a plain-words message when the answer is wrong. The
failure shows only that message: no frames of this package, no hidden inputs, no reference code.
"""
import os
import traceback
from contextlib import contextmanager
from pathlib import Path

from .checks import CHECKS, make_cases
from .compare import AnswerError


class GradingFailure(AssertionError):
    """A graded check failed; the message says what was wrong, on what input."""

    def _render_traceback_(self):
        # IPython shows what this returns instead of a traceback, in the notebook and in
        # nbgrader's feedback alike.
        return [f"GradingFailure: {line}" if n == 0 else line for n, line in enumerate(str(self).splitlines())]


def submission_identity(directory=None):
    """(student, assignment) of the notebook being run.

    nbgrader runs a notebook inside ``<step>/<student>/<assignment>/``; the course's grader does
    the same and also sets these variables. Solutions run as student ``solutions``.
    """
    directory = Path(directory or os.getcwd())
    return (os.environ.get("CNN_COURSE_STUDENT", directory.parent.name),
            os.environ.get("CNN_COURSE_ASSIGNMENT", directory.name))


def describe_exception(error, exercise):
    """``your corr2d raised ValueError: ...``, with the lines of the student's own code involved."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith(str(Path(__file__).parent))]
    where = "".join(f"\n  line {f.lineno} of your code: {f.line}" for f in frames[-3:] if f.line)
    name = type(error).__name__
    if isinstance(error, NotImplementedError):
        return f"your {exercise} is still the stub (it raised NotImplementedError): replace it with your code"
    return f"your {exercise} raised {name}: {error}{where}"


@contextmanager
def isolated(answer, names):
    """While grading ``answer``, the other exercises it may call are the reference's."""
    namespace = getattr(answer, "__globals__", None)
    if not names or not isinstance(namespace, dict):
        yield
        return
    from . import reference
    saved = {name: namespace[name] for name in names if name in namespace}
    namespace.update({name: getattr(reference, name) for name in names})
    try:
        yield
    finally:
        for name in names:
            namespace.pop(name, None)
        namespace.update(saved)


def run_check(check, answer, cases):
    """Problem message of the first failing case, or None."""
    for case in cases:
        try:
            with isolated(answer, check.isolate):
                result = check.run(answer, case)
        except AnswerError as error:
            return f"for {case.text} {error}"
        except Exception as error:  # the student's code failed: say how, and go no further
            return f"for {case.text} {describe_exception(error, check.exercise)}"
        problem = check.judge(result, case)
        if problem:
            return problem
    return None


def check(check_id, answer):
    """Grade ``answer`` (the student's function or class) on the check named ``check_id``."""
    check = CHECKS[check_id]
    student, assignment = submission_identity()
    problem = run_check(check, answer, make_cases(check, student, assignment))
    if problem:
        raise GradingFailure(problem) from None
    print(f"{check_id}: passed ({check.summary})")
