"""``python -m grader autograde``: grade a whole class into nbgrader's gradebook, fast and safely.

The instructor's process does what nbgrader's autograde does around execution, with nbgrader's
own preprocessors and gradebook: it reads each submission, sanitizes it (the configured sanitize
preprocessors, RestoreLayout first), records the scores (SaveAutoGrades) and writes
``autograded/<student>/<assignment>/``. Execution is replaced by jobs for grading workers
(worker.py), which run the students' code in sandboxes forked from a process that has already
imported MXNet, and judge the graded cells' checks themselves.

A submission is committed only when all its notebooks are graded: the autograded folder is built
aside and moved in place after the gradebook is written, so a run that is stopped and started
again grades each submission exactly once and leaves nothing half-done.
"""
import base64
import binascii
import json
import os
import re
import shutil
import sys
import time
from collections import defaultdict
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import nbformat
from nbgrader.api import Gradebook

from . import course as courses
from . import i18n
from .pool import in_lanes
from .printable import printable

_ = i18n.translator("engine")

PARTIAL = ".autograde-partial"  # beside autograded/, not in it: nbgrader lists autograded/*
# Submissions that could not be graded, with why, kept across runs (the summary and the grade
# export list them): {"<student>/<assignment>": reason}. Beside autograded/ for the same reason.
PROBLEMS = ".autograde-problems.json"


class _SharedGradebook:
    """One gradebook connection for a whole run, and one transaction per submission.

    nbgrader's preprocessors each open the gradebook for every notebook (about 60 ms apiece here)
    and commit after every cell; sharing one connection, and committing each submission once
    (``commit_submission``), is what lets the instructor's process keep up with the workers. A
    submission whose recording fails is rolled back whole. The release's cells do not change
    during a run, so the lookups of them that nbgrader repeats for every submission are answered
    from a snapshot."""

    def __init__(self, gradebook):
        self._gradebook = gradebook
        self._session = gradebook.db
        gradebook.db = _OneTransaction(self._session)  # the Gradebook's own methods commit through it too
        # This process is the gradebook's only writer during a run: what it loaded (the release's
        # notebooks and cells, which every new submission mirrors) stays loaded across commits.
        self._session().expire_on_commit = False
        self._release_cells, self._submitted_rows = {}, {}

    def __call__(self, *args, **kwargs):
        return self

    def __getattr__(self, name):
        return getattr(self._gradebook, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            self.rollback()

    def close(self):
        pass

    def commit_submission(self):
        self._session.commit()
        self._submitted_rows.clear()

    def rollback(self):
        self._session.rollback()
        self._submitted_rows.clear()

    @contextmanager
    def batched(self):
        """Changes made inside are written once, at the end, not before each query."""
        with self._session.no_autoflush:
            yield
        self._session.flush()

    def find_source_cell(self, name, notebook, assignment):
        return self._release_cell("find_source_cell", name, notebook, assignment)

    def find_graded_cell(self, name, notebook, assignment):
        return self._release_cell("find_graded_cell", name, notebook, assignment)

    def find_grade(self, grade_cell, notebook, assignment, student):
        return self._submitted_row("find_grade", grade_cell, notebook, assignment, student)

    def find_comment(self, solution_cell, notebook, assignment, student):
        return self._submitted_row("find_comment", solution_cell, notebook, assignment, student)

    def _submitted_row(self, finder, cell, notebook, assignment, student):
        """The grade or comment of a submitted cell; the rows of a submitted notebook are looked
        up together, in one query instead of nbgrader's one per cell."""
        from nbgrader.api import BaseCell, Comment, Grade
        key = (finder, notebook, assignment, student)
        if key not in self._submitted_rows:
            model = Grade if finder == "find_grade" else Comment
            submitted = self._gradebook.find_submission_notebook(notebook, assignment, student)
            rows = (self._session.query(model, BaseCell.name).join(BaseCell, BaseCell.id == model.cell_id)
                    .filter(model.notebook_id == submitted.id))
            self._submitted_rows[key] = {name: row for row, name in rows}
        row = self._submitted_rows[key].get(cell)
        return row if row is not None else getattr(self._gradebook, finder)(cell, notebook, assignment, student)

    def _release_cell(self, finder, *key):
        if (finder, *key) not in self._release_cells:
            from sqlalchemy import inspect
            row = getattr(self._gradebook, finder)(*key)  # MissingEntry goes to the caller, as in nbgrader
            self._release_cells[(finder, *key)] = SimpleNamespace(
                **{column.key: getattr(row, column.key) for column in inspect(row).mapper.column_attrs})
        return self._release_cells[(finder, *key)]

    def detach(self):
        self._gradebook.db = self._session


class _OneTransaction:
    """The gradebook's session, with nbgrader's commits turned into flushes: the real commit comes
    once per submission."""

    def __init__(self, session):
        self._session = session

    def __getattr__(self, name):
        return getattr(self._session, name)

    def commit(self):
        # New rows are written at once (nbgrader looks them up right after); changed ones wait
        # for the next query or the submission's commit, which write them in one go.
        if self._session.new or self._session.deleted:
            self._session.flush()


_GRADEBOOK_USERS = ("nbgrader.preprocessors.overwritecells", "nbgrader.preprocessors.saveautogrades",
                    "nbgrader.preprocessors.latesubmissions", "nbgrader.preprocessors.overwritekernelspec",
                    __name__)


class _CachedSchemaValidation:
    """nbgrader validates each cell's metadata with ``jsonschema.validate``, which checks the schema
    itself on every call (most of the instructor's time here). This does the same validation with
    each schema checked once, and each distinct instance validated once."""

    def __init__(self):
        import jsonschema
        self._jsonschema, self._schema_texts, self._validators, self._valid = jsonschema, {}, {}, set()

    def __getattr__(self, name):
        return getattr(self._jsonschema, name)

    def validate(self, instance, schema):
        # nbgrader loads the schema anew for each notebook; most cells carry the release's metadata
        # unchanged. Each distinct (schema, metadata) is validated once.
        if id(schema) not in self._schema_texts:  # the schema is kept alive, so its id stays its own
            self._schema_texts[id(schema)] = (schema, json.dumps(schema, sort_keys=True))
        schema_text = self._schema_texts[id(schema)][1]
        key = (schema_text, json.dumps(instance, sort_keys=True, default=repr))
        if key in self._valid:
            return
        if schema_text not in self._validators:
            cls = self._jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            self._validators[schema_text] = cls(schema)
        error = self._jsonschema.exceptions.best_match(self._validators[schema_text].iter_errors(instance))
        if error is not None:
            raise error
        self._valid.add(key)


def _no_fsync(connection, _record):
    # Each nbgrader commit would wait for the disk. Without it a commit is still safe from a killed
    # process (what resuming relies on); the run syncs the file to disk once at the end.
    connection.execute("PRAGMA synchronous=OFF")


@contextmanager
def shared_gradebook(db_url, course_id):
    import importlib

    import nbgrader.nbgraderformat.common as nbgrader_format
    from nbgrader.api import Gradebook
    from sqlalchemy import event
    nbgrader_format.jsonschema = _CachedSchemaValidation()
    gradebook = Gradebook(db_url, course_id)
    gradebook.db.commit()
    event.listen(gradebook.engine, "connect", _no_fsync)
    gradebook.engine.dispose()  # connections from now on are made with the pragma
    shared = _SharedGradebook(gradebook)
    modules = [importlib.import_module(name) for name in _GRADEBOOK_USERS]
    saved = [module.__dict__.get("Gradebook") for module in modules]
    for module in modules:
        module.Gradebook = shared
    try:
        yield shared
    finally:
        for module, original in zip(modules, saved):
            module.Gradebook = original
        shared.rollback()  # what no submission committed
        shared.detach()
        gradebook.close()
        if db_url.startswith("sqlite:///") and os.path.exists(db_url[len("sqlite:///"):]):
            with open(db_url[len("sqlite:///"):], "rb") as db_file:
                os.fsync(db_file.fileno())


class GradingError(Exception):
    """The course or the command is set up wrongly: say what to do."""


# Settings of this grader in nbgrader_config.py, as c.FastGrader.<name> = value.
OPTIONS = {
    "notebook_timeout": 300.0,          # wall time of one whole notebook, seconds (--notebook-timeout)
    "max_notebook_bytes": 8 << 20,      # a larger submitted .ipynb is not read
}
# The module whose ``COURSE`` is the course's grading content (see course.py), e.g. "grader.course".
COURSE_SETTING = "course"


def fast_grader_options(config):
    """The c.FastGrader settings of nbgrader_config.py, checked, with their defaults."""
    section = dict(config.FastGrader) if "FastGrader" in config else {}
    course = section.pop(COURSE_SETTING, None)
    if course is not None and not isinstance(course, str):
        raise GradingError(f"c.FastGrader.{COURSE_SETTING} in nbgrader_config.py must be a module's name, not {course!r}")
    unknown = sorted(set(section) - set(OPTIONS))
    if unknown:
        raise GradingError(f"nbgrader_config.py sets c.FastGrader.{unknown[0]}, which is not one of: "
                           f"{', '.join([COURSE_SETTING, *OPTIONS])}")
    options = dict(OPTIONS, **{COURSE_SETTING: course})
    for name, value in section.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise GradingError(f"c.FastGrader.{name} in nbgrader_config.py must be a positive number, not {value!r}")
        options[name] = value
    return options


@dataclass
class Outcome:
    student: str
    assignment: str
    problem: str = ""        # why it could not be graded, if it could not
    isolation: list = field(default_factory=list)  # what the sandbox of its code applied


def load_course(root):
    """nbgrader's configuration of the course at ``root`` and its CourseDirectory."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    if not (root / "nbgrader_config.py").is_file():
        raise GradingError(f"{root} has no nbgrader_config.py: run this from the course's root folder or pass --root")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    fast_grader_options(config)  # a mistake there is reported before any grading
    return config, CourseDirectory(config=config)


def course_of(config):
    """The course's grading content named in nbgrader_config.py, and its options for the workers."""
    try:
        course = courses.load(fast_grader_options(config)[COURSE_SETTING])
        return course, course.options(config)
    except courses.CourseNotFound as error:
        raise GradingError(str(error)) from None
    except ValueError as error:
        raise GradingError(f"nbgrader_config.py: {error}") from None


def _preprocessors(config, names):
    from traitlets.utils.importstring import import_item
    return [(import_item(name) if isinstance(name, str) else name)(config=config) for name in names]


def sanitize_chain(config):
    from nbgrader.converters import Autograde
    return _preprocessors(config, Autograde(config=config).sanitize_preprocessors)


def record_chain(config):
    """nbgrader's autograde preprocessors after execution (scores, late penalties, checks)."""
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.utils.importstring import import_item
    classes = [import_item(p) if isinstance(p, str) else p for p in Autograde(config=config).autograde_preprocessors]
    # execution (nbgrader's Execute or a subclass, GuardedExecute) is what the workers do instead
    return _preprocessors(config, [p for p in classes if not (isinstance(p, type) and issubclass(p, Execute))])


def check_of(cell, course):
    """The check id a graded test cell runs; GradingError for a test cell of another form."""
    check_id = course.graded_check(cell.source)
    if check_id is None:
        grade_id = cell.metadata["nbgrader"]["grade_id"]
        raise GradingError(f"graded cell {grade_id} must call exactly one known check(...) to be graded here; "
                           f"grade this assignment with `nbgrader autograde` instead")
    return check_id


def shared_cells(release):
    """Sources of the release's leading code cells that every submission starts with (set-up,
    figures, worked examples): up to the first answer or graded cell."""
    shared = []
    for cell in release.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") or meta.get("grade"):
            break
        shared.append(cell.source)
    return shared


def make_job(notebook, student, assignment, notebook_name, secret, course, shared=()):
    """The steps a worker runs: the notebook's code cells in order, graded test cells as checks.
    Its leading cells that are the release's ``shared`` cells are marked: workers run those once
    per chapter (worker.py)."""
    steps = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            check_id = check_of(cell, course)
            steps.append({"cell": index, "check": check_id,
                          "seed": course.case_seed(student, assignment, check_id, secret)})
        else:
            steps.append({"cell": index, "exec": cell.source})
    # Cells after the last graded cell cannot change any grade: nbgrader runs them, we need not.
    while steps and "exec" in steps[-1]:
        steps.pop()
    for step, source in zip(steps, shared):
        if step.get("exec") != source:
            break
        step["shared"] = True
    return {"student": student, "assignment": assignment, "notebook": notebook_name, "steps": steps,
            "language": i18n.notebook_language(notebook.metadata)}


def apply_result(notebook, result, course):
    """Put the worker's outputs into the notebook as nbgrader's execution would have, what the
    grader says in the notebook's language."""
    with i18n.speaking(i18n.notebook_language(notebook.metadata)):
        return _apply_result(notebook, result, course)


def _apply_result(notebook, result, course):
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        if index in result["checks"]:
            check = result["checks"][index]
            problem = check["problem"]
            if i18n.current_language() != i18n.ENGLISH and hasattr(course, "description"):
                # the feedback page's summary names the check in the notebook's language (a
                # graded cell's own comment, which it shows otherwise, is English like the code)
                cell.metadata.setdefault("grader", {})["description"] = course.description(check["check"])
            if problem is None:
                cell.outputs = [_stream("stdout", course.passed_text(check["check"]))]
            else:
                cell.outputs = [_error("GradingFailure", problem,
                                       [f"GradingFailure: {line}" if n == 0 else line
                                        for n, line in enumerate(problem.splitlines())])]
        elif index in result["cells"]:
            cell.outputs = [_cell_output(output) for output in result["cells"][index]["outputs"]]
        cell.execution_count = None
    return notebook


def _stream(name, text):
    return nbformat.NotebookNode(output_type="stream", name=name, text=text)


def _error(ename, evalue, traceback):
    return nbformat.NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=traceback)


def _cell_output(output):
    """A cell's output as the sandbox sent it, rebuilt from the fields it may have (the sandbox
    runs the student's code: what it sends is checked, not trusted)."""
    kind = output.get("output_type") if isinstance(output, dict) else None
    if kind == "stream" and output.get("name") in ("stdout", "stderr") and isinstance(output.get("text"), str):
        return _stream(output["name"], output["text"])
    if kind == "error" and isinstance(output.get("ename"), str) and isinstance(output.get("evalue"), str) \
            and isinstance(output.get("traceback"), list) and all(isinstance(t, str) for t in output["traceback"]):
        return _error(output["ename"], output["evalue"], list(output["traceback"]))
    if kind in ("display_data", "execute_result") and isinstance(output.get("data"), dict):
        data = {mime: value for mime, value in output["data"].items() if _displayable(mime, value)}
        if data:
            node = nbformat.NotebookNode(output_type=kind, data=nbformat.NotebookNode(data),
                                         metadata=nbformat.NotebookNode())
            if kind == "execute_result":
                node.execution_count = None
            return node
    return _error("GradingFailure", _("the sandbox sent an output of the wrong form"), [])


# What a student's display may show in the autograded notebook, and how each must begin once decoded.
IMAGE_SIGNATURES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}


def _displayable(mime, value):
    """Plain text, or a real PNG or JPEG image in base64 (nothing else a browser would read)."""
    if not isinstance(value, str):
        return False
    if mime == "text/plain":
        return True
    if mime not in IMAGE_SIGNATURES:
        return False
    try:
        return base64.b64decode(value.replace("\n", ""), validate=True).startswith(IMAGE_SIGNATURES[mime])
    except (binascii.Error, ValueError):
        return False


def _write_notebook(notebook, path):
    """nbformat.write without its validation of the whole notebook: the cells were checked when read,
    and the outputs are built above from checked fields."""
    text = nbformat.versions[4].writes_json(notebook)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


class Grader:
    """Grades the submissions of a course with a pool of workers (local or Dask)."""

    def __init__(self, root, pool, force=False, log=print):
        self.config, self.coursedir = load_course(root)
        self.course, self.course_options = course_of(self.config)
        self.options = fast_grader_options(self.config)
        self.root = Path(self.coursedir.root)
        self.pool, self.force, self.log = pool, force, log
        self.secret = self.course.secret(self.root)
        self.db_url = self.coursedir.db_url
        self._sanitize, self._record = sanitize_chain(self.config), record_chain(self.config)
        self.gradebook = None  # the shared connection, while run() runs
        self.found = 0
        self._shared_cells = {}

    # ---------------------------------------------------------------- what to grade
    def assignments(self, wanted=()):
        with Gradebook(self.db_url, self.coursedir.course_id) as gradebook:
            known = {a.name: [n.name for n in a.notebooks] for a in gradebook.assignments}
        known = {name: notebooks for name, notebooks in known.items() if notebooks}
        unknown = [a for a in wanted if a not in known]
        if unknown:
            raise GradingError(f"the gradebook does not know {', '.join(unknown)}: set it up with `make grade` "
                               f"(or `nbgrader generate_assignment {unknown[0]}`) first")
        return {name: known[name] for name in (wanted or sorted(known))}

    def submitted_folder(self):
        return Path(self.coursedir.format_path(self.coursedir.submitted_directory, ".", ".")).resolve()

    def submissions(self, assignment, students=()):
        base = self.submitted_folder()
        found = sorted(p.name for p in base.iterdir() if (p / assignment).is_dir()) if base.is_dir() else []
        return [s for s in found if not students or s in students]

    def check_set_up(self, assignments, students=(), wanted=()):
        """A GradingError that says what to run when a set-up step is missing: no submissions, or
        submissions of a chapter the gradebook does not know (never "nothing to grade")."""
        base = self.submitted_folder()
        folders = sorted({p.name for p in base.glob("*/*") if p.is_dir()
                          and (not students or p.parent.name in students)}) if base.is_dir() else []
        if not folders:
            who = f" of {', '.join(students)}" if students else ""
            raise GradingError(f"no submissions{who} in {base}: collect them there first, as "
                               f"submitted/<student>/<chapter>/<notebook>.ipynb (`nbgrader collect`, "
                               f"`nbgrader zip_collect`, or copy them), then run this again")
        if not assignments:
            raise GradingError(f"the gradebook ({self.db_url}) knows no chapter: set it up with `make grade` "
                               f"(or `make release`), then run this again")
        unknown = [name for name in folders if name not in assignments]
        if unknown and not wanted:  # asked for some chapters by name, the others can wait
            raise GradingError(f"submitted/ holds {', '.join(unknown)}, which the gradebook does not know: "
                               f"set it up with `make grade` (or `nbgrader generate_assignment {unknown[0]}`), "
                               f"or move those folders away, then run this again")

    def is_graded(self, student, assignment):
        """Whether the submission has been graded: its autograded folder is in place."""
        return Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment)).is_dir()

    # ---------------------------------------------------------------- grading
    def run(self, assignments=(), students=(), progress=None):
        """Grade everything not graded yet; {assignment: [Outcome]}."""
        shutil.rmtree(self.root / PARTIAL, ignore_errors=True)  # what a stopped run left half-done
        plan = []
        chosen = self.assignments(assignments)
        self.check_set_up(self.assignments(), students, assignments)
        self.found = 0  # submissions of the chosen assignments and students, graded or not
        for assignment, notebooks in chosen.items():
            for student in self.submissions(assignment, students):
                self.found += 1
                if self.force or not self.is_graded(student, assignment):
                    plan.append((assignment, notebooks, student))
        outcomes = defaultdict(list)
        progress = progress or _Progress(len(plan))
        lanes = in_lanes(plan, getattr(self.pool, "lanes", 1), assignment_of=lambda item: item[0])
        with shared_gradebook(self.db_url, self.coursedir.course_id) as self.gradebook:
            prepared = [_Prepared(lane, self._prepare) for lane in lanes]
            # closed however the loop ends (a stopped run included): its workers go with it
            with closing(self.pool.map_submissions(prepared)) as finished:
                for submission in finished:
                    outcome = self._commit(submission)
                    outcomes[outcome.assignment].append(outcome)
                    progress.advance(outcome)
        shutil.rmtree(self.root / PARTIAL, ignore_errors=True)
        progress.finish()
        self._keep_problems(outcomes)
        return dict(outcomes)

    def problems(self):
        """{(student, assignment): why it could not be graded}, as the runs so far left it."""
        try:
            kept = json.loads((self.root / PROBLEMS).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {tuple(key.split("/", 1)): reason for key, reason in kept.items()
                if isinstance(reason, str) and key.count("/") == 1}

    def _keep_problems(self, outcomes):
        kept = self.problems()
        for results in outcomes.values():
            for outcome in results:
                key = (outcome.student, outcome.assignment)
                if outcome.problem:
                    kept[key] = outcome.problem
                else:
                    kept.pop(key, None)
        # a submission withdrawn from submitted/ is no longer a problem of the class
        kept = {key: reason for key, reason in kept.items()
                if (self.submitted_folder() / key[0] / key[1]).is_dir()}
        path = self.root / PROBLEMS
        if kept:
            text = json.dumps({f"{s}/{a}": reason for (s, a), reason in sorted(kept.items())}, indent=1)
            path.with_suffix(".tmp").write_text(text, encoding="utf-8")
            os.replace(path.with_suffix(".tmp"), path)
        elif path.exists():
            path.unlink()

    def _prepare(self, assignment, notebooks, student):
        """Read and sanitize each notebook; the jobs for its workers."""
        submitted = Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment))
        submission = {"assignment": assignment, "student": student, "notebooks": {}, "problem": "", "jobs": {}}
        for name in notebooks:
            path = submitted / f"{name}.ipynb"
            if not path.exists():
                submission["notebooks"][name] = None  # nbgrader scores a missing notebook 0
                continue
            try:
                notebook = self._read(path)
                resources = self._resources(student, assignment, name)
                for preprocessor in self._sanitize:
                    notebook, resources = preprocessor(notebook, resources)  # honours `enabled`, as nbconvert does
            except Exception as error:  # a broken submission stops only itself
                submission["problem"] = f"{name}.ipynb: {_first_line(error)}"
                submission["jobs"] = {}
                return submission
            submission["notebooks"][name] = notebook
            submission["jobs"][name] = make_job(notebook, student, assignment, name, self.secret, self.course,
                                                self._shared(assignment, name))
        return submission

    def _read(self, path):
        """A submitted notebook, if it is not too large to read (checked before reading it)."""
        limit = self.options["max_notebook_bytes"]
        size = os.stat(path).st_size
        if size <= limit:
            with open(path, "rb") as handle:
                text = handle.read(limit + 1)  # it may have grown since
            size = max(size, len(text))
        if size > limit:
            raise _TooLarge(f"notebook is {size / 2**20:.1f} MiB, over the {limit / 2**20:g} MiB limit")
        return nbformat.reads(text.decode("utf-8"), as_version=4)

    def _shared(self, assignment, name):
        if (assignment, name) not in self._shared_cells:
            path = Path(self.coursedir.format_path(self.coursedir.release_directory, ".", assignment)) / f"{name}.ipynb"
            self._shared_cells[(assignment, name)] = shared_cells(nbformat.read(str(path), as_version=4)) \
                if path.is_file() else []
        return self._shared_cells[(assignment, name)]

    def _resources(self, student, assignment, name):
        return {"nbgrader": {"student": student, "assignment": assignment, "notebook": name,
                             "db_url": self.db_url, "course_id": self.coursedir.course_id},
                "metadata": {"path": str(self.root)}}

    def _commit(self, submission):
        """Record scores in the gradebook, then move the autograded folder in place."""
        outcome = Outcome(submission["student"], submission["assignment"])
        if not submission["problem"]:
            partial = self.root / PARTIAL / outcome.student / outcome.assignment
            try:
                self._record_submission(submission, partial, outcome)
            except Exception as error:  # the grader's side failed on this one: report it, grade the rest
                self.gradebook.rollback()
                shutil.rmtree(partial, ignore_errors=True)
                submission["problem"] = f"its grades could not be recorded: {_first_line(error)}"
        if submission["problem"]:
            outcome.problem = submission["problem"]
            self.log(printable(f"could not grade {outcome.student}/{outcome.assignment}: {outcome.problem}"))
        return outcome

    def _record_submission(self, submission, partial, outcome):
        student, assignment = submission["student"], submission["assignment"]
        submitted = Path(self.coursedir.format_path(self.coursedir.submitted_directory, student, assignment))
        timestamp = self.coursedir.get_existing_timestamp(str(submitted))
        gradebook = self.gradebook
        # nbgrader builds a new submission's rows before adding it to the session: a query made
        # meanwhile would flush them half-made (SQLAlchemy's "not in session" warnings).
        with gradebook.batched():
            gradebook.update_or_create_student(student)
            if timestamp:
                gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
            else:
                gradebook.update_or_create_submission(assignment, student)
        partial.mkdir(parents=True, exist_ok=True)
        for name, notebook in submission["notebooks"].items():
            if notebook is None:
                for grade in gradebook.find_submission_notebook(name, assignment, student).grades:
                    grade.auto_score, grade.needs_manual_grade = 0, False  # nbgrader scores a missing notebook 0
                continue
            outcome.isolation = submission["results"][name]["isolation"]
            notebook = apply_result(notebook, submission["results"][name], self.course)
            resources = self._resources(student, assignment, name)
            for preprocessor in self._record:
                with _batched_writes(preprocessor, gradebook):
                    notebook, resources = preprocessor(notebook, resources)
            _write_notebook(notebook, partial / f"{name}.ipynb")
        if (submitted / "timestamp.txt").exists():
            shutil.copy(submitted / "timestamp.txt", partial / "timestamp.txt")
        gradebook.commit_submission()
        final = Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment))
        if final.exists():
            shutil.rmtree(final)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, final)   # (the emptied student folders go with PARTIAL at the end of the run)

    def hidden_paths(self):
        """What students' code must not see: every other student, the sources, the gradebook."""
        cd = self.coursedir
        paths = [cd.format_path(d, ".", ".") for d in
                 (cd.source_directory, cd.submitted_directory, cd.autograded_directory, cd.feedback_directory)]
        paths += [self.root / PARTIAL, self.root / PROBLEMS, self.root / ".git", self.root / "tests",
                  *map(Path, self.course.private_paths(str(self.root)))]
        db = cd.db_url[len("sqlite:///"):] if cd.db_url.startswith("sqlite:///") else None
        return [str(p) for p in paths + ([db, db + "-journal"] if db else [])]

    def runtime_paths(self):
        """The student runtime, as installed: what students' code may read of the course (read-only)."""
        import importlib.util
        spec = importlib.util.find_spec("course_runtime")
        return [os.path.dirname(spec.origin)] if spec and spec.origin else []


class _Prepared:
    """A lane of the plan, each submission read and sanitized only when the pool asks for it; its
    length tells the pool how many are left."""

    def __init__(self, plan, prepare):
        self._plan, self._prepare = plan, prepare

    def __len__(self):
        return len(self._plan)

    def __iter__(self):
        return (self._prepare(*item) for item in self._plan)


@contextmanager
def _batched_writes(preprocessor, gradebook):
    """SaveAutoGrades looks up each cell's grade and sets it; none of its lookups depends on what
    it set, so its changes need not be written before each lookup, only once after it."""
    from nbgrader.preprocessors import SaveAutoGrades
    if type(preprocessor) is SaveAutoGrades:
        with gradebook.batched():
            yield
    else:
        yield


class _TooLarge(Exception):
    """A submitted notebook over the size limit."""


def _first_line(error):
    if isinstance(error, _TooLarge):
        return str(error)
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"[:300]


class _Progress:
    """A progress bar on a terminal, a line every 10% elsewhere. It prints no submission's text."""

    def __init__(self, total, stream=None):
        # the terminal itself, not a PrintableStream over it (see __main__): "\r" redraws the bar
        stream = stream or getattr(sys.stderr, "raw", sys.stderr)
        self.total, self.done, self.failed, self.stream = total, 0, 0, stream
        self.started, self.tty = time.monotonic(), stream.isatty()

    def advance(self, outcome):
        self.done += 1
        self.failed += bool(outcome.problem)
        if self.tty:
            filled = int(30 * self.done / max(self.total, 1))
            self.stream.write(f"\rgrading [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
                              f" submissions, {self.failed} could not be graded, {self.elapsed():.0f} s")
        elif self.total and (self.done == self.total or self.done % max(self.total // 10, 1) == 0):
            self.stream.write(f"graded {self.done}/{self.total} submissions ({self.elapsed():.0f} s)\n")
        self.stream.flush()

    def elapsed(self):
        return time.monotonic() - self.started

    def finish(self):
        if self.tty and self.total:
            self.stream.write("\n")


def summary(outcomes, grader):
    """The table printed at the end: the class as it stands in the gradebook (every run so far),
    per assignment its graded submissions, mean score and how many failed each graded cell, what
    this run added, and what could not be graded and why."""
    isolation = next((o.isolation for results in outcomes.values() for o in results if o.isolation), None)
    lines = [f"students' code ran with: {', '.join(isolation)}"] if isolation else []
    if isolation and any(item.startswith("NO ISOLATION") for item in isolation):
        lines.append("warning: students' code ran without isolation (--unsafe-no-isolation): it could "
                     "read and change anything you can; see README, 'What the grader guards against'")
    added = sum(1 for results in outcomes.values() for o in results if not o.problem)
    failed_now = sum(1 for results in outcomes.values() for o in results if o.problem)
    lines.append(f"this run graded {added} submission{'s' * (added != 1)}"
                 + (f"; {failed_now} could not be graded" if failed_now else ""))
    problems = grader.problems()
    standing = class_standing(grader)
    shown = sorted(set(outcomes) | {a for a, s in standing.items() if s["graded"]} | {a for _, a in problems})
    for assignment in shown:
        state = standing.get(assignment, {"graded": 0, "cells": [], "failed": {}, "mean": 0, "max_score": 0})
        graded, new = state["graded"], sum(1 for o in outcomes.get(assignment, ()) if not o.problem)
        lines.append(f"\n{assignment}: {graded} submission{'s' * (graded != 1)} graded so far "
                     f"({new} by this run)")
        if graded:
            lines.append(f"  mean score {state['mean']:.2f} of {state['max_score']:g}")
            for cell in state["cells"]:
                lines.append(f"  {cell:<40} failed by {state['failed'].get(cell, 0):>4} of {graded}")
        for (student, name), reason in sorted(problems.items()):
            if name == assignment:
                lines.append(f"  could not grade {student}: {reason}")
    return printable("\n".join(lines), newlines=True)  # student ids and messages come from submissions


def class_standing(grader):
    """{assignment: {"graded", "mean", "max_score", "cells" (graded cells in order),
    "failed" ({cell: how many submissions scored below its points})}} over every submission in the
    gradebook, whichever run graded it (scores as nbgrader computes them: late penalties included)."""
    from nbgrader.api import Assignment, Grade, GradeCell, SubmittedAssignment, SubmittedNotebook
    standing = {}
    with Gradebook(grader.db_url, grader.coursedir.course_id) as gradebook:
        for assignment in gradebook.assignments:
            # a submission is graded when its autograded folder is there (nbgrader records one
            # before grading it, and keeps the record when grading fails)
            scores = [d for d in gradebook.submission_dicts(assignment.name)
                      if grader.is_graded(d["student"], assignment.name)]
            graded = {d["student"] for d in scores}
            rows = (gradebook.db.query(SubmittedAssignment.student_id, GradeCell.name)
                    .select_from(Grade)
                    .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                    .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                    .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                    .join(GradeCell, Grade.cell_id == GradeCell.id)
                    .filter(Assignment.name == assignment.name, Grade.auto_score.isnot(None),
                            Grade.auto_score < GradeCell.max_score))
            failed = defaultdict(int)
            for student, cell in rows:
                failed[cell] += student in graded
            standing[assignment.name] = {
                "graded": len(scores),
                "mean": sum(d["score"] for d in scores) / len(scores) if scores else 0.0,
                "max_score": assignment.max_score,
                "cells": [c.name for n in assignment.notebooks for c in n.grade_cells],
                "failed": dict(failed)}
    return standing

