"""``python -m grader autograde ...``: the grading engine's command line (grader/engine/cli.py),
for this course (nbgrader_config.py names its grading content: c.FastGrader.course)."""
import sys

from .engine.cli import main

if __name__ == "__main__":
    sys.exit(main())
