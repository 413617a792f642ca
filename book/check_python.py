"""Stop early, with a clear message, on a Python that MXNet 1.9.1 cannot run on.

Kept to syntax that every Python 3 parses, since it runs before anything is installed.
"""
import sys

SUPPORTED = ((3, 8), (3, 11))

if not SUPPORTED[0] <= sys.version_info[:2] <= SUPPORTED[1]:
    sys.stderr.write(
        "error: this course needs Python 3.8 to 3.11, but %s is Python %d.%d.\n"
        "MXNet 1.9.1 only imports with numpy < 1.24, and numpy 1.23.5 has no wheels for Python 3.12 or newer.\n"
        "Install Python 3.11 and run: make book PYTHON=/path/to/python3.11\n"
        % (sys.executable, sys.version_info[0], sys.version_info[1]))
    sys.exit(1)
