"""Generate the student notebooks in chapters/ from the instructor's sources in solutions/.

Runs nbgrader's own ``generate_assignment`` for every chapter, with the project's
nbgrader_config.py (solutions/ -> chapters/), then drops the cells tagged ``instructor-answer``
(the answers to the questions to think about, for the instructor's site only) from the student
notebooks. Then writes the Chinese student notebooks, chapters_zh/, from chapters/ and the Chinese
site's catalogs (book/zh/notebooks.py). ``python -m book.release [--root DIR]``.
"""
import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
INSTRUCTOR_ONLY = "instructor-answer"   # the cell tag of what students must not get


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
    names = names or assignments(root)
    for name in names:
        result = api.generate_assignment(name, force=True)
        if not result["success"]:
            raise SystemExit(f"generate_assignment {name} failed:\n{result['log']}\n{result.get('error', '')}")
        for notebook in sorted((root / "chapters" / name).glob("*.ipynb")):
            drop_instructor_cells(notebook)
        print(f"released {name}")
    from book.zh import notebooks as chinese
    chinese.release(root, names)


def drop_instructor_cells(path):
    """Remove the cells tagged ``instructor-answer`` from the notebook at ``path``, in place. They
    carry no nbgrader metadata, so the gradebook and the graded layout are unchanged."""
    import nbformat
    notebook = nbformat.read(str(path), as_version=4)
    dropped = [INSTRUCTOR_ONLY in c.get("metadata", {}).get("tags", []) for c in notebook.cells]
    if any(c.get("metadata", {}).get("nbgrader") for c, drop in zip(notebook.cells, dropped) if drop):
        raise SystemExit(f"{path}: a cell tagged {INSTRUCTOR_ONLY} is an nbgrader cell; tag only prose")
    if any(dropped):
        notebook.cells = [c for c, drop in zip(notebook.cells, dropped) if not drop]
        nbformat.write(notebook, str(path))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="course root holding nbgrader_config.py")
    generate(parser.parse_args().root)
