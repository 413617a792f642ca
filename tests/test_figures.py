"""The course's figures of fixed numbers: drawn once, shown as the PNG Jupyter's inline backend
would show, and drawn ahead by the grading worker when a chapter shows them after an exercise
(where the grader runs the cell in every submission)."""
import re

import pytest

from course_runtime import figures
from tests import course

DRAWN = {name: value for name, value in vars(figures).items() if hasattr(value, "png") and hasattr(value, "draw")}


def test_a_figure_is_drawn_once_and_shown_as_its_png(monkeypatch):
    pytest.importorskip("IPython")
    from IPython.core.pylabtools import print_figure
    drawn, shown = [], []

    @figures.drawn_once
    def square(size=2):
        drawn.append(size)
        figure = figures.plt.figure(figsize=(size, size))
        figure.gca().plot([0, 1], [0, 1])
        return figure

    monkeypatch.setattr("IPython.display.display", lambda image: shown.append(image.data))
    square()
    square()
    square(size=3)
    assert drawn == [2, 3]  # once per distinct arguments
    assert shown[0] == shown[1] != shown[2]
    assert shown[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert shown[0] == print_figure(square.draw(), "png", bbox_inches="tight")  # what the inline backend shows
    assert square not in figures._AHEAD


def _calls_after_the_first_exercise(notebook):
    cells = notebook.cells
    first = next(i for i, c in enumerate(cells) if course.nbgrader_meta(c).get("solution"))
    return {name for c in cells[first + 1:] if c.cell_type == "code"
            for name in re.findall(r"\b(\w+)\(", c.source) if name in DRAWN}


@pytest.mark.parametrize("assignment", list(course.chapters()))
def test_figures_shown_after_an_exercise_are_drawn_ahead_by_the_grader(assignment):
    release = course.read(course.REPO / "chapters" / assignment / course.chapters()[assignment])
    for name in _calls_after_the_first_exercise(release):
        assert DRAWN[name].ahead, f"{assignment} shows {name} after an exercise: mark it @drawn_once(ahead=True)"


def test_prepare_draws_the_figures_marked_ahead():
    assert figures._AHEAD and all(figure.ahead for figure in figures._AHEAD)
    figures.prepare()
    for figure in figures._AHEAD:
        assert figure.png()[:8] == b"\x89PNG\r\n\x1a\n"
