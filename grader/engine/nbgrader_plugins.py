"""nbgrader preprocessors that make plain ``nbgrader autograde`` robust; enabled in nbgrader_config.py.

``RestoreLayout`` rebuilds each submission on the released notebook before nbgrader grades it:
only the student's answers (the source of solution cells, matched by grade_id) and the cells the
student added are taken from the submission; every other cell, its order and all nbgrader metadata
come from the release. So a student who reordered, deleted, duplicated or edited cells is graded
on their answers, not on the damage, and a tampered cell cannot stop nbgrader for the whole class.

A course released in several languages (the same cells, the prose translated) names where each
language's release lives, ``translated_releases`` ({language: folder}); a submission whose metadata
names one of them (``language_key``, a dotted path into the notebook's metadata) is rebuilt on that
release, so its course text stays in its language, and the rebuilt notebook carries the release's
metadata, language included, for whatever reads it next (the sandbox, the feedback). Any other
language, or none, is graded on ``release_root``.

Cells the student added are kept, at most ``max_added_cells`` of them (the first ones; the rest
are dropped and reported). Their markdown and raw cells are kept as inert text only: a markdown
cell showing the student's text in a code block, so no HTML or script of theirs is live in the
autograded notebook or in the feedback page made from it.

``GuardedExecute`` turns off nbgrader's own execution of students' code (plain ``nbgrader
autograde``, the formgrader's Autograde button); ``OverwriteCells`` and ``ClearHiddenTests`` are
nbgrader's without their false warnings.
"""
import copy
import json
import os

import nbformat
from nbgrader import preprocessors as nbgrader_preprocessors
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Dict, Integer, List, Unicode

from . import i18n
from .printable import printable


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_solution(cell):
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


MAX_ADDED_CELLS = 50


def rebuild(release, submission, copy_release=True, max_added_cells=MAX_ADDED_CELLS):
    """The release's cells with the submission's answers in place; returns (notebook, notes).
    With ``copy_release=False`` the release itself is made into the result (for a caller that
    read it just for this)."""
    if copy_release:
        release = copy.deepcopy(release)
    released = {grade_id(c): c for c in release.cells if grade_id(c)}
    answers, extras, notes = {}, {}, []
    seen, added_count = set(), 0
    anchor = None  # the last released cell met in the submission: the student's cells stay after it
    for cell in submission.cells:
        gid = grade_id(cell)
        if gid in released and gid not in seen:
            seen.add(gid)
            if is_solution(released[gid]):
                answers[gid] = cell
            anchor = gid
            continue
        if gid in released:
            notes.append(f"cell {gid} appears twice; the first copy is graded")
            if not is_solution(released[gid]):
                continue  # a second copy of a locked cell adds nothing
        elif gid is None and _is_released_unmarked_cell(release, cell):
            continue  # an unchanged prose or example cell: the release's copy is used
        added_count += 1
        if added_count > max_added_cells:
            continue
        extras.setdefault(anchor, []).append(_added_cell(cell))
    if added_count > max_added_cells:
        notes.append(f"{added_count} cells were added; the {added_count - max_added_cells} after the "
                     f"first {max_added_cells} were dropped")

    cells = list(extras.get(None, []))
    for released_cell in release.cells:
        gid = grade_id(released_cell)
        cell = released_cell
        if gid in answers:
            cell["source"] = answers[gid].get("source", "")
        elif gid and is_solution(released_cell):
            notes.append(f"answer cell {gid} is missing; graded as the blank stub")
        elif gid and gid not in seen:
            notes.append(f"cell {gid} was missing and is restored")
        cells.append(cell)
        if gid:
            cells.extend(extras.get(gid, []))
    release.cells = cells
    # The notebook's language (metadata course.language) is the submission's when it has one: a
    # Chinese notebook graded on the release of its assignment keeps its Chinese messages.
    course = submission.get("metadata", {}).get("course")
    if isinstance(course, dict) and i18n.valid(course.get("language")):
        release.setdefault("metadata", {}).setdefault("course", {})["language"] = course["language"]
    return release, notes


def submission_language(notebook, key="course.language"):
    """The language a notebook's metadata names at the dotted path ``key``, or None. The student
    wrote the metadata: anything but a short string counts as none."""
    value = notebook.get("metadata", {})
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 32 else None


def _added_cell(cell):
    """A student's own cell, never graded; a markdown or raw one becomes inert text."""
    if cell.get("cell_type") == "code":
        added = copy.deepcopy(cell)
        added.setdefault("metadata", {}).pop("nbgrader", None)
        return added
    return nbformat.v4.new_markdown_cell(inert_text(cell.get("source", "")))


def inert_text(source):
    """Markdown that shows ``source`` as it is, with nothing of it rendered: a fenced code block,
    whose backticks in the text are replaced so that none can close the fence."""
    text = "".join(source) if isinstance(source, list) else str(source)
    return "```text\n" + text.replace("`", "\u02cb") + "\n```"


def _is_released_unmarked_cell(release, cell):
    return any(grade_id(c) is None and c.get("source") == cell.get("source") and c.cell_type == cell.get("cell_type")
               for c in release.cells)


class RestoreLayout(NbGraderPreprocessor):
    """Grade the student's answers on the released notebook's layout (see the module's docstring)."""

    release_root = Unicode(
        "", help="Folder holding <assignment>/<notebook>.ipynb as released to students").tag(config=True)
    max_added_cells = Integer(
        MAX_ADDED_CELLS, help="Cells a student may add; the ones beyond are dropped and reported").tag(config=True)

    translated_releases = Dict(
        key_trait=Unicode(), value_trait=Unicode(),
        help="{language: folder holding <assignment>/<notebook>.ipynb as released in that language}; "
             "a submission in one of these languages is rebuilt on its release").tag(config=True)
    language_key = Unicode(
        "course.language", help="Dotted path, in a notebook's metadata, of the language it is written in").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        root = self.release_root
        language = submission_language(nb, self.language_key)
        if language in self.translated_releases:
            translated = os.path.join(self.translated_releases[language], info["assignment"], info["notebook"] + ".ipynb")
            if os.path.exists(translated):
                root = self.translated_releases[language]
            else:
                self.log.warning("RestoreLayout: no %s release at %s; grading on the release at %s",
                                 printable(language), translated, self.release_root)
        path = os.path.join(root, info["assignment"], info["notebook"] + ".ipynb")
        if not root or not os.path.exists(path):
            self.log.warning("RestoreLayout: no released notebook at %s; grading the submission as it is", path)
            return nb, resources
        rebuilt, notes = rebuild(self._release(path), nb, copy_release=False, max_added_cells=self.max_added_cells)
        for note in notes:
            self.log.warning("%s", printable(f"{info.get('student')}/{info['notebook']}: {note}"))
        # the submission's language (kept by rebuild, None: unset), which the grader speaks to it
        info["language"] = submission_language(rebuilt, self.language_key)
        return rebuilt, resources

    def _release(self, path):
        """A fresh copy of the released notebook; read and validated once per run (and again
        if the file changes), as each submission of the class needs it."""
        cache = self.__dict__.setdefault("_releases", {})
        stamp = os.stat(path).st_mtime_ns
        if cache.get(path, (None,))[0] != stamp:
            cache[path] = (stamp, json.dumps(nbformat.read(path, as_version=4)))
        return nbformat.from_dict(json.loads(cache[path][1]))


# Output types a browser runs, or that may carry markup which runs: dropped from students' outputs.
ACTIVE_OUTPUTS = ("application/javascript", "text/javascript", "image/svg+xml", "application/vnd.jupyter.widget-view+json")


class InertOutputs(NbGraderPreprocessor):
    """The outputs of students' code as kept in autograded notebooks, made inert: HTML and markdown
    outputs sanitized with nh3 (no script, no event handler, no javascript: link), types that run
    (JavaScript, SVG, widgets) dropped; text, images and errors stay as they are."""

    def preprocess_cell(self, cell, resources, index):
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not isinstance(data, dict):
                continue
            for mime in list(data):
                if mime in ACTIVE_OUTPUTS:
                    del data[mime]
                elif mime in ("text/html", "text/markdown"):
                    import nh3  # here: most notebooks have no such output
                    value = data[mime]
                    data[mime] = nh3.clean("".join(value) if isinstance(value, list) else str(value))
        return cell, resources


class UnsandboxedGradingRefused(RuntimeError):
    """Plain nbgrader autograde was asked to run students' code outside the grader's sandbox."""


class GuardedExecute(Execute):
    """nbgrader's Execute, turned off unless ``allow_unsandboxed``: plain ``nbgrader autograde``, and
    the formgrader's Autograde button (which runs it), would run students' code in the instructor's
    own kernel, with the instructor's files, network and credentials. It refuses before any cell
    runs, with a message that says what grades safely. ``python -m grader autograde`` never runs
    it (it executes in its sandboxes instead)."""

    allow_unsandboxed = Bool(
        False, help="Run students' code in your own kernel, without the grader's sandbox (only for "
                    "submissions you trust)").tag(config=True)

    def preprocess(self, nb, resources, *args, **kwargs):
        if not self.allow_unsandboxed:
            info = resources.get("nbgrader", {})
            raise UnsandboxedGradingRefused(printable(
                f"nbgrader's own autograde (the formgrader's Autograde button, `nbgrader autograde`) "
                f"would run {info.get('student')}'s code for {info.get('assignment')} outside the "
                f"grader's sandbox, so it is turned off for this course. Grade with `make grade` (or "
                f"`.venv/bin/python -m grader autograde`) in the course's folder: the formgrader then "
                f"shows its grades. For submissions you trust, `nbgrader autograde ... "
                f"--GuardedExecute.allow_unsandboxed=True` runs plain nbgrader anyway."))
        # The kernel inherits this process's environment: the checks it runs speak the notebook's language.
        with i18n.speaking(i18n.notebook_language(nb.metadata)):
            return super().preprocess(nb, resources, *args, **kwargs)


class ClearHiddenTests(nbgrader_preprocessors.ClearHiddenTests):
    """nbgrader's, without its warning on every feedback page. nbconvert's HTMLExporter configures
    ``NbConvertBase.display_data_priority``, which nbgrader's preprocessors inherit as a trait that
    cannot be configured (so traitlets warns "not recognized by ClearHiddenTests"); here it can."""

    display_data_priority = List(NbGraderPreprocessor.display_data_priority.default_value).tag(config=True)


class OverwriteCells(nbgrader_preprocessors.OverwriteCells):
    """nbgrader's, without a false "checksum has changed!" on honest submissions.

    nbgrader records each locked cell as the instructor wrote it, hidden tests included, and
    releases it without them; so the released cell, unchanged, never matches its recorded checksum
    and nbgrader warns about every hidden-test cell of every student while putting the hidden tests
    back. Here a locked cell that is exactly the released form of the recorded one gets its hidden
    tests back first; only a cell that differs from what was released is reported."""

    def preprocess_cell(self, cell, resources, cell_index):
        gid = grade_id(cell)
        if gid is not None and cell.cell_type == "code":
            from nbgrader.api import MissingEntry
            try:
                recorded = self.gradebook.find_source_cell(gid, self.notebook_id, self.assignment_id)
            except MissingEntry:
                recorded = None
            if recorded is not None and recorded.locked and cell.source == self._released(recorded):
                cell.source = recorded.source
        return super().preprocess_cell(cell, resources, cell_index)

    def _released(self, recorded):
        """The recorded cell's source as students got it: its hidden tests removed (worked out once
        per source: every submission of a class asks for the same few)."""
        known = self.__dict__.setdefault("_released_sources", {})
        if recorded.source not in known:
            hidden = self.__dict__.get("_hidden") or self.__dict__.setdefault(
                "_hidden", nbgrader_preprocessors.ClearHiddenTests(parent=self))
            released = nbformat.v4.new_code_cell(recorded.source)
            try:
                hidden._remove_hidden_test_region(released)
                known[recorded.source] = released.source
            except RuntimeError:  # unbalanced markers: no released form to match
                known[recorded.source] = None
        return known[recorded.source]
