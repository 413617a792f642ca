"""Turn a student's answer into plain data and compare it with the reference, in plain words.

Every function here returns ``None`` when the answer is right and otherwise one sentence
that says what was wrong and on what input (shapes only: hidden inputs are never shown).
The student runtime's visible checks and the grader's checks (through grader/compare.py) both use
these: one tolerance, one wording.
"""
import math
import numbers

import numpy as np

# |yours - expected| <= ATOL + RTOL * |expected|, elementwise. Inputs are in [-1, 1] and sums
# have at most a few hundred terms, so float32 arithmetic stays well inside this.
RTOL = 1e-4
ATOL = 1e-4
TOLERANCE_TEXT = f"|yours - expected| <= {ATOL:g} + {RTOL:g}·|expected|"


class AnswerError(Exception):
    """The student's answer is not of the kind the exercise asks for (type, dtype, shape)."""


def plain_array(value, what):
    """``(float64 numpy copy, dtype name)`` of an MXNet NDArray, or AnswerError saying why it is not
    one. The dtype travels as a string so that the trusted side judges it (see ``check_dtype``)."""
    from mxnet import nd  # imported here so the comparison side can run without MXNet

    if type(value) is not nd.NDArray:  # exact type: no subclass that fakes comparisons
        raise AnswerError(f"{what} is {_kind(value)}; expected an MXNet NDArray")
    array = value.asnumpy()
    if type(array) is not np.ndarray or array.dtype.kind not in "fiub":
        raise AnswerError(f"{what} has dtype {array.dtype}; expected a float NDArray")
    return np.array(array, dtype=np.float64, copy=True), str(array.dtype)


# The dtypes an output may have: float32 or float64 whatever the input's (the notes' nd.zeros
# makes float32 for any input, and float64 for a float32 input loses nothing). Lower precision
# (float16: about 3 significant digits) or integers (fractions dropped) fail, with their own message.
FLOAT_DTYPES = ("float32", "float64")


def check_dtype(dtype, input_dtype, case_text, what="output"):
    """None if ``dtype`` (a name) is float32 or float64, else a sentence saying what was expected."""
    if dtype in FLOAT_DTYPES:
        return None
    expected = np.dtype(input_dtype).name if np.dtype(input_dtype).name in FLOAT_DTYPES else "float32"
    other = next(d for d in FLOAT_DTYPES if d != expected)
    return (f"for {case_text} your {what} has dtype {dtype}; expected {expected} like the input "
            f"({other} is accepted too)")


def plain_float(value, what):
    """A Python float from an int or float (numpy scalars included), or AnswerError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        hint = " (call .asscalar() on it)" if type(value).__name__ == "NDArray" else ""
        raise AnswerError(f"{what} is {_kind(value)}{hint}; expected a float")
    return float(value)


def plain_int_pair(value, what):
    """A tuple of two Python ints, or AnswerError."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise AnswerError(f"{what} is {_kind(value)}; expected a tuple (h, w) of two ints")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise AnswerError(f"{what} contains {_kind(item)}; expected a tuple (h, w) of two ints")
    return (int(value[0]), int(value[1]))


def _kind(value):
    if value is None:
        return "None"
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" or name.startswith("ND") else "a"
    return f"{article} {name}"


def shape_text(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + (",)" if len(shape) == 1 else ")")


def compare_shape(actual, expected_shape, case_text, what="output"):
    actual_shape, expected_shape = tuple(actual.shape), tuple(expected_shape)
    if actual_shape == expected_shape:
        return None
    problem = f"for {case_text} your {what} has shape {shape_text(actual_shape)}; expected {shape_text(expected_shape)}"
    # Axes of length 1 added or dropped (an extra leading axis, a squeeze) are said as such.
    if len(actual_shape) > len(expected_shape) and tuple(n for n in actual_shape if n != 1) == \
            tuple(n for n in expected_shape if n != 1):
        extra = len(actual_shape) - len(expected_shape)
        problem += f": it has {'an extra axis' if extra == 1 else f'{extra} extra axes'} of length 1"
    elif len(actual_shape) < len(expected_shape) and tuple(n for n in actual_shape if n != 1) == \
            tuple(n for n in expected_shape if n != 1):
        problem += ": an axis of length 1 is missing (was it squeezed away?)"
    return problem


def compare_values(actual, expected, case_text, what="output"):
    """Shape first, then values within the stated tolerance, naming the first differing position."""
    problem = compare_shape(actual, expected.shape, case_text, what)
    if problem:
        return problem
    bad = ~(np.abs(actual - expected) <= ATOL + RTOL * np.abs(expected))  # NaN counts as bad
    if not bad.any():
        return None
    position = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"for {case_text} your {what} differs from the expected one at position "
            f"{shape_text(position)}: yours is {_number(actual[position])}, expected "
            f"{_number(expected[position])} ({int(bad.sum())} of {bad.size} values differ; "
            f"tolerance {TOLERANCE_TEXT})")


def _number(x):
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


def training_problem(K, dtype, losses, kernel_size, num_epochs, case_text, loss_of_returned):
    """What is wrong with train_kernel's (K, losses), judged without its data: K's dtype and shape,
    one finite loss per epoch, falling, and a last loss no smaller than the summed squared error
    of the K returned (``loss_of_returned(K)``: the grader computes it with its reference, a
    student's edition in numpy). None when nothing is."""
    problem = check_dtype(dtype, "float32", case_text, "K") or compare_shape(K, kernel_size, case_text, "K")
    if problem:
        return problem
    if len(losses) != num_epochs:
        return f"for {case_text} your losses has {len(losses)} entries; expected one per epoch, {num_epochs}"
    if not np.all(np.isfinite(losses)) or not np.all(np.isfinite(K)):
        return f"for {case_text} your losses or K contain NaN or infinity"
    for n in range(1, len(losses)):
        if losses[n] > losses[n - 1] * (1 + 1e-4) + 1e-6:
            return (f"for {case_text} your loss rose from epoch {n} to epoch {n + 1} "
                    f"({losses[n - 1]:.6g} to {losses[n]:.6g}); gradient descent must make it fall")
    # A first loss already at rounding level (a 1×1 kernel learnt in one step, losses recorded
    # after the update) cannot fall by half: judging it would judge rounding noise.
    if len(losses) >= 4 and losses[0] > 1e-6 and not losses[-1] < 0.5 * losses[0]:
        return (f"for {case_text} your loss hardly fell ({losses[0]:.6g} to {losses[-1]:.6g}); "
                f"is the kernel updated in each epoch?")
    final_loss = loss_of_returned(K)
    if final_loss > losses[-1] * (1 + 1e-3) + 1e-4:
        return (f"for {case_text} your last loss is {losses[-1]:.6g}, but the summed squared error of "
                f"the K you return is {final_loss:.6g}, larger: is each loss the sum over all outputs, "
                f"and is the update made with the lr given?")
    return None


def recovery_problem(K, expected, tolerance, case_text):
    """Whether the learned K is within ``tolerance`` of the kernel the data was made with."""
    error = np.abs(K - expected)
    if error.max() > tolerance:
        position = tuple(int(n) for n in np.unravel_index(error.argmax(), K.shape))
        return (f"for {case_text} your K is {K[position]:.6g} at position {shape_text(position)}, "
                f"expected {expected[position]:.6g} (within {tolerance:g}); the kernel was not learned")
    return None
