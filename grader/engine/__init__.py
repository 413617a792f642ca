"""The grading engine: grades a whole class of nbgrader submissions fast and safely.

It knows nothing about what is graded. A course registers its checks through an object that
``nbgrader_config.py`` names (``c.FastGrader.course``; see course.py here for what it must
offer): the engine makes the jobs, runs students' code in sandboxes (sandbox.py, isolation.py),
asks the course for each check's cases, the student's side and the verdict, and records the
scores in nbgrader's gradebook (autograde.py). Around it, the instructor's day (day.py: the
gradebook set up, the feedback written) and the grades exported, for Canvas too (export.py).
"""
from pathlib import Path

# The catalogs of what students read from the engine (a cell stopped, output cut, the feedback
# page's words): domain "engine", in the notebook's language (course_runtime/i18n.py).
LOCALE = Path(__file__).with_name("locale")
