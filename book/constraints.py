"""Re-pin every package of the course: ``python -m book.constraints`` (``make constraints``).

A ``pip freeze`` pins what the newest Python of one machine accepts: soupsieve 4 needs Python
3.11.5, so a freeze made with Python 3.11.7 did not install on Debian 12's 3.11.2. Instead, pip
resolves requirements.txt afresh for the oldest Python 3.11 (wheels only, honouring each release's
Requires-Python), and the result is then installed (``--dry-run``) into a new venv of every Python
3.11 found on this machine. constraints.txt is replaced only when every one of them succeeds, and
its header says which Pythons those were.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The pins must install on every Python 3.11.x, the range the README, pyproject.toml and
# book/check_python.py promise (tests/test_setup.py checks that they agree).
OLDEST_PYTHON = "3.11.0"
# Debian 12's own Python first: every user of the machine can run it.
CANDIDATES = ("/usr/bin/python3.11", "python3.11")
# pip warns about each of this machine's extra local indexes that lacks a package.
NOISE = re.compile(r"^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$", re.M)


def run(command, **kwargs):
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


def resolve(requirements, python_version=OLDEST_PYTHON):
    """{name: version} of every package that installing requirements pulls in, for that Python."""
    with tempfile.TemporaryDirectory(prefix="constraints-") as scratch:
        report = Path(scratch) / "report.json"
        # --target only because pip refuses --python-version without it; --dry-run installs nothing.
        done = run([sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
                    "--quiet", "--only-binary=:all:", "--python-version", python_version,
                    "--target", str(Path(scratch) / "unused"), "--report", str(report),
                    "-r", str(requirements)])
        if done.returncode != 0:
            raise SystemExit(f"error: pip could not resolve {requirements} for Python {python_version}:\n"
                             + NOISE.sub("", done.stdout + done.stderr).strip())
        installs = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in installs}


def interpreters(candidates=CANDIDATES):
    """[(version, executable)] of the candidate Pythons that exist here, each real one once."""
    # Not this venv's own python3.11 (make puts its bin/ first on PATH): the one it was made from.
    search = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                             if d and not Path(d).resolve().is_relative_to(Path(sys.prefix).resolve()))
    found = {}
    for candidate in candidates:
        path = shutil.which(candidate, path=search)
        if path is None:
            continue
        done = run([path, "-c", "import sys; print(sys.version.split()[0], sys.executable)"])
        if done.returncode == 0:
            version, executable = done.stdout.split(maxsplit=1)
            found.setdefault(os.path.realpath(executable.strip()), (version, path))
    return list(found.values())


def check(python, requirements, constraints):
    """Fail, with pip's own explanation, unless the pins install into a new venv of python."""
    with tempfile.TemporaryDirectory(prefix="constraints-venv-") as venv:
        made = run([python, "-m", "venv", venv])
        if made.returncode != 0:
            raise SystemExit(f"error: {python} could not make a venv:\n{made.stderr.strip()}")
        done = run([str(Path(venv) / "bin" / "python"), "-m", "pip", "install", "--dry-run", "--quiet",
                    "-r", str(requirements), "-c", str(constraints)])
        if done.returncode != 0:
            raise SystemExit(f"error: the new pins do not install with {python}; "
                             f"constraints.txt is unchanged:\n" + NOISE.sub("", done.stdout + done.stderr).strip())


def render(pins, checked):
    lines = ["# Every package of the course's virtual environment, pinned. Made by `make constraints`",
             f"# (book/constraints.py): requirements.txt resolved for Python {OLDEST_PYTHON} and newer, then",
             "# installed (pip install --dry-run) into a new venv of each of:"]
    lines += [f"#   Python {version} ({python})" for version, python in checked]
    lines += [f"{name}=={version}" for name, version in sorted(pins.items(), key=lambda pin: pin[0].lower())]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requirements", type=Path, default=REPO / "requirements.txt")
    parser.add_argument("--output", type=Path, default=REPO / "constraints.txt")
    args = parser.parse_args(argv)
    pythons = interpreters()
    if not pythons:
        raise SystemExit(f"error: none of {', '.join(CANDIDATES)} is here to check the pins with")
    pins = resolve(args.requirements)
    with tempfile.TemporaryDirectory(prefix="constraints-") as scratch:
        candidate = Path(scratch) / "constraints.txt"
        candidate.write_text(render(pins, pythons))
        for version, python in pythons:
            print(f"checking the new pins with Python {version} ({python})", flush=True)
            check(python, args.requirements, candidate)
        shutil.copyfile(candidate, args.output)
    print(f"{len(pins)} packages pinned in {args.output}")


if __name__ == "__main__":
    main()
