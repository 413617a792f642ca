"""What `make release` keeps from the instructor's notebooks: the answers to the questions to think
about (cells tagged ``instructor-answer``) stay on the instructor's site only; and the parts of
chapters 5 and 6 students rely on: a try-it cell after each exercise, a collapsed hint and an
answer for each question, a summary and where d2l goes next."""
import re

import nbformat
import pytest

from book import release
from tests import course

TAG = release.INSTRUCTOR_ONLY


def _notebook(*cells):
    return nbformat.v4.new_notebook(cells=list(cells))


def test_tagged_cells_are_dropped_and_nothing_else(tmp_path):
    answer = nbformat.v4.new_markdown_cell("**Answer to 1.** 42", metadata={"tags": [TAG]})
    other = nbformat.v4.new_markdown_cell("1. A question", metadata={"tags": ["remove-input"]})
    code = nbformat.v4.new_code_cell("x = 1")
    path = tmp_path / "a.ipynb"
    nbformat.write(_notebook(other, answer, code), str(path))
    release.drop_instructor_cells(path)
    assert [c.source for c in nbformat.read(str(path), as_version=4).cells] == ["1. A question", "x = 1"]


def test_a_tagged_graded_cell_is_refused(tmp_path):
    """Dropping an nbgrader cell would change the graded layout: the release stops instead."""
    cell = nbformat.v4.new_code_cell("check('corr2d.example', corr2d)",
                                     metadata={"tags": [TAG], "nbgrader": {"grade": True, "grade_id": "x"}})
    path = tmp_path / "a.ipynb"
    nbformat.write(_notebook(cell), str(path))
    with pytest.raises(SystemExit, match="nbgrader cell"):
        release.drop_instructor_cells(path)


def _tagged(notebook):
    return [c for c in notebook.cells if TAG in c.metadata.get("tags", [])]


@pytest.mark.parametrize("assignment", course.chapters())
def test_student_notebooks_hold_no_answers(assignment):
    name = course.chapters()[assignment]
    student = course.read(course.REPO / "chapters" / assignment / name)
    assert not _tagged(student)
    assert not any(c.source.startswith("**Answer to") for c in student.cells)


MINE = ["ch5_channels", "ch6_conv_1x1"]


@pytest.mark.parametrize("assignment", MINE)
def test_every_question_has_a_collapsed_hint_and_an_instructor_answer(assignment):
    cells = course.read(course.REPO / "solutions" / assignment / course.chapters()[assignment]).cells
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## Questions to think about"))
    questions = [i for i, c in enumerate(cells) if i > start and c.cell_type == "markdown"
                 and re.match(r"\d+\. ", c.source)]
    assert len(questions) >= 5
    for number, i in enumerate(questions, 1):
        assert cells[i].source.startswith(f"{number}. ")
        assert re.search(r":::\{admonition\} Hint\n:class: dropdown\n", cells[i].source), cells[i].source
        assert TAG in cells[i + 1].metadata.get("tags", []) and cells[i + 1].source.startswith(f"**Answer to {number}.**")
    assert len(_tagged(course.read(course.REPO / "chapters" / assignment / course.chapters()[assignment]))) == 0




@pytest.mark.parametrize("assignment, links", [
    ("ch5_channels", ["pooling.html", "lenet.html"]),
    ("ch6_conv_1x1", ["nin.html", "googlenet.html"]),
])
def test_a_summary_and_where_d2l_goes_next_end_the_chapter(assignment, links):
    cells = course.read(course.REPO / "chapters" / assignment / course.chapters()[assignment]).cells
    assert cells[-2].source.startswith("## Summary (小结)")
    assert cells[-1].source.startswith("## Where to go next")
    assert all(link in cells[-1].source for link in links)
