"""The graded checks tell right from wrong: every known mistake of grader/known_answers.py loses
points on its own exercise, with feedback that names it, and nowhere else; every right answer
written differently from the notes keeps full marks."""
import dataclasses
import re

import numpy as np
import pytest

from grader import checks, compare, diagnose
from grader import known_answers as ka
from grader.checks import CHECKS, make_cases
from grader.notebook import run_check


def _by_name(answers):
    return pytest.mark.parametrize("answer", answers, ids=[a.name for a in answers])


def _failures(results):
    return [(check_id, problem) for check_id, problem in results.items() if problem]


def _report(results):
    return "\n".join(f"  {check_id}: {problem or 'passed'}" for check_id, problem in results.items())


# ---------------------------------------------------------------- the catalogue itself

def test_catalogue_covers_every_exercise():
    assert set(ka.EXERCISES) == {check.exercise for check in CHECKS.values()}
    for exercise in ka.EXERCISES:
        assert sum(a.exercise == exercise for a in ka.WRONG) >= 5, exercise
        assert any(a.exercise == exercise for a in ka.RIGHT), exercise
    names = [a.name for a in ka.WRONG + ka.RIGHT]
    assert len(names) == len(set(names)), "answer names must be unique"
    assert all(a.expect for a in ka.WRONG) and not any(a.expect for a in ka.RIGHT)


@_by_name(ka.WRONG + ka.RIGHT)
def test_answer_defines_its_exercise(answer):
    """Else the chapter's right answer would be graded in its place, and prove nothing."""
    namespace = ka.base_namespace()
    namespace.pop(answer.exercise, None)
    exec(compile(answer.source, "<answer>", "exec"), namespace)
    assert answer.exercise in namespace
    assert answer.name.split(".")[0] == answer.exercise
    if answer.expect:
        re.compile(answer.expect)


# ---------------------------------------------------------------- wrong answers

@_by_name(ka.WRONG)
def test_wrong_answer_loses_points_with_feedback_that_names_it(answer):
    results = ka.grade(ka.chapter_namespace(answer), answer.exercise)
    failures = _failures(results)
    assert failures, f"{answer.description}: passes every check of {answer.exercise}\n{_report(results)}"
    check_id, message = failures[0]
    assert re.search(answer.expect, message, re.S), (
        f"{answer.description}: the first failure ({check_id}) does not match {answer.expect!r}:\n{message}")


_ELSEWHERE = [(answer, other) for answer in ka.WRONG
              for other in ka.CHAPTERS[ka.chapter_of(answer.exercise)] if other != answer.exercise]


@pytest.mark.parametrize("answer, other", _ELSEWHERE, ids=[f"{a.name}-{o}" for a, o in _ELSEWHERE])
def test_wrong_answer_costs_nothing_on_the_other_exercises_of_its_chapter(answer, other):
    results = ka.grade(ka.chapter_namespace(answer), other)
    assert not _failures(results), f"{answer.description} costs points on {other}:\n{_report(results)}"


@pytest.mark.parametrize("name, other", [("conv2d_output_shape.padding_one_side", "corr2d_pad_stride"),
                                         ("corr2d_multi_in.stacked", "corr2d_multi_in_out")])
def test_the_test_above_can_fail(name, other):
    """Without ``isolate`` the chapter's other exercise would call the wrong answer and fail."""
    answer = next(a for a in ka.WRONG if a.name == name)
    namespace = ka.chapter_namespace(answer)
    results = [run_check(dataclasses.replace(check, isolate=()), namespace[other],
                         make_cases(check, ka.STUDENT, ka.ASSIGNMENT), ka.STUDENT, ka.ASSIGNMENT)
               for check in ka.checks_of(other)]
    assert any(results)



# ---------------------------------------------------------------- right answers

@_by_name(ka.RIGHT)
def test_right_answer_keeps_full_marks(answer):
    results = ka.grade(ka.chapter_namespace(answer), answer.exercise)
    assert not _failures(results), f"{answer.description} loses points:\n{_report(results)}"


# ---------------------------------------------------------------- the table and the diagnosis

def test_points_table():
    wrong = next(a for a in ka.WRONG if a.name == "corr2d.flipped_kernel")
    right = next(a for a in ka.RIGHT if a.name == "corr2d.numpy_inside")
    points = {check_id: 2 for check_id in CHECKS if check_id.startswith("corr2d.")}
    rows = ka.points_table(points, [wrong, right])
    assert rows[1] == ("corr2d", right.name, right.description, 8, 8)
    assert rows[0][:3] == ("corr2d", wrong.name, wrong.description) and rows[0][4] == 8
    assert 0 <= rows[0][3] < 8


def test_diagnosis_names_a_partly_filled_output_and_nothing_for_noise():
    rng = np.random.default_rng(0)
    X, K = rng.uniform(-1, 1, (5, 7)), rng.uniform(-1, 1, (2, 3))
    expected = diagnose._corr(X, K)
    partial = np.zeros_like(expected)
    partial[:, :4] = expected[:, :4]
    assert "top-left 4×4" in diagnose.hint("corr2d", {"X": X, "K": K}, partial)
    assert "K.T" in diagnose.hint("corr2d", {"X": X[:4, :4], "K": K[:2, :2]}, diagnose._corr(X[:4, :4], K[:2, :2].T))
    assert diagnose.hint("corr2d", {"X": X, "K": K}, expected + rng.uniform(-1, 1, expected.shape)) is None
    assert diagnose.explain(None, "corr2d", {"X": X, "K": K}, expected) is None
    assert diagnose.hint("no such exercise", {}, expected) is None


def test_a_hint_names_only_a_mistake_that_explains_every_failing_case():
    rng = np.random.default_rng(1)
    cases = [{"X": rng.uniform(-1, 1, (5, 7)), "K": rng.uniform(-1, 1, (2, 3))} for _ in range(2)]
    flipped = [diagnose._corr(c["X"], c["K"][::-1, ::-1]) for c in cases]
    halved = [diagnose._corr(c["X"], c["K"]) / 6 for c in cases]
    assert "true convolution" in diagnose.common_hint("corr2d", list(zip(cases, flipped)))
    assert "divided by kh·kw" in diagnose.common_hint("corr2d", list(zip(cases, halved)))
    # each case alone has its explanation, but no one mistake explains both: no hint
    assert diagnose.common_hint("corr2d", [(cases[0], flipped[0]), (cases[1], halved[1])]) is None


def test_a_hint_names_every_mistake_that_explains_the_failures_alike():
    """The notes' two-channel example: kernels transposed give what kernels in reverse order give."""
    X, K = (np.asarray(a, dtype=np.float64) for a in (
        [[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]], [[[0, 1], [2, 3]], [[1, 2], [3, 4]]]))
    transposed = sum(diagnose._corr(x, k.T) for x, k in zip(X, K))
    found = diagnose.hint("corr2d_multi_in", {"X": X, "K": K}, transposed)
    assert "reverse order" in found and "K[i].T" in found


def test_dtypes_float32_and_float64_pass_lower_precision_and_integers_fail_with_a_hint():
    assert compare.check_dtype("float32", np.float64, "X") is None
    assert compare.check_dtype("float64", np.float32, "X") is None
    assert compare.check_dtype("float16", np.float32, "X") == (
        "for X your output has dtype float16; expected float32 like the input (float64 is accepted too)")
    assert "expected float64 like the input" in compare.check_dtype("int32", np.float64, "X")
    X, K = np.ones((3, 3)), np.ones((2, 2))
    output = diagnose._corr(X, K)
    assert "significant digits" in diagnose.hint("corr2d", {"X": X, "K": K}, (output, "float16"))
    assert "drops the fraction" in diagnose.hint("corr2d", {"X": X, "K": K}, (output, "int32"))
    assert diagnose.hint("corr2d", {"X": X, "K": K}, (output, "float32")) is None


def test_a_malformed_dtype_from_the_students_side_is_rejected():
    with pytest.raises(compare.AnswerError):
        checks._checked_output((np.zeros(2), "float32<script>"))
    with pytest.raises(compare.AnswerError):
        checks._checked_output((np.zeros(2, dtype=np.float32), "float32"))
    assert checks._checked_output((np.zeros(2), "float16"))[1] == "float16"
