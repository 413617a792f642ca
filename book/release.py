"""Generate the student notebooks in chapters/ from the instructor's sources in solutions/.

Runs nbgrader's own ``generate_assignment`` for every chapter, with the project's
nbgrader_config.py (solutions/ -> chapters/). ``python -m book.release [--root DIR]``.
"""
import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def assignments(root=REPO):
    """The chapters: every folder of solutions/ that holds a notebook, in order."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(root=REPO):
    env = dict(os.environ)
    # nbgrader calls `alembic` from PATH: put this Python's bin/ first.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    for name in assignments(root):
        subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force",
                        "--log-level=WARN"], cwd=root, env=env, check=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="course root holding nbgrader_config.py")
    generate(parser.parse_args().root)
