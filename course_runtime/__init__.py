"""The student runtime of the CNN course: what a chapter notebook imports, nothing of the grader's.

* ``from course_runtime import check``: the graded cells' ``check("corr2d.example", corr2d)``
  (course_runtime/checking.py);
* ``course_runtime.given``: the working earlier exercises a chapter gives in a locked cell;
* ``course_runtime.figures``: the figures the chapters draw.
"""
from .checking import check

__all__ = ["check"]
