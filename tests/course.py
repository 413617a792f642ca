"""Helpers for tests that run nbgrader on a throwaway copy of the course."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from grader.checks import check_ids_in

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOLUTION_BLOCK = re.compile(r"^[ \t]*### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION\n?", re.S | re.M)


def chapters():
    """{assignment: notebook file name} for every chapter of the course."""
    return {p.parent.name: p.name for p in sorted(REPO.glob("solutions/*/*.ipynb"))}


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def graded_cells(notebook):
    """{grade_id: points} of the graded cells of a notebook, in order."""
    return {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
            for c in notebook.cells if nbgrader_meta(c).get("grade")}


def check_ids(cell):
    return check_ids_in(cell.source)


def solution_sources(notebook):
    """{grade_id: the instructor's answer without the solution markers} of a solution notebook."""
    return {nbgrader_meta(c)["grade_id"]: re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION\n", "", c.source + "\n", flags=re.M)
            for c in notebook.cells if nbgrader_meta(c).get("solution")}


def solution_lines(notebook):
    """The distinctive lines of the instructor's answers: inside solution blocks, not comments,
    not short statements (`return Y` could be anywhere), not lines the chapter shows anyway
    (a worked example may well use `with autograd.record():`)."""
    lines, shown = set(), set()
    for cell in notebook.cells:
        blocks = SOLUTION_BLOCK.findall(cell.source)
        for block in blocks:
            lines.update(line.strip() for line in block.splitlines()
                         if len(line.strip()) >= 16 and not line.strip().startswith("#"))
        shown.update(line.strip() for line in SOLUTION_BLOCK.sub("", cell.source).splitlines())
    return lines - shown


def read(path):
    return nbformat.read(str(path), as_version=4)


def run(args, cwd, check=True):
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONWARNINGS="ignore::DeprecationWarning")
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def nbgrader(*args, cwd, check=True):
    # Plain nbgrader autograde runs students' code unsandboxed, so the course turns it off
    # (GuardedExecute); the tests' made-up submissions are trusted and graded with it as a reference.
    trusted = ["--GuardedExecute.allow_unsandboxed=True"] if args[:1] == ("autograde",) else []
    return run([str(BIN / "nbgrader"), *args, *trusted, "--log-level=WARN"], cwd=cwd, check=check)


def make_course(root):
    """A copy of the course's sources and configuration in ``root``, released with nbgrader (in
    English, chapters/, and in Chinese, chapters_zh/, from the catalogs of locales/)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", root)
    shutil.copytree(REPO / "solutions", root / "solutions")
    shutil.copytree(REPO / "locales", root / "locales", ignore=shutil.ignore_patterns("*.mo"))
    run([sys.executable, "-m", "book.release", "--root", str(root)], cwd=REPO)
    return root


def submit(root, student, assignment, notebook):
    """Place a notebook (a NotebookNode, or raw text for a broken file) where nbgrader collects it."""
    folder = Path(root) / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    name = chapters()[assignment]
    if isinstance(notebook, str):
        (folder / name).write_text(notebook)
    else:
        nbformat.write(notebook, str(folder / name))


def with_answers(release, answers):
    """The released notebook with some solution cells replaced: {grade_id: source}."""
    notebook = json.loads(json.dumps(release))  # a deep copy that stays a plain structure
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return notebook


def read_grades(csv_path):
    """{(student, assignment): (score, max_score)} from nbgrader's CSV export."""
    import csv
    with open(csv_path) as f:
        return {(row["student_id"], row["assignment"]): (float(row["score"]), float(row["max_score"]))
                for row in csv.DictReader(f)}


def cell_scores(root, student, assignment):
    """{grade_id: (score, max)} for one autograded submission, read from nbgrader's gradebook."""
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(assignment, student)
        return {grade.name: (grade.score, grade.max_score)
                for notebook in submission.notebooks for grade in notebook.grades}
