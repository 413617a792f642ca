"""The exercises' rules: what an answer must compute itself instead of taking it ready-made.

An exercise that asks for a cross-correlation must not get it from one of MXNet's convolution
operators (``nd.Convolution`` and its relatives, under any name: Gluon's convolution layers run
them too) nor from the course's own code (grader.reference, built on ``nd.Convolution``);
``conv2d_output_shape`` must compute its formula, not read the shape off a convolution or a
pooling. ``train_kernel`` may train Gluon's own ``nn.Conv2D``, as d2l does, but not take the
reference's training.

A chapter that builds on an earlier exercise gives a working version of it in a locked cell
(``from grader.reference import corr2d``). That helper, and the reference's version of another
exercise that a check puts in place of the student's (``Check.isolate``), stay allowed for the
exercises meant to use them; nothing else of the reference does. Chapter 6 gives the general
``corr2d_multi_in_out`` only to compare with: its exercises are the matrix products that replace it
(the 1×1 one, and the capstone ``corr2d_im2col``, which must unroll the windows itself, so MXNet's
own ``im2col`` is forbidden there too, and must make exactly one matrix product per call: the guard
counts the matrix-product operators, ``MATRIX_PRODUCT_OPS``, while it watches the forbidden ones).

The rules are enforced while the student's code runs (grader/guard.py), so an alias, ``getattr``
or ``importlib`` changes nothing, and an answer whose source reaches for MXNet's internals or the
grader's own state breaks the rule as well. An instructor turns a rule off in nbgrader_config.py:

    c.ExerciseRules.disabled = ["corr2d"]
"""
import inspect
import linecache
import sys
from dataclasses import dataclass
from pathlib import Path

from course_runtime.i18n import N_, translator

from . import LOCALE, guard

_ = translator("grader", LOCALE)


# MXNet's operators that compute a convolution or cross-correlation (their aliases, such as
# ``_npx_convolution`` for Convolution, share the handle; the backward ones compute one too).
# UpSampling's bilinear mode is a deconvolution with a weight given by the caller.
CONVOLUTION_OPS = frozenset({
    "Convolution", "Convolution_v1", "Deconvolution", "Correlation", "UpSampling",
    "_npx_convolution", "_npx_deconvolution",
    "_contrib_DeformableConvolution", "_contrib_ModulatedDeformableConvolution",
    "_contrib_quantized_conv", "_sg_mkldnn_conv",
    "_backward_Convolution", "_backward_Convolution_v1", "_backward_Deconvolution", "_backward_Correlation",
    "_backward__contrib_DeformableConvolution", "_backward__contrib_ModulatedDeformableConvolution",
})
# What gives the output shape of a sliding window without the formula.
WINDOW_OPS = CONVOLUTION_OPS | frozenset({
    "Pooling", "Pooling_v1", "_npx_pooling", "ROIPooling", "_npx_roi_pooling", "_contrib_quantized_pooling",
    "_contrib_AdaptiveAvgPooling2D", "_contrib_ROIAlign", "_contrib_RROIAlign", "_contrib_PSROIPooling",
    "_contrib_DeformablePSROIPooling", "im2col", "col2im", "_backward_im2col", "_backward_col2im",
})

# The capstone of chapter 6 asks for the unrolling itself: MXNet's im2col would give it away.
IM2COL_OPS = CONVOLUTION_OPS | frozenset({"im2col", "col2im", "_backward_im2col", "_backward_col2im"})


# The operators that make a matrix product: what the capstone must call exactly once.
MATRIX_PRODUCT_OPS = frozenset({
    "dot", "batch_dot", "FullyConnected", "_linalg_gemm", "_linalg_gemm2",
    "_np_dot", "_npi_matmul", "_npi_tensordot", "_npi_tensordot_int_axes", "_npi_einsum",
})


@dataclass(frozen=True)
class Rule:
    exercise: str
    forbidden_ops: frozenset
    sentence: str          # the rule as the chapter states it: "it must not use ..."
    advice: str            # what to do instead
    allowed_helpers: tuple = ()   # names of grader.reference functions the chapter gives for it
    reference_forbidden: bool = False   # any use of grader.reference breaks it, whatever the operators
    one_product: bool = False   # a call that returns must have run exactly one matrix product


# The sentences are English here (N_: in the catalog), said in the notebook's language by broken().
_CORRELATION = N_("it must not use nd.Convolution or another ready-made cross-correlation "
                  "(a Gluon convolution layer, a helper of the course's built on one)")
_CORRELATION_BUT_GIVEN = N_("it must not use nd.Convolution or another ready-made cross-correlation "
                            "(a Gluon convolution layer, a helper of the course's built on one) other than "
                            "the corr2d given in the chapter")

RULES = {rule.exercise: rule for rule in [
    Rule("corr2d", CONVOLUTION_OPS, _CORRELATION, N_("write the loop yourself")),
    Rule("Conv2D", CONVOLUTION_OPS, _CORRELATION_BUT_GIVEN, N_("call the given corr2d in forward"), ("corr2d",)),
    Rule("train_kernel", frozenset(), N_("it must not take its training from the course's own code "
                                         "other than the corr2d given in the chapter; a Gluon layer of its own is fine"),
         N_("write the loop with autograd yourself"), ("corr2d",), reference_forbidden=True),
    Rule("conv2d_output_shape", WINDOW_OPS,
         N_("it must compute the formula, not read the shape off a convolution, a pooling or a Gluon layer"),
         N_("compute it from the sizes with integer arithmetic")),
    Rule("corr2d_pad_stride", CONVOLUTION_OPS, _CORRELATION, N_("pad, then loop over the strided windows yourself")),
    Rule("corr2d_multi_in", CONVOLUTION_OPS, _CORRELATION_BUT_GIVEN, N_("sum the given corr2d over the channels"),
         ("corr2d",)),
    Rule("corr2d_multi_in_out", CONVOLUTION_OPS,
         N_("it must not use nd.Convolution or another ready-made cross-correlation (a Gluon convolution layer, "
            "a helper of the course's built on one) other than the corr2d given in the chapter and your "
            "corr2d_multi_in"),
         N_("stack corr2d_multi_in over the output channels"), ("corr2d",)),
    Rule("corr2d_multi_in_out_1x1", CONVOLUTION_OPS,
         N_("it must not use nd.Convolution or another ready-made cross-correlation "
            "(a Gluon convolution layer, the corr2d_multi_in_out given for comparison, another helper of the course's)"),
         N_("write the matrix product with nd.dot")),
    Rule("corr2d_im2col", IM2COL_OPS,
         N_("it must make its output with one matrix product (nd.dot) and must not use nd.Convolution or another "
            "ready-made cross-correlation, nor MXNet's own nd.im2col (a Gluon convolution layer, the "
            "corr2d_multi_in_out given for comparison, another helper of the course's)"),
         N_("unroll the windows into the columns of one matrix yourself, then multiply it once by the kernel matrix"),
         one_product=True),
]}

_disabled = frozenset()


def _validated(names):
    if isinstance(names, str) or not all(isinstance(name, str) for name in names):
        raise ValueError(f"ExerciseRules.disabled must be a list of exercise names, not {names!r}")
    unknown = sorted(set(names) - set(RULES))
    if unknown:
        raise ValueError(f"ExerciseRules.disabled names {', '.join(unknown)}, which has no rule; "
                         f"the exercises with rules are {', '.join(RULES)}")
    return list(names)


def set_disabled(names):
    """Turn off the rules of the exercises ``names`` (an instructor's choice, nbgrader_config.py)."""
    global _disabled
    _disabled = frozenset(_validated(names))


def disabled_in(config):
    """The list ``c.ExerciseRules.disabled`` of a traitlets Config (nbgrader's), [] if unset."""
    section = config["ExerciseRules"] if "ExerciseRules" in config else {}
    return _validated(list(section["disabled"]) if "disabled" in section else [])


_loaded = {}


def load_disabled(root):
    """Read and apply ``c.ExerciseRules.disabled`` from ``root``/nbgrader_config.py (no root: none)."""
    if root is None:
        set_disabled(())
        return []
    path = Path(root) / "nbgrader_config.py"
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _loaded:
        from traitlets.config.loader import PyFileConfigLoader
        _loaded[key] = disabled_in(PyFileConfigLoader(path.name, path=str(path.parent)).load_config())
    set_disabled(_loaded[key])
    return _loaded[key]


def rule_for(exercise):
    """The rule in force for ``exercise``, or None (no rule, or turned off)."""
    return None if exercise in _disabled else RULES.get(exercise)


# ------------------------------------------------------------------ enforcing a rule on one call

def _reference():
    from . import reference
    return reference


def _course_modules():
    """The course's own code built on nd.Convolution: the reference, and the helpers a chapter
    gives in a locked cell (course_runtime/given.py)."""
    from course_runtime import given
    return _reference(), given


def _helper_codes(names):
    return frozenset(getattr(module, name).__code__ for name in names for module in _course_modules()
                     if hasattr(module, name))


def _reference_codes():
    return frozenset(f.__code__ for module in _course_modules() for f in vars(module).values()
                     if inspect.isfunction(f) and f.__module__ == module.__name__)


_LIBRARY = tuple({str(Path(__file__).parent), str(Path(__file__).parents[1] / "course_runtime"), sys.prefix,
                  sys.base_prefix})


def _students_file(filename):
    return not filename.startswith(_LIBRARY) and "site-packages" not in filename and filename != "<string>"


def _codes_of(value):
    """The code objects a function or a class (its methods) runs."""
    if isinstance(value, type):
        members = [getattr(m, "__func__", m) for m in vars(value).values()]
        members += [m.fget for m in vars(value).values() if isinstance(m, property) and m.fget]
        return [m.__code__ for m in members if inspect.isfunction(m)]
    value = getattr(value, "__func__", value)
    return [value.__code__] if inspect.isfunction(value) else []


def answer_files(answer):
    """The files (notebook cells) of the student's code that ``answer`` may run: its own code and
    the functions and classes of the student's it names, followed through the answer's globals."""
    todo = _codes_of(answer)
    # The globals the answer's names are looked up in: a function's own, or a class's methods'.
    methods = [m for m in vars(answer).values() if inspect.isfunction(m)] if isinstance(answer, type) else [answer]
    namespace = next((m.__globals__ for m in methods if isinstance(getattr(m, "__globals__", None), dict)), {})
    files, seen = set(), set()
    while todo:
        code = todo.pop()
        if code in seen or not _students_file(code.co_filename):
            continue
        seen.add(code)
        files.add(code.co_filename)
        todo += [c for c in code.co_consts if inspect.iscode(c)]
        for name in code.co_names:
            todo += _codes_of(namespace.get(name))
    return files


def _notebook_cells():
    """The files of every cell the running IPython shell has run (none outside IPython)."""
    shell_module = sys.modules.get("IPython.core.interactiveshell")
    if shell_module is None or not shell_module.InteractiveShell.initialized():
        return set()
    return set(getattr(shell_module.InteractiveShell.instance().compile, "_filename_map", {}))


_scanned = {}   # file name -> what its source reaches for (IPython's names carry a hash of the code)


def source_problems(answer):
    found = []
    for filename in sorted(answer_files(answer) | _notebook_cells()):
        source = "".join(linecache.getlines(filename))
        key = (filename, hash(source))
        if key not in _scanned:
            _scanned[key] = guard.source_problems(source)
        found += _scanned[key]
    return list(dict.fromkeys(found))


class Enforcement:
    """Around one call of a student's answer: ``with Enforcement(...):``, then ``broken()``."""

    def __init__(self, rule, isolate=(), answer=None):
        self.rule, self.answer, self._arming, self._context = rule, answer, None, None
        self.problem = None
        if rule is not None:
            self.allowed = _helper_codes(rule.allowed_helpers + tuple(isolate))
            self.via = _reference_codes()

    def __enter__(self):
        if self.rule is None:
            return self
        reached = source_problems(self.answer)
        if reached:
            self.problem = _("its code reaches for internals it must not touch ({names})").format(
                names=", ".join(reached[:3]))
            raise guard.RuleBroken(self.problem)
        tampered = guard.intact()
        if tampered:
            self.problem = _("the grader's guard on MXNet's operators was changed")
            raise guard.RuleBroken(self.problem)
        self._context = guard.armed(self.rule.forbidden_ops, self.allowed, self.via, self.rule.reference_forbidden,
                                    MATRIX_PRODUCT_OPS if self.rule.one_product else ())
        self._arming = self._context.__enter__()
        return self

    def __exit__(self, *exc):
        if self._context is not None:
            self._context.__exit__(*exc)
            self._context = None
            if guard.intact() and not self.problem:   # taken apart during the call
                self.problem = _("the grader's guard on MXNet's operators was changed")
        return False

    def broken(self, returned=False):
        """The feedback when the rule was broken during the call, else None. ``returned``: the
        answer returned (a call that raised is judged by its error, not by its matrix products)."""
        if self.rule is None:
            return None
        violation = self._arming.violation if self._arming is not None else None
        used = self.problem or (violation and _("it used {what}").format(what=violation))
        if not used and returned and self.rule.one_product and self._arming is not None \
                and self._arming.count != 1:
            used = _("it made {count} matrix products (nd.dot or the like), not one").format(count=self._arming.count)
        if not used:
            return None
        return _("your {exercise} broke a rule of this exercise: {rule}; {advice} ({used})").format(
            exercise=self.rule.exercise, rule=_(self.rule.sentence), advice=_(self.rule.advice), used=used)
