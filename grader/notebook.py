"""What the test cells of the course's notebooks call: ``check("corr2d.values", corr2d)``.

Runs one graded check in the notebook's own kernel (the route of plain ``nbgrader autograde``)
and raises ``GradingFailure`` with a plain-words message when the answer is wrong. The
failure shows only that message: no frames of this package, no hidden inputs, no reference code.
"""
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from course_runtime import messages
from course_runtime.i18n import translator
from course_runtime.messages import GradingFailure

from . import LOCALE, rules, secret
from .checks import CHECKS, case_seed, make_cases
from .compare import AnswerError


_ = translator("grader", LOCALE)


def submission_identity(directory=None):
    """(student, assignment) of the notebook being run: nbgrader runs it inside
    ``autograded/<student>/<assignment>/`` (python -m grader autograde passes them in its jobs).
    The instructor's solutions run as student ``solutions``."""
    directory = Path(directory or os.getcwd())
    return directory.parent.name, directory.name


# The grader's own frames are not the student's code either.
_GRADER_FOLDER = (str(Path(__file__).parent),)


def describe_exception(error, exercise):
    """``your corr2d raised ValueError: ...``, with the lines of the student's own code involved."""
    return messages.describe_exception(error, exercise, _GRADER_FOLDER)


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


def seed_random_generators(seed, mxnet=True):
    """The random state the student's code starts a case with: the same on every route, so a
    submission that uses random numbers (train_kernel's initial kernel) is graded the same.
    MXNet's generator only if ``mxnet`` (see Check.mxnet_random)."""
    import random

    import numpy as np
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if mxnet:
        import mxnet as mx
        mx.random.seed(seed % 2**31)


def call_seed(check, case_index, student, assignment):
    return case_seed(student, assignment, f"{check.id}#{case_index}")


def call_student(check, answer, case):
    """The student's side of one case: ("result", plain data) or ("problem", message). The
    exercise's rule (grader/rules.py) is enforced while the answer runs; breaking it is the
    problem, whatever the answer did with the error it got."""
    enforcement = rules.Enforcement(rules.rule_for(check.exercise), check.isolate, answer)
    try:
        with isolated(answer, check.isolate), enforcement:
            outcome = "result", check.run(answer, case)
    except AnswerError as error:
        outcome = "problem", _("for {case} {problem}").format(case=case.text, problem=error)
    except BaseException as error:  # SystemExit too: the student's code failed, say how
        outcome = "problem", _("for {case} {problem}").format(case=case.text,
                                                             problem=describe_exception(error, check.exercise))
    broken = enforcement.broken(returned=outcome[0] == "result")
    return ("problem", broken) if broken else outcome


def judge_cases(check, cases, call):
    """The trusted side: ``call(index, case)`` gets the student's result. Every case is judged, so
    that a hint is given only when its mistake explains every failing one (Check.explain); the
    message is the first failure's, or None when all pass. A case that raised, hung or crashed
    ends the calls: no hint explains it, and the cases after it could only cost time."""
    failures = []
    for index, case in enumerate(cases):
        kind, value = call(index, case)
        if kind == "problem":
            failures.append((case, None, value))
            break
        try:
            problem = check.judge(value, case)
        except Exception:  # results come from the student's process: any malformed one is wrong
            problem, value = _("for {case} your {exercise} returned an answer of the wrong form").format(
                case=case.text, exercise=check.exercise), None
        if problem:
            failures.append((case, value, problem))
    return check.explain(failures) if failures else None


def run_check(check, answer, cases, student="", assignment=""):
    """Problem message of the first failing case, or None (student's code in this process)."""
    def call(index, case):
        seed_random_generators(call_seed(check, index, student, assignment), check.mxnet_random)
        return call_student(check, answer, case)
    return judge_cases(check, cases, call)


def check(check_id, answer):
    """Grade ``answer`` (the student's function or class) on the check named ``check_id``."""
    check = CHECKS[check_id]
    root = secret.course_root()
    rules.load_disabled(root)
    student, assignment = submission_identity()
    cases = make_cases(check, student, assignment, secret.load(root))
    problem = run_check(check, answer, cases, student, assignment)
    if problem:
        raise GradingFailure(problem) from None
    print(check.passed_text())


if "mxnet" in sys.modules:
    # A chapter's set-up cell imports MXNet, then this module: wrap MXNet's routes to its
    # operators now, before any answer cell runs (grader/guard.py; call_student does it otherwise).
    from . import guard
    guard.install()
