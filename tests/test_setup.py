"""Set-up: a Python that MXNet 1.9.1 cannot run on gets a clear message, not a traceback; the pins
install on Debian 12's own Python."""
import re
import runpy
import subprocess
import sys
from pathlib import Path

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


def pins(path):
    """{normalized name: version} of a requirements or constraints file."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


def test_every_direct_dependency_is_pinned_alike_in_the_constraints():
    required, constrained = pins(course.REPO / "requirements.txt"), pins(course.REPO / "constraints.txt")
    assert {name: constrained.get(name) for name in required} == required


SYSTEM_PYTHON = Path("/usr/bin/python3.11")


@pytest.mark.slow
@pytest.mark.skipif(not SYSTEM_PYTHON.exists(), reason="no /usr/bin/python3.11 (Debian 12's Python) on this machine")
def test_the_pins_install_with_debians_python(tmp_path):
    """A freeze made with Python 3.11.7 once pinned soupsieve 4, which needs Python 3.11.5."""
    venv = tmp_path / "venv"
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--dry-run",
                           "-r", "requirements.txt", "-c", "constraints.txt"],
                          cwd=course.REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Would install" in done.stdout and "mxnet-1.9.1" in done.stdout
