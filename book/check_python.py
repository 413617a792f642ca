"""Stop early, with a clear message, on a Python that MXNet 1.9.1 cannot run on.

Kept to syntax that every Python 3 parses, since it runs before anything is installed.
"""
import sys

# The pins of constraints.txt are resolved and installed for Python 3.11 (book/constraints.py):
# matplotlib 3.10 needs 3.10, numpy 1.23.5 has no wheels for 3.12.
SUPPORTED = ((3, 11), (3, 11))

if not SUPPORTED[0] <= sys.version_info[:2] <= SUPPORTED[1]:
    sys.stderr.write(
        "error: this course needs Python 3.11, but %s is Python %d.%d.\n"
        "MXNet 1.9.1 only imports with numpy < 1.24, and numpy 1.23.5 has no wheels for Python 3.12 or newer;\n"
        "the pinned packages (constraints.txt) are resolved and tested for Python 3.11.\n"
        "Install Python 3.11 and run: make book PYTHON=/path/to/python3.11\n"
        % (sys.executable, sys.version_info[0], sys.version_info[1]))
    sys.exit(1)
