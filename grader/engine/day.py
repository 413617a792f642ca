"""The instructor's day around ``python -m grader autograde``: ``python -m grader grade`` (``make grade``)
sets up the gradebook for chapters it lacks, grades, writes the feedback and exports the grades.
Only nbgrader's own commands and folders: it knows no course."""
import filecmp
import json
import os
import tempfile
from pathlib import Path

from .printable import printable


def _api(grader, **settings):
    """nbgrader's API on the course's configuration, logging only what goes wrong."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    config = grader.config.copy()
    for name, value in settings.items():
        setattr(config.CourseDirectory, name, value)
    config.Application.log_level = "WARN"
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def chapters_in_source(grader):
    source = Path(grader.coursedir.format_path(grader.coursedir.source_directory, ".", "."))
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))) \
        if source.is_dir() else []


def set_up_gradebook(grader, log):
    """Record in the gradebook every chapter of the source folder it lacks, as nbgrader's
    ``generate_assignment`` does, without touching the release folder (the students' notebooks,
    which are committed): the release is made aside and compared with it. Returns the chapters
    set up. A GradingError (autograde.py) when there is no chapter at all."""
    from .autograde import GradingError
    chapters = chapters_in_source(grader)
    known = set(grader.assignments())
    missing = [name for name in chapters if name not in known]
    if not chapters and not known:
        source = grader.coursedir.source_directory
        raise GradingError(f"no chapter in {source}/ and none in the gradebook: put the instructor's notebooks "
                           f"in {source}/<chapter>/ (then `make release`)")
    if not missing:
        return []
    with tempfile.TemporaryDirectory(prefix="release-") as aside:
        api = _api(grader, release_directory=aside)
        for name in missing:
            result = api.generate_assignment(name, force=True)
            if not result["success"]:
                raise GradingError(f"could not set up {name} in the gradebook (nbgrader generate_assignment):\n"
                                   f"{result.get('error') or result.get('log', '')}")
            released = Path(grader.coursedir.format_path(grader.coursedir.release_directory, ".", name))
            if not released.is_dir() or _differs(Path(aside) / name, released):
                log(f"warning: {released} is not what {grader.coursedir.source_directory}/{name} releases: "
                    f"students have other notebooks than the gradebook expects; run `make release` and "
                    f"hand them out again")
    log(f"gradebook: set up {', '.join(missing)} from {grader.coursedir.source_directory}/")
    return missing


def _differs(made, released):
    """Whether the notebooks just made differ from the release folder's in what the gradebook
    records: nbgrader's cells (graded, answer and locked cells), their order and sources. Other
    cells may differ (a course's release step may drop or add prose, e.g. instructor-only answers)."""
    import nbformat
    for path in made.glob("*.ipynb"):
        other = released / path.name
        if not other.is_file():
            return True
        if not filecmp.cmp(path, other, shallow=False):
            mine, theirs = (_graded_cells(nbformat.read(str(p), as_version=4)) for p in (path, other))
            if mine != theirs:
                return True
    return False


def _graded_cells(notebook):
    return json.dumps([(cell.cell_type, cell.source, cell.metadata["nbgrader"]) for cell in notebook.cells
                       if cell.metadata.get("nbgrader")], sort_keys=True)


def write_feedback(grader, log):
    """nbgrader's ``generate_feedback`` for every graded submission whose feedback is missing or
    older than its grading. Returns how many were written."""
    cd = grader.coursedir
    autograded = Path(cd.format_path(cd.autograded_directory, ".", ".")).resolve()
    graded, stale = {}, {}
    for folder in sorted(autograded.glob("*/*")) if autograded.is_dir() else []:
        student, assignment = folder.parent.name, folder.name
        graded.setdefault(assignment, []).append(student)
        feedback = Path(cd.format_path(cd.feedback_directory, student, assignment))
        html = list(feedback.glob("*.html")) if feedback.is_dir() else []
        newest = max((p.stat().st_mtime for p in folder.glob("*.ipynb")), default=0)
        if not html or min(p.stat().st_mtime for p in html) < newest:
            stale.setdefault(assignment, []).append(student)
    if not stale:
        return 0
    api = _api(grader)
    written = 0
    for assignment, students in sorted(stale.items()):
        # the whole class of a chapter in one nbgrader run (a quarter of a second per submission
        # saved), else one run per submission
        runs = [None] if students == graded[assignment] else students
        for student in runs:
            result = api.generate_feedback(assignment, student)
            if result["success"]:
                written += len(students) if student is None else 1
            else:
                error = (result.get("error") or result.get("log") or "").strip().splitlines()
                log(printable(f"feedback for {student or 'the class'}/{assignment} could not be written: "
                              f"{error[-1] if error else 'nbgrader gave no reason'}"))
    log(f"feedback: {written} page set(s) written into {os.path.relpath(cd.format_path(cd.feedback_directory, '.', '.'))}/")
    return written
