"""Turn a student's answer into plain data and compare it with the reference, in plain words.

Every function here returns ``None`` when the answer is right and otherwise one sentence
that says what was wrong and on what input (shapes only: hidden inputs are never shown).
The student runtime's visible checks and the grader's checks (through grader/compare.py) both use
these: one tolerance, one wording.
"""
import math
import numbers

import numpy as np

from .i18n import translator

_ = translator("course_runtime")

# |yours - expected| <= ATOL + RTOL * |expected|, elementwise. Inputs are in [-1, 1] and sums
# have at most a few hundred terms, so float32 arithmetic stays well inside this.
RTOL = 1e-4
ATOL = 1e-4


def tolerance_text():
    return _("|yours - expected| <= {atol} + {rtol}·|expected|").format(atol=f"{ATOL:g}", rtol=f"{RTOL:g}")


class AnswerError(Exception):
    """The student's answer is not of the kind the exercise asks for (type, dtype, shape)."""


def plain_array(value, what):
    """``(float64 numpy copy, dtype name)`` of an MXNet NDArray, or AnswerError saying why it is not
    one. The dtype travels as a string so that the trusted side judges it (see ``check_dtype``)."""
    from mxnet import nd  # imported here so the comparison side can run without MXNet

    if type(value) is not nd.NDArray:  # exact type: no subclass that fakes comparisons
        raise AnswerError(_("{what} is {kind}; expected an MXNet NDArray").format(what=what, kind=_kind(value)))
    array = value.asnumpy()
    if type(array) is not np.ndarray or array.dtype.kind not in "fiub":
        raise AnswerError(_("{what} has dtype {dtype}; expected a float NDArray").format(what=what, dtype=array.dtype))
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
    return _("for {case} your {what} has dtype {dtype}; expected {expected} like the input ({other} is "
             "accepted too)").format(case=case_text, what=_what(what), dtype=dtype, expected=expected, other=other)


def plain_float(value, what):
    """A Python float from an int or float (numpy scalars included), or AnswerError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if type(value).__name__ == "NDArray":
            raise AnswerError(_("{what} is {kind} (call .asscalar() on it); expected a float").format(
                what=what, kind=_kind(value)))
        raise AnswerError(_("{what} is {kind}; expected a float").format(what=what, kind=_kind(value)))
    return float(value)


def plain_int_pair(value, what):
    """A tuple of two Python ints, or AnswerError."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise AnswerError(_("{what} is {kind}; expected a tuple (h, w) of two ints").format(
            what=what, kind=_kind(value)))
    for item in value:
        if isinstance(item, bool) or not isinstance(item, numbers.Integral):
            raise AnswerError(_("{what} contains {kind}; expected a tuple (h, w) of two ints").format(
                what=what, kind=_kind(item)))
    return (int(value[0]), int(value[1]))


def _kind(value):
    if value is None:
        return "None"
    name = type(value).__name__
    if name[:1].lower() in "aeiou" or name.startswith("ND"):
        return _("an {type}").format(type=name)
    return _("a {type}").format(type=name)


def _what(what):
    """The name of what is compared, in the current language (K and losses stay as they are)."""
    return _("output") if what == "output" else what


def shape_text(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + (",)" if len(shape) == 1 else ")")


def compare_shape(actual, expected_shape, case_text, what="output"):
    actual_shape, expected_shape = tuple(actual.shape), tuple(expected_shape)
    if actual_shape == expected_shape:
        return None
    problem = _("for {case} your {what} has shape {shape}; expected {expected}").format(
        case=case_text, what=_what(what), shape=shape_text(actual_shape), expected=shape_text(expected_shape))
    # Axes of length 1 added or dropped (an extra leading axis, a squeeze) are said as such.
    if len(actual_shape) > len(expected_shape) and tuple(n for n in actual_shape if n != 1) == \
            tuple(n for n in expected_shape if n != 1):
        extra = len(actual_shape) - len(expected_shape)
        problem += (_(": it has an extra axis of length 1") if extra == 1
                    else _(": it has {count} extra axes of length 1").format(count=extra))
    elif len(actual_shape) < len(expected_shape) and tuple(n for n in actual_shape if n != 1) == \
            tuple(n for n in expected_shape if n != 1):
        problem += _(": an axis of length 1 is missing (was it squeezed away?)")
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
    return _("for {case} your {what} differs from the expected one at position {position}: yours is "
             "{yours}, expected {expected} ({count} of {size} values differ; tolerance {tolerance})").format(
        case=case_text, what=_what(what), position=shape_text(position), yours=_number(actual[position]),
        expected=_number(expected[position]), count=int(bad.sum()), size=bad.size, tolerance=tolerance_text())


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
        return _("for {case} your losses has {count} entries; expected one per epoch, {epochs}").format(
            case=case_text, count=len(losses), epochs=num_epochs)
    if not np.all(np.isfinite(losses)) or not np.all(np.isfinite(K)):
        return _("for {case} your losses or K contain NaN or infinity").format(case=case_text)
    for n in range(1, len(losses)):
        if losses[n] > losses[n - 1] * (1 + 1e-4) + 1e-6:
            return _("for {case} your loss rose from epoch {epoch} to epoch {next} ({before} to {after}); "
                     "gradient descent must make it fall").format(
                case=case_text, epoch=n, next=n + 1, before=f"{losses[n - 1]:.6g}", after=f"{losses[n]:.6g}")
    # A first loss already at rounding level (a 1×1 kernel learnt in one step, losses recorded
    # after the update) cannot fall by half: judging it would judge rounding noise.
    if len(losses) >= 4 and losses[0] > 1e-6 and not losses[-1] < 0.5 * losses[0]:
        return _("for {case} your loss hardly fell ({first} to {last}); is the kernel updated in each "
                 "epoch?").format(case=case_text, first=f"{losses[0]:.6g}", last=f"{losses[-1]:.6g}")
    final_loss = loss_of_returned(K)
    if final_loss > losses[-1] * (1 + 1e-3) + 1e-4:
        return _("for {case} your last loss is {last}, but the summed squared error of the K you return is "
                 "{final}, larger: is each loss the sum over all outputs, and is the update made with the lr "
                 "given?").format(case=case_text, last=f"{losses[-1]:.6g}", final=f"{final_loss:.6g}")
    return None


def recovery_problem(K, expected, tolerance, case_text):
    """Whether the learned K is within ``tolerance`` of the kernel the data was made with."""
    error = np.abs(K - expected)
    if error.max() > tolerance:
        position = tuple(int(n) for n in np.unravel_index(error.argmax(), K.shape))
        return _("for {case} your K is {yours} at position {position}, expected {expected} (within "
                 "{tolerance}); the kernel was not learned").format(
            case=case_text, yours=f"{K[position]:.6g}", position=shape_text(position),
            expected=f"{expected[position]:.6g}", tolerance=f"{tolerance:g}")
    return None
