"""The grading engine: grades a whole class of nbgrader submissions fast and safely.

It knows nothing about what is graded. A course registers its checks through an object that
``nbgrader_config.py`` names (``c.FastGrader.course``; see course.py here for what it must
offer): the engine makes the jobs, runs students' code in sandboxes (sandbox.py, isolation.py),
asks the course for each check's cases, the student's side and the verdict, and records the
scores in nbgrader's gradebook (autograde.py). Around it, the instructor's day (day.py: the
gradebook set up, the feedback written) and the grades exported, for Canvas too (export.py).
"""
