"""Set-up: a Python that MXNet 1.9.1 cannot run on gets a clear message, not a traceback."""
import runpy
import sys

import pytest

from tests import course

CHECK = str(course.REPO / "book" / "check_python.py")


@pytest.mark.parametrize("version", [(3, 12, 1), (3, 13, 0), (3, 7, 9)])
def test_an_unsupported_python_is_refused_with_a_clear_message(version, monkeypatch, capsys):
    monkeypatch.setattr(sys, "version_info", version)
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(CHECK)
    assert stopped.value.code == 1
    message = capsys.readouterr().err
    assert f"Python {version[0]}.{version[1]}" in message and "MXNet 1.9.1" in message
    assert "PYTHON=/path/to/python3.11" in message and "Traceback" not in message


def test_this_python_is_accepted():
    assert course.run([sys.executable, CHECK], cwd=course.REPO).returncode == 0
