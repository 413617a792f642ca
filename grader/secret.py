"""The course's grading secret: part of every seed of the hidden tests' random inputs.

Without it, anyone could recompute a student's cases from the public seeding scheme (and, say,
read train_kernel's true kernel off them). It lives in ``<course root>/.grader_secret``, made on
first use; both grading routes read the same file, so a submission is graded on the same inputs
however it is graded. The sandbox hides the file from students' code.
"""
import os
import secrets
from pathlib import Path

SECRET_FILE = ".grader_secret"


def course_root(start=None):
    """The folder holding nbgrader_config.py, from ``start`` (default: the working directory) up."""
    here = Path(start or os.getcwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / "nbgrader_config.py").is_file()), None)


def load(root):
    """The secret of the course at ``root``; "" where there is no course (a student's own copy)."""
    if root is None:
        return ""
    path = Path(root) / SECRET_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return ""  # a read-only copy of the course: only the visible examples run there
    else:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
    return path.read_text().strip()
