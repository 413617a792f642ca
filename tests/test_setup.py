"""Set-up: a Python that MXNet 1.9.1 cannot run on gets a clear message, not a traceback; every
claim of the supported Pythons agrees with what the pins are resolved for; the pins install on
Debian 12's own Python (3.11.2)."""
import re
import runpy
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from tests import course

CHECK = str(course.REPO / "book" / "check_python.py")


@pytest.mark.parametrize("version", [(3, 12, 1), (3, 13, 0), (3, 10, 12), (3, 8, 18), (3, 7, 9)])
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


def _promised_range():
    """The Pythons book/check_python.py accepts, as a specifier set (>=3.11,<3.12)."""
    (low_major, low_minor), (high_major, high_minor) = runpy.run_path(CHECK)["SUPPORTED"]  # run by a 3.11
    return SpecifierSet(f">={low_major}.{low_minor},<{high_major}.{high_minor + 1}")


def test_every_claim_of_the_supported_pythons_agrees():
    """The READMEs, the site, both pyproject.toml and check_python.py promise the Pythons the pins
    are resolved for (book/constraints.py) and no other: Python 3.11."""
    from book import constraints

    promised = _promised_range()
    assert promised == SpecifierSet(">=3.11,<3.12")
    assert constraints.OLDEST_PYTHON in promised and constraints.OLDEST_PYTHON.startswith("3.11.")
    for project in ("pyproject.toml", "book/student/pyproject.toml"):
        declared = tomllib.loads((course.REPO / project).read_text())["project"]["requires-python"]
        assert SpecifierSet(declared) == promised, project
    for doc in ("README.md", "book/student/README.md", "intro.md"):
        text = " ".join((course.REPO / doc).read_text("utf8").split())
        assert re.search(r"with Python 3\.11 \(|need Python 3\.11 \(", text), f"{doc} does not say Python 3.11"
        ranges = re.findall(r"Python (3\.\d+) (?:to|-|–) (3\.\d+)", text)
        assert ranges == [], f"{doc} promises {ranges}"


def test_every_pin_admits_the_oldest_and_newest_promised_python():
    """Each pinned package's Requires-Python (read from this environment, made from the pins)
    admits Python 3.11.0 and the newest 3.11: a freeze of one machine's Python would not."""
    promised = _promised_range()
    oldest, newest = "3.11.0", "3.11.99"
    assert oldest in promised and newest in promised
    refused = []
    for name, version in pins(course.REPO / "constraints.txt").items():
        dist = metadata.distribution(name)
        assert dist.version == version, f"{name} {dist.version} is installed, {version} pinned: run make venv"
        requires = dist.metadata.get("Requires-Python")
        if requires and not (SpecifierSet(requires).contains(oldest) and SpecifierSet(requires).contains(newest)):
            refused.append(f"{name}=={version} requires Python {requires}")
    assert refused == [], "pins that some promised Python cannot install:\n" + "\n".join(refused)


SYSTEM_PYTHON = Path("/usr/bin/python3.11")


@pytest.mark.slow
def test_the_pins_install_with_debians_python(tmp_path):
    """A freeze made with Python 3.11.7 once pinned soupsieve 4, which needs Python 3.11.5."""
    if not SYSTEM_PYTHON.exists():
        pytest.fail(f"{SYSTEM_PYTHON} (Debian 12's Python 3.11.2) is missing; as root: "
                    "apt-get install -y python3.11-venv")
    version = subprocess.run([str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version in _promised_range(), f"{SYSTEM_PYTHON} is Python {version}"
    venv = tmp_path / "venv"
    subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--dry-run",
                           "-r", "requirements.txt", "-c", "constraints.txt"],
                          cwd=course.REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Would install" in done.stdout and "mxnet-1.9.1" in done.stdout
