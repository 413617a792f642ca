"""The student runtime of the CNN course: what a chapter notebook imports, nothing of the grader's.

* ``from course_runtime import check``: the graded cells' ``check("corr2d.example", corr2d)``
  (course_runtime/checking.py);
* ``from course_runtime import try_it``: the ungraded cell after each exercise, which runs the
  student's answer on the chapter's example without ever stopping the notebook
  (course_runtime/trying.py);
* ``course_runtime.given``: the working earlier exercises a chapter gives in a locked cell;
* ``course_runtime.figures``: the figures the chapters draw.
"""
from .checking import check
from .trying import try_it

__all__ = ["check", "try_it"]
