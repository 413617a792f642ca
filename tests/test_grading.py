"""The instructor's workflow end to end with nbgrader's own commands, on a sample class.

The class (tests/conftest.py) is released, submitted, autograded, given feedback and exported
once per test session; these tests read what nbgrader produced.
"""
import re

import pytest

from grader.checks import CHECKS
from tests import course

pytestmark = pytest.mark.slow

ASSIGNMENTS = list(course.chapters())
HIDDEN_CHECKS = [i for i in CHECKS if not i.endswith(".example")]


def _expected_cells(graded_class):
    return [(student, assignment) for (student, assignment), cells in graded_class.expected.items() if cells]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_solution_passes_every_graded_cell(graded_class, assignment):
    scores = graded_class.cells("complete", assignment)
    assert scores and all(score == top for score, top in scores.values()), scores


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_released_stub_fails_every_graded_cell(graded_class, assignment):
    scores = graded_class.cells("blank", assignment)
    assert scores and all(score == 0 and top > 0 for score, top in scores.values()), scores


def test_every_student_gets_the_expected_cell_scores(graded_class):
    mismatches = []
    for student, assignment in _expected_cells(graded_class):
        scores = graded_class.cells(student, assignment)
        for gid, passes in graded_class.expected[(student, assignment)].items():
            score, top = scores[gid]
            if passes is True and score != top or passes is False and score != 0:
                mismatches.append(f"{student}/{assignment}/{gid}: {score} of {top}, expected "
                                  f"{'full points' if passes else 'zero'}")
    assert not mismatches, "\n".join(mismatches)


def test_a_wrong_answer_loses_points_on_its_own_exercise(graded_class):
    for student, assignment in _expected_cells(graded_class):
        if not student.startswith("wrong-"):
            continue
        own = [gid for gid, passes in graded_class.expected[(student, assignment)].items() if passes is None]
        scores = graded_class.cells(student, assignment)
        assert sum(scores[gid][0] for gid in own) < sum(scores[gid][1] for gid in own), (student, scores)


def test_exported_totals_match_the_cells(graded_class):
    for (student, assignment), cells in graded_class.expected.items():
        score, top = graded_class.grades[(student, assignment)]
        if cells is None:  # could not be graded: nbgrader records no submission, so 0
            assert score == 0, (student, assignment, score)
            continue
        scores = graded_class.cells(student, assignment)
        assert score == sum(s for s, _ in scores.values()) and top == sum(t for _, t in scores.values())


def test_a_broken_submission_does_not_stop_the_class(graded_class):
    ch1, ch2 = ASSIGNMENTS[:2]
    assert "broken" in graded_class.autograde_logs[ch1] and "JSON" in graded_class.autograde_logs[ch1]
    assert graded_class.grades[("broken", ch2)][0] == graded_class.grades[("broken", ch2)][1] > 0
    for student in ("complete", "partly", "shuffled"):  # graded after "broken" in nbgrader's order
        assert (graded_class.root / "autograded" / student / ch1).is_dir(), student


def test_a_reordered_notebook_is_graded_on_its_answers(graded_class):
    ch1 = ASSIGNMENTS[0]
    score, top = graded_class.grades[("shuffled", ch1)]
    assert score == top > 0
    assert re.search(r"shuffled/\S+: cell \S+ was missing and is restored", graded_class.autograde_logs[ch1])


def test_feedback_shows_no_hidden_test_and_names_the_mistake(graded_class):
    for (student, assignment), cells in graded_class.expected.items():
        if cells is None:
            continue
        html = next((graded_class.root / "feedback" / student / assignment).glob("*.html")).read_text()
        assert "HIDDEN TESTS" not in html
        assert not [i for i in HIDDEN_CHECKS if f"&quot;{i}&quot;" in html or f'"{i}"' in html]
        if student == "blank":
            assert "still the stub" in html
        if student.startswith("wrong-"):
            assert "GradingFailure" in html and "for " in html


def test_grading_twice_gives_the_same_scores(graded_class):
    """Random inputs are a function of the submission: a second autograde changes nothing."""
    ch1 = ASSIGNMENTS[0]
    before = graded_class.cells("wrong-corr2d", ch1)
    course.nbgrader("autograde", ch1, "--force", "--student", "wrong-corr2d", cwd=graded_class.root)
    assert graded_class.cells("wrong-corr2d", ch1) == before
