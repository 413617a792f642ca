"""Grades out of nbgrader's gradebook: nbgrader's CSV, a CSV Canvas imports as it is, and the
submissions that have no grade, with why. Reads the gradebook and the course's folders only; it
knows no course.

Canvas's gradebook import reads these columns, in this order (Instructure's guide, "How do I import
grades in the Gradebook?"): ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column
per assignment, and a second row ``Points Possible`` with each assignment's points. A student is
matched by ``ID`` (Canvas's user id), ``SIS User ID`` or ``SIS Login ID``; a blank score changes
nothing; a column whose name Canvas does not know creates a new assignment. So:

- a chapter never handed out (nobody submitted it) gets no column: it is not a zero, and importing
  it would make an assignment in Canvas;
- a chapter handed out that a student did not submit is a 0, as in nbgrader's export;
- a submission that could not be graded, or is not graded yet, is blank (not a 0) and is listed,
  with the reason, in the file of ungraded submissions.
"""
import csv
import os
from pathlib import Path

CANVAS_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
UNGRADED_COLUMNS = ("student", "assignment", "reason")

FILES = {"nbgrader": "grades.csv", "canvas": "grades_canvas.csv", "ungraded": "grades_ungraded.csv"}


def _number(value):
    return f"{round(float(value), 4):g}"


def class_grades(grader):
    """What the exports say, from the gradebook and the course's folders:

    {"assignments": [(name, points, handed_out)], "students": [(id, first, last, lms_id)],
     "scores": {(student, assignment): score}, "ungraded": {(student, assignment): reason}}

    ``grader`` is a ``Grader`` (autograde.py): its gradebook, folders and kept problems."""
    from nbgrader.api import Gradebook
    problems = grader.problems()
    submitted = grader.submitted_folder()
    on_disk = {(p.parent.name, p.name) for p in submitted.glob("*/*") if p.is_dir()} if submitted.is_dir() else set()
    assignments, students, scores, ungraded = [], {}, {}, {}
    with Gradebook(grader.db_url, grader.coursedir.course_id) as gradebook:
        for student in gradebook.students:
            students[student.id] = (student.id, student.first_name or "", student.last_name or "",
                                    getattr(student, "lms_user_id", None) or "")
        for assignment in sorted(gradebook.assignments, key=lambda a: a.name):
            if not assignment.notebooks:
                continue
            recorded = {d["student"]: d for d in gradebook.submission_dicts(assignment.name)}
            submitters = set(recorded) | {s for s, a in on_disk if a == assignment.name}
            assignments.append((assignment.name, assignment.max_score, bool(submitters)))
            for student in submitters:
                students.setdefault(student, (student, "", "", ""))
                key = (student, assignment.name)
                if key in problems:
                    ungraded[key] = f"could not be graded: {problems[key]}"
                elif student in recorded and grader.is_graded(student, assignment.name):
                    scores[key] = recorded[student]["score"]
                    if recorded[student]["needs_manual_grade"]:
                        ungraded[key] = "needs manual grading (its score so far is in grades.csv)"
                        del scores[key]
                else:
                    ungraded[key] = "not graded yet: run `make grade`"
    return {"assignments": assignments, "students": sorted(students.values()), "scores": scores,
            "ungraded": ungraded}


def write_canvas_csv(grades, path):
    """Canvas's gradebook import format: one column per chapter handed out, a Points Possible row."""
    columns = [(name, points) for name, points, handed_out in grades["assignments"] if handed_out]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow([*CANVAS_COLUMNS, *(name for name, _ in columns)])
        out.writerow([POINTS_POSSIBLE, "", "", "", "", *(_number(points) for _, points in columns)])
        for student, first, last, lms_id in grades["students"]:
            name = f"{last}, {first}" if last and first else (last or first or student)
            row = [name, lms_id, "", student, ""]
            for assignment, _ in columns:
                key = (student, assignment)
                if key in grades["scores"]:
                    row.append(_number(grades["scores"][key]))
                elif key in grades["ungraded"]:
                    row.append("")  # blank: Canvas changes nothing; the reason is in the ungraded file
                else:
                    row.append("0")  # handed out, not submitted
            out.writerow(row)


def write_ungraded_csv(grades, path):
    """Every submission without a grade, with why."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        out.writerow(UNGRADED_COLUMNS)
        for (student, assignment), reason in sorted(grades["ungraded"].items()):
            out.writerow([student, assignment, reason])


NBGRADER_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score")


def _csv_export_plugin():
    from nbgrader.api import MissingEntry
    from nbgrader.plugins import CsvExportPlugin as Plain

    class CsvExportPlugin(Plain):
        """nbgrader's CSV export, written with Python's csv module: nbgrader joins the fields with
        commas unquoted, so a name with a comma ("Doe, Jr.") shifts every column after it. Same
        columns, rows and numbers (0 for a chapter not submitted)."""

        def export(self, gradebook):
            wanted_students = [str(s) for s in self.student]
            wanted_assignments = [str(a) for a in self.assignment]
            with open(self.to or "grades.csv", "w", newline="", encoding="utf-8") as handle:
                out = csv.DictWriter(handle, NBGRADER_COLUMNS)
                out.writeheader()
                for assignment in gradebook.assignments:
                    if wanted_assignments and assignment.name not in wanted_assignments:
                        continue
                    for student in gradebook.students:
                        if wanted_students and student.id not in wanted_students:
                            continue
                        row = {"assignment": assignment.name, "duedate": assignment.duedate,
                               "student_id": student.id, "last_name": student.last_name,
                               "first_name": student.first_name, "email": student.email,
                               "max_score": assignment.max_score}
                        try:
                            submission = gradebook.find_submission(assignment.name, student.id)
                        except MissingEntry:  # nothing submitted: nbgrader's 0
                            row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
                        else:
                            penalty = submission.late_submission_penalty
                            row.update(timestamp=submission.timestamp, raw_score=submission.score,
                                       late_submission_penalty=penalty, score=max(0.0, submission.score - penalty))
                        out.writerow({key: "" if value is None else str(value) for key, value in row.items()})

    return CsvExportPlugin


def __getattr__(name):
    # ``c.ExportApp.plugin_class = "grader.engine.export.CsvExportPlugin"`` (nbgrader_config.py):
    # made on first use, so that importing this module does not import nbgrader
    if name == "CsvExportPlugin":
        globals()[name] = _csv_export_plugin()
        return globals()[name]
    raise AttributeError(name)


def write_nbgrader_csv(grader, path):
    """nbgrader's CSV export (what `nbgrader export` writes with this course's configuration)."""
    from nbgrader.api import Gradebook
    with Gradebook(grader.db_url, grader.coursedir.course_id) as gradebook:
        __getattr__("CsvExportPlugin")(to=str(path)).export(gradebook)


def export(grader, folder=None):
    """Write the three files into ``folder`` (the course's root by default); returns the report
    lines to print."""
    folder = Path(folder or grader.root)
    paths = {kind: folder / name for kind, name in FILES.items()}
    write_nbgrader_csv(grader, paths["nbgrader"])
    grades = class_grades(grader)
    write_canvas_csv(grades, paths["canvas"])
    write_ungraded_csv(grades, paths["ungraded"])
    lines = [f"grades: {_shown(paths['nbgrader'])} (nbgrader's export), {_shown(paths['canvas'])} "
             f"(Canvas's gradebook import)"]
    never = [name for name, _, handed_out in grades["assignments"] if not handed_out]
    if never:
        lines.append(f"  never handed out (no submission yet), so not in {paths['canvas'].name} "
                     f"(nbgrader's export shows them as 0): {', '.join(never)}")
    if grades["ungraded"]:
        lines.append(f"  {len(grades['ungraded'])} submission(s) without a grade, blank in "
                     f"{paths['canvas'].name}, listed with why in {_shown(paths['ungraded'])}")
    return lines


def _shown(path):
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
