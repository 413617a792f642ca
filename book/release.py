"""Generate the student notebooks in chapters/ from the instructor's sources in solutions/.

Runs nbgrader's own ``generate_assignment`` for every chapter, with the project's
nbgrader_config.py (solutions/ -> chapters/), then drops the cells tagged ``answer`` (the answers
to the questions to think about), which only the instructor's site shows.
``python -m book.release [--root DIR]``.
"""
import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# A cell with this tag is for the instructor only: it stays in solutions/ and leaves chapters/.
ANSWER_TAG = "answer"


def assignments(root=REPO):
    """The chapters: every folder of solutions/ that holds a notebook, in order."""
    return sorted(p.name for p in (root / "solutions").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(root=REPO, names=None):
    """Run nbgrader's generate_assignment for each chapter, in this one process (nbgrader takes
    seconds to import, so one process for all chapters is several times faster than the CLI)."""
    # nbgrader runs `alembic` from PATH: put this Python's bin/ first.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.Application.log_level = "WARN"
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for name in names or assignments(root):
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise SystemExit(f"generate_assignment {name} failed:\n{result['log']}\n{result.get('error', '')}")
        for notebook in sorted((root / "chapters" / name).glob("*.ipynb")):
            drop_answers(notebook)
        print(f"released {name}")


def drop_answers(path):
    """Remove the cells tagged ANSWER_TAG from the notebook at ``path`` (rewritten only if it had any).
    nbgrader does not know these cells (they are neither graded nor locked), so its gradebook and
    checksums stay valid."""
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    kept = [cell for cell in notebook.cells if ANSWER_TAG not in cell.get("metadata", {}).get("tags", [])]
    if len(kept) != len(notebook.cells):
        notebook.cells = kept
        nbformat.write(notebook, str(path))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="course root holding nbgrader_config.py")
    generate(parser.parse_args().root)
