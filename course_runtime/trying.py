"""``try_it(corr2d, X, K)``: the ungraded cell after each exercise, which calls the student's
answer on the chapter's example and shows what it returns.

It never stops the notebook: before the exercise is written (the stub raises
NotImplementedError) it says so, and an answer that raises gets the one-sentence description the
checks give (``your corr2d raised ValueError: ...``), so that *Run All* goes on to the graded cells.
"""
from .i18n import translator
from .messages import describe_exception

_ = translator("course_runtime")


def try_it(answer, *args, name=None, **kwargs):
    """``answer(*args, **kwargs)``, or None after printing why there is no result. ``name``: what
    to call the answer in messages (default: its ``__name__``)."""
    name = name or getattr(answer, "__name__", None) or _("your answer")
    try:
        return answer(*args, **kwargs)
    except NotImplementedError:
        print(_("{name} is not written yet: replace the stub in the exercise's cell with your code, "
                "run that cell, then this one.").format(name=name))
    except Exception as error:  # a student's bug: described, so that the notebook runs on
        print(describe_exception(error, name))
    return None
