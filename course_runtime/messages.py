"""How a failed check is shown in the notebook, on every route (the visible checks of the
student's edition and the instructor's hidden ones): one sentence, no traceback of the checker."""
import sys
import sysconfig
import traceback
from pathlib import Path

from .i18n import translator

_ = translator("course_runtime")

# Frames of these folders are not the student's code (this runtime, the standard library, MXNet).
LIBRARY_FOLDERS = tuple({str(Path(__file__).parent), sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"]})


class GradingFailure(AssertionError):
    """A check failed; the message says what was wrong, on what input."""

    def _render_traceback_(self):
        # IPython shows what this returns instead of a traceback, in the notebook and in
        # nbgrader's feedback alike.
        return [f"GradingFailure: {line}" if n == 0 else line for n, line in enumerate(str(self).splitlines())]


def _short_message(error):
    """The useful line of an exception: MXNet's errors carry a C++ backtrace, keep its last reason."""
    text = str(error)
    if "Check failed" in text or "MXNetError" in text:
        reasons = [line.strip() for line in text.splitlines() if "Check failed" in line or "Error:" in line]
        text = reasons[-1] if reasons else text.strip().splitlines()[-1]
    return text if len(text) <= 300 else text[:300] + " ..."


def describe_exception(error, exercise, library_folders=()):
    """``your corr2d raised ValueError: ...``, with the lines of the student's own code involved.
    Frames in ``library_folders`` (besides LIBRARY_FOLDERS) are the checker's, not shown."""
    if isinstance(error, NotImplementedError):
        return _("your {exercise} is still the stub (it raised NotImplementedError): replace it with your "
                 "code").format(exercise=exercise)
    skipped = LIBRARY_FOLDERS + tuple(library_folders)
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not f.filename.startswith(skipped) and "site-packages" not in f.filename]
    where = "".join("\n  " + _("line {number} of your code: {line}").format(number=f.lineno, line=f.line)
                    for f in frames[-3:] if f.line)
    return _("your {exercise} raised {error}: {message}").format(
        exercise=exercise, error=type(error).__name__, message=_short_message(error)) + where
