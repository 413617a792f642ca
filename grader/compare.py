"""The plain comparison helpers live in the student runtime (course_runtime/compare.py), which
both the visible checks of a student's edition and the grader's hidden checks use: one source for
the tolerance and the wording. Re-exported here for the grader's modules."""
from course_runtime.compare import (
    ATOL, FLOAT_DTYPES, RTOL, tolerance_text, AnswerError, _kind, _number, check_dtype, compare_shape,
    compare_values, plain_array, plain_float, plain_int_pair, recovery_problem, shape_text, training_problem)

__all__ = ["ATOL", "FLOAT_DTYPES", "check_dtype", "RTOL", "tolerance_text", "AnswerError", "_kind", "_number", "compare_shape", "compare_values",
           "plain_array", "plain_float", "plain_int_pair", "recovery_problem", "shape_text", "training_problem"]
