"""``check("corr2d.example", corr2d)``: what the graded cells of a chapter notebook call.

Two environments run the notebooks:

* the instructor's, which has the course's grader (the ``grader`` package next to nbgrader_config.py,
  where ``nbgrader autograde`` runs): every check, the hidden ones too, is graded there by
  ``grader.notebook.check``;
* a student's, made from the student edition, which has only this runtime: the visible example
  checks run against the expected outputs stored in ``examples.json`` (generated from the
  grader's checks and reference by ``python -m book.student_edition examples``), with the same
  tolerance and messages as the grader. A hidden check only says that the instructor grades it.

In a student's environment an exercise is checked with the student's own versions of the
exercises it calls (the grader swaps in the reference's): a wrong ``conv2d_output_shape`` can make
the ``corr2d_pad_stride`` example fail too.
"""
import json
import random
from pathlib import Path

import numpy as np

from . import compare
from .compare import (AnswerError, check_dtype, compare_values, plain_array, plain_float, plain_int_pair,
                      recovery_problem, training_problem,
                      shape_text)
from .i18n import current_language, translator
from .messages import GradingFailure, describe_exception

_ = translator("course_runtime")

EXAMPLES_FILE = Path(__file__).with_name("examples.json")


def check(check_id, answer):
    """Check ``answer`` (your function or class) on the check named ``check_id``; raise
    GradingFailure saying what is wrong, or print that it passed."""
    instructor_check = _instructor_check()
    if instructor_check is not None:
        return instructor_check(check_id, answer)
    return check_example(check_id, answer)


def _instructor_check():
    """``grader.notebook.check`` where the course's grader is installed, else None. Only the grader's
    absence means a student's environment: a grader that fails to import is an error, so that a
    broken instructor's environment cannot pass the hidden checks by skipping them."""
    try:
        from grader.notebook import check as instructor_check
    except ModuleNotFoundError as error:
        if error.name not in ("grader", "grader.notebook"):
            raise
        return None
    return instructor_check


def load_examples(path=EXAMPLES_FILE):
    return json.loads(Path(path).read_text("utf8"), object_hook=_decode)


def _decode(value):
    if "array" in value and "dtype" in value:
        return np.array(value["array"], dtype=value["dtype"])
    if "tuple" in value:
        return tuple(value["tuple"])
    return value


def check_example(check_id, answer, examples=None):
    """The student's route: a visible check on its stored cases."""
    examples = examples or load_examples()
    if check_id in examples["hidden"]:
        print(_("{check}: graded by your instructor with hidden tests (nothing to run here)").format(check=check_id))
        return
    if check_id not in examples["examples"]:
        raise KeyError(_("no check named {check}: the checks are {checks}").format(
            check=repr(check_id), checks=", ".join(sorted(examples["examples"]))))
    example = examples["examples"][check_id]
    problem = example_problem(example, answer)
    if problem:
        raise GradingFailure(problem) from None
    print(_("{check}: passed ({summary})").format(check=check_id, summary=in_language(example["summary"])))


def in_language(texts):
    """The text of the current language from ``{"en": ..., "zh_CN": ...}`` (examples.json keeps the
    cases' descriptions and summaries in every language of the course), else the English one."""
    if isinstance(texts, str):
        return texts
    return texts.get(current_language()) or texts["en"]


def example_problem(example, answer):
    """The message of the first failing case of a stored example, or None."""
    run, judge = KINDS[example["kind"]]
    for case in example["cases"]:
        case = dict(case, text=in_language(case["text"]))
        _seed_random_generators(example["mxnet_random"])
        try:
            result = run(answer, case["inputs"])
        except AnswerError as error:
            return _("for {case} {problem}").format(case=case["text"], problem=error)
        except Exception as error:
            return _("for {case} {problem}").format(case=case["text"],
                                                    problem=describe_exception(error, example["exercise"]))
        problem = judge(result, case)
        if problem:
            return problem
    return None


def _seed_random_generators(mxnet):
    """Each case starts from the same random state, so a verdict does not change from run to run."""
    random.seed(0)
    np.random.seed(0)
    if mxnet:
        import mxnet as mx
        mx.random.seed(0)


def _nd(array):
    from mxnet import nd
    return nd.array(array, dtype=array.dtype)


# ---------------------------------------------------------------- the student's side of a case

def _run_xk(answer, inputs):
    return plain_array(answer(_nd(inputs["X"]), _nd(inputs["K"])), _("your output"))


def _run_pad_stride(answer, inputs):
    return plain_array(answer(_nd(inputs["X"]), _nd(inputs["K"]), padding=inputs["padding"],
                              strides=inputs["strides"]), _("your output"))


def _run_conv2d(Conv2D, inputs):
    weight, bias = inputs["weight"], inputs["bias"]
    layer = Conv2D(weight.shape)
    layer.initialize()
    for name, value in (("weight", weight), ("bias", bias)):
        param = getattr(layer, name, None)
        if param is None or not hasattr(param, "set_data"):
            raise AnswerError(_("your Conv2D has no parameter named {name}").format(name=name))
        if tuple(param.shape) != value.shape:
            raise AnswerError(_("your {name} has shape {shape}; expected {expected}").format(
                name=name, shape=shape_text(param.shape), expected=shape_text(value.shape)))
        param.set_data(_nd(value))
    return plain_array(layer(_nd(inputs["X"])), _("your output"))


def _run_output_shape(conv2d_output_shape, inputs):
    answer = conv2d_output_shape(inputs["input_shape"], inputs["kernel_size"], padding=inputs["padding"],
                                 strides=inputs["strides"])
    return plain_int_pair(answer, _("your answer"))


def _run_train_kernel(train_kernel, inputs):
    return training_answer(train_kernel(_nd(inputs["X"]), _nd(inputs["Y"]), inputs["kernel_size"]))  # default epochs, lr


def training_answer(answer):
    """What train_kernel returned, as plain data: (K, float64 losses); AnswerError if it is not
    a tuple (K, losses) with a list of numbers (the grader's hidden checks use this too)."""
    if not isinstance(answer, tuple) or len(answer) != 2:
        raise AnswerError(_("your train_kernel returned {kind}; expected a tuple (K, losses)").format(
            kind=compare._kind(answer)))
    K, losses = answer
    if not isinstance(losses, (list, tuple)):
        raise AnswerError(_("your losses is {kind}; expected a list of floats").format(kind=compare._kind(losses)))
    return (plain_array(K, _("your K")),
            np.array([plain_float(v, f"losses[{n}]") for n, v in enumerate(losses)], dtype=np.float64))


# ---------------------------------------------------------------- judging against the stored answer

def _judge_values(result, case):
    (array, dtype), text = result, case["text"]
    return check_dtype(dtype, case["inputs"]["X"].dtype, text) or compare_values(array, case["expected"], text)


def _judge_output_shape(answer, case):
    if answer != case["expected"]:
        return _("for {case} your answer is {answer}; expected {expected}").format(
            case=case["text"], answer=shape_text(answer), expected=shape_text(case["expected"]))
    return None


def _squared_error(X, Y, K):
    windows = np.lib.stride_tricks.sliding_window_view(X.astype(np.float64), K.shape)
    return float(((np.einsum("ijkl,kl->ij", windows, K) - Y) ** 2).sum())


def _judge_training(result, case):
    """The grader's rules for train_kernel (course_runtime/compare.py, shared with grader/checks.py),
    on the stored data of the notes."""
    (K, dtype), losses = result
    inputs, text = case["inputs"], case["text"]
    return (training_problem(K, dtype, losses, inputs["kernel_size"], inputs["num_epochs"], text,
                             lambda K: _squared_error(inputs["X"], inputs["Y"], K.astype(np.float32).astype(np.float64)))
            or recovery_problem(K, case["expected"], case["tolerance"], text))


# The kinds of visible check: how the answer is called, how its result is judged.
KINDS = {
    "xk": (_run_xk, _judge_values),
    "pad_stride": (_run_pad_stride, _judge_values),
    "conv2d": (_run_conv2d, _judge_values),
    "output_shape": (_run_output_shape, _judge_output_shape),
    "train_kernel": (_run_train_kernel, _judge_training),
}
