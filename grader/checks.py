"""The graded checks: for each exercise, what is tested, on which inputs, against what.

A check has three parts, so that the student's code and the grading decision can live in
different processes:

* ``cases(rng)`` (trusted): the inputs, as plain numpy data. Random per submission but
  reproducible from its seed; the cases that only special shapes catch are always included.
* ``run(answer, case)`` (the student's side): calls the student's function or class on one
  case and returns plain data only (numpy float64 arrays, ints, floats, and the name of each
  returned array's dtype).
* ``judge(result, case)`` (trusted): computes the reference and returns ``None`` when the
  result is right, or one sentence saying what is wrong.

A failed check reports its first failing case; ``Check.explain`` adds a hint only when one known
mistake (grader/diagnose.py) explains every failing case.

The ids (``"corr2d.values"``) are what the test cells of the notebooks name.
"""
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import numpy as np

from course_runtime import checking
from course_runtime.i18n import N_, translator

from . import LOCALE, compare, diagnose
from .compare import (AnswerError, check_dtype, compare_shape, compare_values, plain_array,
                      plain_int_pair, recovery_problem, training_problem)


_ = translator("grader", LOCALE)


@dataclass(frozen=True)
class Case:
    text: str                      # how feedback names the input: shapes, never values
    inputs: Dict[str, Any] = field(default_factory=dict)   # what the student's side is given
    truth: Dict[str, Any] = field(default_factory=dict)    # what only the judge may see


@dataclass(frozen=True)
class Check:
    id: str
    exercise: str                  # the name the student defines, e.g. "corr2d"
    summary: str                   # what the graded cell checks, in plain words (English: see summary_text)
    cases: Callable[[np.random.Generator], List[Case]]
    run: Callable[[Any, Case], Any]
    judge: Callable[[Any, Case], Optional[str]]
    # Other exercises the answer may call; during the check they are the reference's, so a
    # mistake in one exercise costs points on that exercise only.
    isolate: tuple = ()
    # The answer draws from MXNet's random generator (train_kernel's initial kernel), so each case
    # seeds it first. Seeding it costs 1.2 ms of CPU, more than many answers take, so other checks
    # seed only Python's and numpy's generators: Conv2D's random initial weight is replaced by the
    # case's before it is used, and its gradients do not depend on it.
    mxnet_random: bool = False
    # The diagnosis (grader/diagnose.py) that names known mistakes in its results; None: none.
    diagnosis: Optional[str] = None

    def summary_text(self):
        """The summary in the current language."""
        return _(self.summary)

    def passed_text(self):
        """What a graded cell prints when its check passes."""
        return _("{check}: passed ({summary})").format(check=self.id, summary=self.summary_text())

    def explain(self, failures):
        """The message of a failed check from its failures [(case, result or None, problem)], in
        case order: the first problem, with a hint only if one known mistake explains every
        failure (a case that raised, hung or came back malformed has no result: no hint)."""
        first = failures[0][2]
        if self.diagnosis is None or any(result is None for _, result, _ in failures):
            return first
        found = diagnose.common_hint(self.diagnosis, [(case.inputs, result) for case, result, _ in failures])
        return f"{first}{diagnose.SEPARATOR}{found}" if found else first


def check_calls(source):
    """The one reader of graded cells: the ids of the ``check("corr2d.values", corr2d)`` calls a
    cell's source makes as statements of their own, and whether it makes nothing else."""
    import ast
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return [], False
    ids = []
    for statement in body:
        call = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "check" \
                and len(call.args) == 2 and not call.keywords and isinstance(call.args[0], ast.Constant) \
                and isinstance(call.args[0].value, str) and isinstance(call.args[1], ast.Name):
            ids.append(call.args[0].value)
    return ids, len(ids) == len(body)


def check_ids_in(source):
    """The check ids a notebook cell's source runs: ``check("corr2d.values", corr2d)`` -> ["corr2d.values"]."""
    return check_calls(source)[0]


def case_seed(student_id, assignment_id, check_id, secret=""):
    """The seed of a check's random cases: the same submission always gets the same inputs, and
    without the course's secret (grader/secret.py) nobody can work them out in advance."""
    digest = hashlib.sha256(f"{secret}\0{student_id}\0{assignment_id}\0{check_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def make_cases(check, student_id, assignment_id, secret=""):
    return check.cases(np.random.default_rng(case_seed(student_id, assignment_id, check.id, secret)))


# ---------------------------------------------------------------- inputs

def _values(rng, shape, dtype="float32"):
    return rng.uniform(-1, 1, size=shape).astype(dtype)


def _nd(array):
    from mxnet import nd
    return nd.array(array, dtype=array.dtype)


def _ref():
    from . import reference  # MXNet is imported only where a reference is computed
    return reference


def _shape_text(shape):
    return compare.shape_text(shape)


def _xk_case(X, K, extra=""):
    text = _("X of shape {x} and K of shape {k}").format(x=_shape_text(X.shape), k=_shape_text(K.shape))
    if X.dtype == np.float64:
        text += " (float64)"
    return Case(text + extra, {"X": X, "K": K})


def _random_2d_shapes(rng, count, max_side=7):
    """(input, kernel) shape pairs, at least one side of each differing from the other."""
    pairs = []
    while len(pairs) < count:
        h, w = (int(n) for n in rng.integers(1, max_side + 1, size=2))
        kh, kw = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
        if h != w and kh != kw:
            pairs.append(((h, w), (kh, kw)))
    return pairs


# ---------------------------------------------------------------- chapter 1: corr2d

def _student_side(kind):
    """How the student's answer is called on a case's inputs: the visible check's way
    (course_runtime/checking.py, KINDS), one source for both."""
    run = checking.KINDS[kind][0]

    def call(answer, case):
        return run(answer, case.inputs)
    call.__name__ = f"_run_{kind}"
    return call


_call_xk = _student_side("xk")


def _checked_output(result):
    """(float64 values, dtype name) of an output, as plain_array makes it on the student's side."""
    if not (type(result) is tuple and len(result) == 2 and type(result[1]) is str
            and re.fullmatch(r"[a-z]{1,8}[0-9]{0,3}", result[1])):
        raise AnswerError(_("the answer did not come back as an array of numbers"))
    return _checked_array(result[0]), result[1]


def _output_problem(result, expected, case, input_dtype, what="output", values=True):
    """dtype, then shape, then (if ``values``) values of an output against the reference's."""
    array, dtype = _checked_output(result)
    return (check_dtype(dtype, input_dtype, case.text, what)
            or (compare_values(array, expected, case.text, what) if values
                else compare_shape(array, expected.shape, case.text, what)))


def _reference_output(reference_name, case):
    """The reference's output for a case, computed in float64 from the case's inputs."""
    inputs = {k: _nd(v.astype("float64")) if isinstance(v, np.ndarray) else v for k, v in case.inputs.items()}
    return getattr(_ref(), reference_name)(**inputs).asnumpy()


def _judge_with(reference_name):
    def judge(result, case):
        return _output_problem(result, _reference_output(reference_name, case), case, case.inputs["X"].dtype)
    return judge


def _judge_shape_with(reference_name):
    def judge(result, case):
        return _output_problem(result, _reference_output(reference_name, case), case, case.inputs["X"].dtype,
                               values=False)
    return judge


def _checked_array(result):
    """Results cross from the student's side: accept only a real float64 numpy array."""
    if type(result) is not np.ndarray or result.dtype != np.float64:
        raise AnswerError(_("the answer did not come back as an array of numbers"))
    return result


def _corr2d_example(rng):
    X = np.arange(9, dtype="float32").reshape(3, 3)
    K = np.array([[0, 1], [2, 3]], dtype="float32")
    return [Case(_("the example of the notes, X = [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and K = [[0, 1], [2, 3]] "
                   "(expected [[19, 25], [37, 43]])"), {"X": X, "K": K})]


def _corr2d_shape_cases(rng):
    fixed = [((4, 6), (4, 6)), ((7, 2), (3, 1)), ((3, 7), (1, 1)), ((6, 6), (2, 3))]
    return [_xk_case(_values(rng, x), _values(rng, k)) for x, k in fixed + _random_2d_shapes(rng, 4)]


def _corr2d_value_cases(rng):
    fixed = [((5, 7), (2, 3)), ((7, 5), (3, 2)), ((6, 5), (3, 3))]  # non-square both ways, square K
    cases = [_xk_case(_values(rng, x), _values(rng, k)) for x, k in fixed]
    for i, (x, k) in enumerate(_random_2d_shapes(rng, 4)):
        dtype = "float64" if i % 2 else "float32"
        cases.append(_xk_case(_values(rng, x, dtype), _values(rng, k, dtype)))
    return cases


def _corr2d_edge_cases(rng):
    pairs = [((5, 3), (5, 3)),   # kernel as large as the input: a 1-pixel output
             ((1, 8), (1, 3)),   # a single row
             ((6, 1), (2, 1)),   # a single column
             ((4, 5), (1, 1)),   # a 1×1 kernel
             ((1, 1), (1, 1))]
    cases = [_xk_case(_values(rng, x), _values(rng, k)) for x, k in pairs]
    cases.append(_xk_case(_values(rng, (3, 4), "float64"), _values(rng, (3, 4), "float64")))
    return cases


# ---------------------------------------------------------------- chapter 2: Conv2D

def _conv2d_case(rng, x_shape, k_shape, text_extra=""):
    X = _values(rng, x_shape)
    return Case(_("X of shape {x} and kernel_size {k}").format(x=_shape_text(x_shape), k=_shape_text(k_shape))
                + text_extra,
                {"X": X, "weight": _values(rng, k_shape), "bias": _values(rng, (1,))})


def _run_conv2d_parameters(Conv2D, case):
    """The shapes of weight and bias; whether each is one of the layer's collect_params() (by
    identity: else a Trainer never updates it); and their gradients for loss = output.sum()."""
    from mxnet import autograd
    layer = Conv2D(case.inputs["kernel_size"])
    layer.initialize()
    params = []
    for name in ("weight", "bias"):
        param = getattr(layer, name, None)
        if param is None or not hasattr(param, "data"):
            raise AnswerError(_("your Conv2D has no parameter named {name}").format(name=name))
        params.append(param)
    shapes = [np.array(param.data().shape, dtype=np.float64) for param in params]
    collected = list(layer.collect_params().values())
    registered = np.array([any(p is param for p in collected) for param in params], dtype=np.float64)
    with autograd.record():
        loss = layer(_nd(case.inputs["X"])).sum()
    loss.backward()
    gradients = []
    for name, param in zip(("weight", "bias"), params):
        try:
            gradient = param.grad()
        except Exception:  # grad_req 'null': no gradient at all
            gradients.append(np.zeros(0))
            continue
        gradients.append(plain_array(gradient, _("the gradient of your {name}").format(name=name))[0])
    return shapes + [registered] + gradients


def _judge_conv2d_parameters(result, case):
    if type(result) is not list or len(result) != 5:
        raise AnswerError(_("the answer did not come back as the expected data"))
    weight_shape, bias_shape = (tuple(int(n) for n in _checked_array(a)) for a in result[:2])
    registered, weight_grad, bias_grad = (_checked_array(a) for a in result[2:])
    size = tuple(case.inputs["kernel_size"])
    text = f"Conv2D(kernel_size={_shape_text(size)})"
    if weight_shape != size:
        return _("for {case} your {name} has shape {shape}; expected {expected}").format(
            case=text, name="weight", shape=_shape_text(weight_shape), expected=_shape_text(size))
    if bias_shape != (1,):
        return _("for {case} your {name} has shape {shape}; expected {expected}").format(
            case=text, name="bias", shape=_shape_text(bias_shape), expected="(1,)")
    for name, inside in zip(("weight", "bias"), registered.tolist() if registered.shape == (2,) else [0, 0]):
        if inside != 1:
            return _("for {case} your {name} is not among layer.collect_params(), so initialize() and a "
                     "gluon.Trainer never see it and it never trains: create it with "
                     "self.params.get('{name}', shape=...)").format(case=text, name=name)
    # Whether a gradient reaches each parameter, not its value: a forward that subtracts the bias
    # or flips the kernel is wrong, but Conv2D.forward says so; its parameters still train.
    on_input = _("{layer} on an input of shape {shape}").format(layer=text, shape=_shape_text(case.inputs["X"].shape))
    for name, gradient, shape in (("weight", weight_grad, size), ("bias", bias_grad, (1,))):
        if gradient.shape != shape or not np.any(gradient != 0):
            return _("for {case}, no gradient of loss = output.sum() reaches your {name}, so it never trains: "
                     "forward must use it as an NDArray ({name}.data()) inside autograd's record, not leave it "
                     "out, nor turn it into a number (.asscalar()) or a detached copy (.detach())").format(
                case=on_input, name=name)
    return None


_run_conv2d_forward = _student_side("conv2d")


def _judge_conv2d_forward(result, case):
    expected = _ref().conv2d_forward(*(_nd(case.inputs[k].astype("float64")) for k in ("X", "weight", "bias")))
    return _output_problem(result, expected.asnumpy(), case, case.inputs["X"].dtype)


def _edge_image():
    X = np.ones((6, 8), dtype="float32")
    X[:, 2:6] = 0
    return X


def _conv2d_example(rng):
    return [Case(_("d2l's edge image (6×8, ones with columns 2 to 5 zero), weight [[1, -1]] and bias [0] "
                   "(expected 1 and -1 at the edges)"),
                 {"X": _edge_image(), "weight": np.array([[1, -1]], dtype="float32"),
                  "bias": np.zeros(1, dtype="float32")})]


def _conv2d_parameter_cases(rng):
    sizes = [(1, 2), (3, 2), (2, 5), tuple(int(n) for n in rng.integers(1, 6, size=2))]
    cases = []
    for size in sizes:  # an input larger than the kernel: more than one output gets the bias
        x_shape = tuple(int(k + n) for k, n in zip(size, rng.integers(1, 4, size=2)))
        cases.append(Case(_("kernel_size {k} and an input of shape {x}").format(k=_shape_text(size),
                                                                                 x=_shape_text(x_shape)),
                          {"kernel_size": size, "X": _values(rng, x_shape)}))
    return cases


def _conv2d_forward_cases(rng):
    cases = [_conv2d_case(rng, (5, 7), (2, 3)), _conv2d_case(rng, (7, 5), (3, 2)), _conv2d_case(rng, (6, 6), (3, 3))]
    cases += [_conv2d_case(rng, x, k) for x, k in _random_2d_shapes(rng, 3)]
    return cases


def _conv2d_edge_cases(rng):
    cases = [_conv2d_case(rng, (4, 6), (4, 6), _(" (kernel as large as the input)")),
             _conv2d_case(rng, (3, 5), (1, 1), _(" (a 1×1 kernel)"))]
    bias_only = _conv2d_case(rng, (4, 5), (2, 2), _(" with a zero weight and bias 3"))
    bias_only.inputs["weight"][:] = 0
    bias_only.inputs["bias"][:] = 3
    return cases + [bias_only]


# ---------------------------------------------------------------- chapter 3: train_kernel

# Gradient descent on a least-squares problem is stable for lr < 2 / (largest eigenvalue of the
# Hessian); lr = 2 / (largest + smallest) shrinks the error fastest, by (k - 1) / (k + 1) per epoch
# for a condition number k. Each case picks that lr from its own data, so a few dozen epochs
# recover its kernel.
def _hessian_eigenvalues(X, kernel_size):
    """Eigenvalues, ascending, of the Hessian 2 PᵀP of the summed squared error (P: X's windows)."""
    kh, kw = kernel_size
    h, w = X.shape
    patches = np.array([X[i:i + kh, j:j + kw].ravel()
                        for i in range(h - kh + 1) for j in range(w - kw + 1)], dtype=np.float64)
    return np.linalg.eigvalsh(2 * patches.T @ patches)


def _hessian_lr(X, kernel_size):
    eigenvalues = _hessian_eigenvalues(X, kernel_size)
    return float(2.0 / (eigenvalues[-1] + eigenvalues[0]))


def _training_case(rng, x_shape, kernel_size, num_epochs):
    X = rng.standard_normal(x_shape).astype("float32")
    K_true = rng.standard_normal(kernel_size).astype("float32")
    Y = _ref().corr2d(_nd(X), _nd(K_true)).asnumpy()
    return Case(_("X of shape {x}, kernel_size {k}, num_epochs={epochs}").format(
                    x=_shape_text(x_shape), k=_shape_text(kernel_size), epochs=num_epochs),
                {"X": X, "Y": Y, "kernel_size": kernel_size, "num_epochs": num_epochs,
                 "lr": _hessian_lr(X, kernel_size)}, {"K_true": K_true})


def _train_once(train_kernel, inputs, num_epochs):
    kwargs = {} if inputs.get("defaults") else {"num_epochs": num_epochs, "lr": inputs["lr"]}
    return list(checking.training_answer(train_kernel(_nd(inputs["X"]), _nd(inputs["Y"]), inputs["kernel_size"],
                                                      **kwargs)))


def _run_train_kernel(train_kernel, case):
    """[[K, losses]] for one run; a replay case runs twice from the same random state, with
    num_epochs and num_epochs + 1 epochs: [[K, losses], [K, losses]]."""
    i = case.inputs
    if "replay_seed" not in i:
        return [_train_once(train_kernel, i, i["num_epochs"])]
    from .notebook import seed_random_generators  # the random state every case starts from
    runs = []
    for num_epochs in (i["num_epochs"], i["num_epochs"] + 1):
        seed_random_generators(int(i["replay_seed"]))
        runs.append(_train_once(train_kernel, i, num_epochs))
    return runs


def _checked_runs(result, case):
    count = 2 if "replay_seed" in case.inputs else 1
    if type(result) is not list or len(result) != count or any(type(r) is not list or len(r) != 2 for r in result):
        raise AnswerError(_("the answer did not come back as the expected data"))
    return [(_checked_output(K), _checked_array(losses)) for K, losses in result]


def _judge_training(result, case, need_recovery):
    runs = _checked_runs(result, case)
    problem = _training_problem(runs[0], case, need_recovery)
    if problem or len(runs) == 1:
        return problem
    return _replay_problem(runs, case)


def _close_losses(yours, expected):
    """Losses agree when within 0.1 % (float32 sums of squares), or 1e-5 near zero."""
    return abs(yours - expected) <= 1e-3 * abs(expected) + 1e-5


def _gradient_step(X, Y, K, lr):
    """K - lr * grad of the summed squared error, in float64 (trusted side, plain numpy)."""
    P = np.lib.stride_tricks.sliding_window_view(X.astype(np.float64), K.shape).reshape(-1, K.size)
    residual = P @ K.ravel() - Y.astype(np.float64).ravel()
    return (K.ravel() - lr * 2 * P.T @ residual).reshape(K.shape)


def _replay_problem(runs, case):
    """The losses are the ones the answer's own updates produce: the same start gives the same
    losses; epoch n + 1's loss is the loss of the K returned after n epochs (recomputed here);
    K after n + 1 epochs is one gradient step from K after n."""
    i = case.inputs
    ((K_n, _dtype_n), losses_n), ((K_next, dtype), losses_next) = runs
    n = len(losses_n)
    longer = _("{case} (run again with num_epochs={epochs})").format(case=case.text, epochs=n + 1)
    problem = (check_dtype(dtype, "float32", longer, "K") or compare_shape(K_next, i["kernel_size"], longer, "K"))
    if problem:
        return problem
    if len(losses_next) != n + 1:
        return _("for {case} your losses has {count} entries; expected one per epoch, {epochs}").format(
            case=longer, count=len(losses_next), epochs=n + 1)
    for epoch in range(n):
        if not _close_losses(losses_next[epoch], losses_n[epoch]):
            return _("for {case} your loss of epoch {epoch} is {loss}, but {before} when run with "
                     "num_epochs={epochs} from the same random state: the first {epochs} epochs of training must "
                     "not depend on num_epochs (draw the initial kernel from nd.random or np.random, which the "
                     "grader seeds)").format(case=longer, epoch=epoch + 1, loss=f"{losses_next[epoch]:.6g}",
                                             before=f"{losses_n[epoch]:.6g}", epochs=n)
    loss_of_returned = _ref().loss_of_kernel(_nd(i["X"]), _nd(i["Y"]), _nd(K_n.astype("float32")))
    if not _close_losses(losses_next[n], loss_of_returned):
        return _("for {case} your loss of epoch {epoch} is {loss}, but the K your train_kernel returns after "
                 "{epochs} epochs, the kernel epoch {epoch} starts from, has the summed squared error {error}: "
                 "each loss must be that of its epoch's kernel, computed before its update (does the training "
                 "stop early, or are the losses made up?)").format(
            case=longer, epoch=n + 1, loss=f"{losses_next[n]:.6g}", epochs=n, error=f"{loss_of_returned:.6g}")
    expected = _gradient_step(i["X"], i["Y"], K_n, i["lr"])
    problem = compare_values(K_next, expected, longer, "K")
    if problem:
        return problem + _(": the expected K is one gradient-descent step, with the lr given, from the K "
                           "returned after {epochs} epochs; each epoch must make exactly one such step").format(epochs=n)
    return None


def _training_problem(result, case, need_recovery):
    (K, dtype), losses = result
    i = case.inputs
    final_loss = []  # the returned K's loss, computed once with the reference and kept for below

    def loss_of_returned(K):
        final_loss.append(_ref().loss_of_kernel(_nd(i["X"]), _nd(i["Y"]), _nd(K.astype("float32"))))
        return final_loss[0]

    problem = training_problem(K, dtype, losses, i["kernel_size"], i["num_epochs"], case.text, loss_of_returned)
    if problem:
        return problem
    # One step with this case's lr always lowers the loss a lot: a loss equal to the returned K's
    # was recorded after the update, not before it.
    if i["num_epochs"] == 1 and not final_loss[0] < losses[0] * (1 - 1e-3):
        return _("for {case} your loss for the epoch is {loss}, the loss of the K you return: record each "
                 "epoch's loss before its update").format(case=case.text, loss=f"{losses[0]:.6g}")
    if need_recovery:
        return recovery_problem(K, case.truth["K_true"], case.truth.get("tolerance", 1e-2), case.text)
    return None


def _train_kernel_example(rng):
    X = _edge_image()
    Y = _ref().corr2d(_nd(X), _nd(np.array([[1, -1]], dtype="float32"))).asnumpy()
    return [Case(_("d2l's edge data (6×8, ones with columns 2 to 5 zero) with kernel_size (1, 2) and the "
                   "default num_epochs and lr (expected a K near [[1, -1]])"),
                 {"X": X, "Y": Y, "kernel_size": (1, 2), "num_epochs": 10, "defaults": True},
                 {"K_true": np.array([[1, -1]], dtype="float32"), "tolerance": 0.2})]


def _replay_case(rng, x_shape, kernel_size, num_epochs, rate):
    """train_kernel run twice from the same random state, num_epochs and num_epochs + 1 epochs,
    with lr = rate / (largest eigenvalue of the Hessian): the error shrinks by at least 1 - rate
    per epoch, so the loss falls to near zero within the epochs (where training that stops early
    would stop) yet stays well above rounding."""
    case = _training_case(rng, x_shape, kernel_size, num_epochs)
    case.inputs.update(lr=float(rate / _hessian_eigenvalues(case.inputs["X"], kernel_size)[-1]),
                       replay_seed=int(rng.integers(2**31)))
    return Case(case.text + _(", and again with num_epochs={epochs} from the same random state").format(
                    epochs=num_epochs + 1),
                case.inputs, case.truth)


def _train_kernel_loss_cases(rng):
    return [_training_case(rng, (8, 9), (2, 2), 1), _training_case(rng, (9, 8), (1, 3), 4),
            _training_case(rng, (10, 11), (3, 2), 12),
            _replay_case(rng, (9, 10), (1, 1), 8, 0.7), _replay_case(rng, (8, 9), (2, 2), 5, 0.9)]


def _train_kernel_recovery_cases(rng):
    sizes = [(2, 3), (3, 1), tuple(int(n) for n in rng.integers(1, 4, size=2))]
    return [_training_case(rng, tuple(int(n) for n in rng.integers(10, 13, size=2)), s, 25) for s in sizes]


# ---------------------------------------------------------------- chapter 4: padding and stride

def _shape_case(input_shape, kernel_size, padding, strides):
    return Case(f"input_shape={_shape_text(input_shape)}, kernel_size={kernel_size}, "
                f"padding={padding}, strides={strides}",
                {"input_shape": input_shape, "kernel_size": kernel_size, "padding": padding, "strides": strides})


_NOTES_SETTINGS = [(3, 1, 1), ((5, 3), (2, 1), 1), (3, 1, 2), ((3, 5), (0, 1), (3, 5))]


def _output_shape_example(rng):
    return [_shape_case((8, 8), k, p, s) for k, p, s in _NOTES_SETTINGS]


def _random_geometry(rng):
    """kernel, padding and strides as pairs, often different per axis, padding and strides
    sometimes larger than the kernel; and an input large enough for one window at least."""
    kernel = tuple(int(n) for n in rng.integers(1, 6, size=2))
    padding = tuple(int(n) for n in rng.integers(0, 5, size=2))
    strides = tuple(int(n) for n in rng.integers(1, 7, size=2))
    shape = tuple(int(max(1, k - 2 * p + rng.integers(0, 7))) for k, p in zip(kernel, padding))
    return shape, kernel, padding, strides


def _as_given(pair, rng):
    """Half the time an equal pair is given as one int, as Gluon allows."""
    return pair[0] if pair[0] == pair[1] and rng.random() < 0.5 else pair


def _output_shape_cases(rng):
    fixed = [((9, 7), (2, 3), (0, 2), (3, 1)),     # pairs that differ on each axis
             ((5, 6), (3, 3), (4, 4), (1, 1)),     # padding larger than the kernel
             ((6, 11), (2, 2), (0, 0), (6, 11)),   # strides equal to the input size
             ((10, 10), (2, 2), (1, 1), (5, 5)),   # strides larger than the kernel
             ((7, 9), (3, 4), (1, 0), (2, 3))]     # floor, not ceil, on both axes
    cases = [_shape_case(*c) for c in fixed]
    for _n in range(6):
        shape, kernel, padding, strides = _random_geometry(rng)
        cases.append(_shape_case(shape, _as_given(kernel, rng), _as_given(padding, rng), _as_given(strides, rng)))
    return cases


def _run_output_shape(conv2d_output_shape, case):
    i = case.inputs
    answer = conv2d_output_shape(i["input_shape"], i["kernel_size"], padding=i["padding"], strides=i["strides"])
    return np.array(plain_int_pair(answer, _("your answer")), dtype=np.float64)


def _judge_output_shape(result, case):
    answer = tuple(int(n) for n in _checked_array(result))
    i = case.inputs
    expected = _ref().conv2d_output_shape(i["input_shape"], i["kernel_size"], i["padding"], i["strides"])
    if answer != expected:
        return _("for {case} your answer is {answer}; expected {expected}").format(
            case=case.text, answer=_shape_text(answer), expected=_shape_text(expected))
    return None


def _pad_stride_case(rng, shape, kernel, padding, strides, dtype="float32"):
    case = _xk_case(_values(rng, shape, dtype), _values(rng, kernel, dtype),
                    f", padding={padding}, strides={strides}")
    case.inputs.update(padding=padding, strides=strides)
    return case


def _pad_stride_example(rng):
    X = (np.arange(64, dtype="float32").reshape(8, 8) / 64)
    cases = []
    for kernel, padding, strides in _NOTES_SETTINGS:
        kernel = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        K = np.arange(1, kernel[0] * kernel[1] + 1, dtype="float32").reshape(kernel) / 10
        case = _xk_case(X, K, f", padding={padding}, strides={strides}" + _(" (a setting of the notes)"))
        case.inputs.update(padding=padding, strides=strides)
        cases.append(case)
    return cases


def _pad_stride_cases(rng, count):
    cases = []
    for n in range(count):
        shape, kernel, padding, strides = _random_geometry(rng)
        cases.append(_pad_stride_case(rng, shape, kernel, _as_given(padding, rng), _as_given(strides, rng),
                                      "float64" if n % 3 == 2 else "float32"))
    return cases


def _pad_stride_shape_cases(rng):
    return [_pad_stride_case(rng, (9, 7), (2, 3), (0, 2), (3, 1))] + _pad_stride_cases(rng, 6)


def _pad_stride_value_cases(rng):
    return [_pad_stride_case(rng, (7, 9), (3, 4), (1, 0), (2, 3)),
            _pad_stride_case(rng, (6, 5), (3, 3), 1, 2)] + _pad_stride_cases(rng, 6)


def _pad_stride_edge_cases(rng):
    return [_pad_stride_case(rng, (5, 6), (3, 3), 4, 1),            # padding larger than the kernel
            _pad_stride_case(rng, (6, 11), (2, 2), 0, (6, 11)),     # strides equal to the input size
            _pad_stride_case(rng, (10, 10), (2, 2), 1, 5),          # strides larger than the kernel
            _pad_stride_case(rng, (4, 3), (4, 3), (0, 2), 1),       # padding on one axis only
            _pad_stride_case(rng, (3, 3), (1, 1), 0, 1, "float64")]


_run_pad_stride = _student_side("pad_stride")


# ---------------------------------------------------------------- chapter 5: channels

def _channels_case(rng, c_o, c_i, shape, kernel, dtype="float32"):
    X = _values(rng, (c_i,) + shape, dtype)
    K = _values(rng, ((c_o,) if c_o else ()) + (c_i,) + kernel, dtype)
    return _xk_case(X, K)


def _notes_channels():
    X = np.array([[[0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1, 2, 3], [4, 5, 6], [7, 8, 9]]], dtype="float32")
    K = np.array([[[0, 1], [2, 3]], [[1, 2], [3, 4]]], dtype="float32")
    return X, K


def _multi_in_example(rng):
    X, K = _notes_channels()
    return [Case(_("the two-channel example of the notes (expected [[56, 72], [104, 120]])"), {"X": X, "K": K})]


def _multi_in_cases(rng):
    cases = [_channels_case(rng, None, 3, (5, 7), (2, 3)), _channels_case(rng, None, 2, (6, 4), (3, 3))]
    for n in range(4):
        (h, w), (kh, kw) = _random_2d_shapes(rng, 1)[0]
        cases.append(_channels_case(rng, None, int(rng.integers(1, 5)), (h, w), (kh, kw),
                                    "float64" if n % 2 else "float32"))
    return cases


def _multi_in_edge_cases(rng):
    return [_channels_case(rng, None, 1, (4, 5), (2, 2)),           # one channel
            _channels_case(rng, None, 4, (3, 5), (3, 5)),           # kernel as large as the input
            _channels_case(rng, None, 5, (6, 2), (1, 1), "float64"),
            _channels_case(rng, None, 3, (1, 6), (1, 2)),           # a single row
            _channels_case(rng, None, 2, (5, 1), (2, 1))]           # a single column


def _multi_in_out_example(rng):
    X, K = _notes_channels()
    return [Case(_("the example of the notes, K stacked from K, K + 1, K + 2 (expected shape (3, 2, 2), "
                   "first channel [[56, 72], [104, 120]])"), {"X": X, "K": np.stack([K, K + 1, K + 2])})]


def _multi_in_out_cases(rng):
    cases = [_channels_case(rng, 3, 3, (5, 6), (2, 2)),   # as many output as input channels
             _channels_case(rng, 2, 4, (6, 5), (3, 2)), _channels_case(rng, 4, 2, (4, 7), (2, 3))]
    for n in range(3):
        (h, w), (kh, kw) = _random_2d_shapes(rng, 1)[0]
        c_o, c_i = (int(c) for c in rng.integers(1, 5, size=2))
        cases.append(_channels_case(rng, c_o, c_i, (h, w), (kh, kw), "float64" if n % 2 else "float32"))
    return cases


def _multi_in_out_edge_cases(rng):
    # c_i = c_o = 1, c_i = 1 < c_o, c_o = 1 < c_i, a single row, a single column: always included,
    # as squeeze() and axis mistakes show only there
    return [_channels_case(rng, 1, 1, (4, 5), (2, 3)), _channels_case(rng, 5, 1, (3, 4), (3, 4)),
            _channels_case(rng, 1, 4, (5, 3), (1, 1)), _channels_case(rng, 2, 3, (1, 5), (1, 2)),
            _channels_case(rng, 3, 2, (6, 1), (3, 1))]


def _conv_1x1_example(rng):
    example = np.random.default_rng(0)
    X = example.uniform(0, 1, size=(3, 3, 3)).astype("float32")
    K = example.uniform(0, 1, size=(2, 3, 1, 1)).astype("float32")
    # The notes define corr2d_multi_in_out_1x1 but run no example (their cell is never executed);
    # this is d2l's: X and K drawn uniformly from [0, 1).
    return [Case(_("d2l's example, X of shape (3, 3, 3) and K of shape (2, 3, 1, 1), uniform in [0, 1)"),
                 {"X": X, "K": K})]


def _conv_1x1_cases(rng):
    cases = [_channels_case(rng, 3, 3, (4, 6), (1, 1)),   # as many output as input channels
             _channels_case(rng, 2, 4, (5, 3), (1, 1)), _channels_case(rng, 5, 2, (3, 7), (1, 1), "float64")]
    for _n in range(3):
        c_o, c_i, h, w = (int(n) for n in rng.integers(1, 7, size=4))
        cases.append(_channels_case(rng, c_o, c_i, (h, w), (1, 1)))
    return cases


def _conv_1x1_edge_cases(rng):
    # a single row, column or pixel; c_i = c_o = 1, c_i = 1 < c_o, c_o = 1 < c_i: always included,
    # as squeeze() and axis mistakes show only there
    return [_channels_case(rng, 2, 3, (1, 6), (1, 1)), _channels_case(rng, 3, 2, (5, 1), (1, 1)),
            _channels_case(rng, 1, 1, (4, 4), (1, 1)), _channels_case(rng, 4, 6, (1, 1), (1, 1)),
            _channels_case(rng, 3, 1, (4, 5), (1, 1)), _channels_case(rng, 1, 4, (3, 5), (1, 1))]


# ---------------------------------------------------------------- chapter 6: the capstone, im2col

def _im2col_case(rng, c_o, c_i, shape, kernel, padding, strides, dtype="float32", extra=""):
    X = _values(rng, (c_i,) + tuple(shape), dtype)
    K = _values(rng, (c_o, c_i) + tuple(kernel), dtype)
    case = _xk_case(X, K, f", padding={padding}, strides={strides}{extra}")
    case.inputs.update(padding=padding, strides=strides)
    return case


# Chapter 5's example of the notes (two channels, kernels K, K + 1, K + 2) without and with
# padding and strides: the first setting must give chapter 5's numbers again.
_IM2COL_SETTINGS = [(0, 1), (1, 2), ((1, 0), (1, 2))]


def _im2col_example(rng):
    X, K = _notes_channels()
    K = np.stack([K, K + 1, K + 2])
    cases = []
    for padding, strides in _IM2COL_SETTINGS:
        case = _xk_case(X, K, f", padding={padding}, strides={strides}"
                        + _(" (chapter 5's example of the notes, kernels K, K + 1, K + 2)"))
        case.inputs.update(padding=padding, strides=strides)
        cases.append(case)
    return cases


def _im2col_random_cases(rng, count, float64_every=3):
    cases = []
    for n in range(count):
        shape, kernel, padding, strides = _random_geometry(rng)
        c_o, c_i = (int(c) for c in rng.integers(1, 5, size=2))
        cases.append(_im2col_case(rng, c_o, c_i, shape, kernel, _as_given(padding, rng), _as_given(strides, rng),
                                  "float64" if n % float64_every == float64_every - 1 else "float32"))
    return cases


def _im2col_shape_cases(rng):
    return [_im2col_case(rng, 2, 3, (9, 7), (2, 3), (0, 2), (3, 1)),
            _im2col_case(rng, 4, 1, (7, 9), (3, 4), (1, 0), (2, 3))] + _im2col_random_cases(rng, 5)


def _im2col_value_cases(rng):
    return [_im2col_case(rng, 3, 2, (7, 9), (3, 4), (1, 0), (2, 3)),     # non-square everything
            _im2col_case(rng, 3, 3, (6, 5), (3, 3), 1, 2),               # as many output as input channels
            _im2col_case(rng, 2, 4, (5, 6), (2, 2), 0, 1, "float64")] + _im2col_random_cases(rng, 5)


def _im2col_edge_cases(rng):
    # c_i = 1 < c_o, c_o = 1 < c_i, c_i = c_o = 1, a single row or column, a kernel as large as the
    # padded input, padding larger than the kernel, strides equal to or larger than the input, 1×1
    # kernels: always included, as squeeze(), axis and ordering mistakes show only on some of them
    return [_im2col_case(rng, 4, 1, (5, 6), (3, 3), 4, 1),
            _im2col_case(rng, 1, 3, (6, 11), (2, 2), 0, (6, 11)),
            _im2col_case(rng, 1, 1, (10, 10), (2, 2), 1, 5),
            _im2col_case(rng, 2, 3, (1, 6), (1, 2), 0, (1, 2)),
            _im2col_case(rng, 3, 2, (6, 1), (3, 1), (1, 0), 2),
            _im2col_case(rng, 2, 2, (3, 2), (5, 2), (1, 0), 1),
            _im2col_case(rng, 3, 4, (4, 5), (1, 1), 0, 1, "float64")]


# ---------------------------------------------------------------- the catalogue

def _check(id, summary, cases, run, judge, isolate=(), diagnosis="exercise"):
    exercise = id.split(".")[0]
    return Check(id, exercise, summary, cases, run, judge, isolate,
                 mxnet_random=exercise == "train_kernel",
                 diagnosis=exercise if diagnosis == "exercise" else diagnosis)


def _values_check(id, summary, cases, reference_name, run=_call_xk, isolate=()):
    return _check(id, summary, cases, run, _judge_with(reference_name), isolate)


CHECKS = {check.id: check for check in [
    _values_check("corr2d.example", N_("the example of the notes"), _corr2d_example, "corr2d"),
    _check("corr2d.shapes", N_("output shapes on random non-square inputs and kernels"),
           _corr2d_shape_cases, _call_xk, _judge_shape_with("corr2d")),
    _values_check("corr2d.values", N_("values on random inputs, float32 and float64"), _corr2d_value_cases, "corr2d"),
    _values_check("corr2d.edge_cases", N_("a kernel as large as the input, single rows and columns, 1×1 kernels"),
                  _corr2d_edge_cases, "corr2d"),

    _check("Conv2D.example", N_("d2l's edge-detection example"), _conv2d_example,
           _run_conv2d_forward, _judge_conv2d_forward),
    _check("Conv2D.parameters", N_("the shapes of weight and bias, registered with the layer, reached by the gradient"),
           _conv2d_parameter_cases, _run_conv2d_parameters, _judge_conv2d_parameters, diagnosis=None),
    _check("Conv2D.forward", N_("forward on random inputs, weights and biases"), _conv2d_forward_cases,
           _run_conv2d_forward, _judge_conv2d_forward),
    _check("Conv2D.edge_cases", N_("a kernel as large as the input, a 1×1 kernel, the bias alone"),
           _conv2d_edge_cases, _run_conv2d_forward, _judge_conv2d_forward),

    _check("train_kernel.example", N_("d2l's edge data, with the default epochs and learning rate"),
           _train_kernel_example, _run_train_kernel, lambda r, c: _judge_training(r, c, True)),
    _check("train_kernel.losses", N_("one summed loss per epoch, falling, each that of its epoch's kernel"),
           _train_kernel_loss_cases,
           _run_train_kernel, lambda r, c: _judge_training(r, c, False)),
    _check("train_kernel.recovery", N_("learning a random known kernel"), _train_kernel_recovery_cases,
           _run_train_kernel, lambda r, c: _judge_training(r, c, True)),

    _check("conv2d_output_shape.example", N_("the four settings of the notes on an 8×8 input"),
           _output_shape_example, _run_output_shape, _judge_output_shape),
    _check("conv2d_output_shape.random", N_("random kernels, paddings and strides, given as ints or pairs"),
           _output_shape_cases, _run_output_shape, _judge_output_shape),

    _values_check("corr2d_pad_stride.example", N_("the four settings of the notes on an 8×8 input"),
                  _pad_stride_example, "corr2d_pad_stride", _run_pad_stride, ("conv2d_output_shape",)),
    _check("corr2d_pad_stride.shapes", N_("output shapes with random padding and strides"), _pad_stride_shape_cases,
           _run_pad_stride, _judge_shape_with("corr2d_pad_stride"), ("conv2d_output_shape",)),
    _values_check("corr2d_pad_stride.values", N_("values with random padding and strides"),
                  _pad_stride_value_cases, "corr2d_pad_stride", _run_pad_stride, ("conv2d_output_shape",)),
    _values_check("corr2d_pad_stride.edge_cases",
                  N_("padding larger than the kernel, strides equal to or larger than the input"),
                  _pad_stride_edge_cases, "corr2d_pad_stride", _run_pad_stride, ("conv2d_output_shape",)),

    _values_check("corr2d_multi_in.example", N_("the two-channel example of the notes"), _multi_in_example,
                  "corr2d_multi_in"),
    _values_check("corr2d_multi_in.values", N_("random inputs with one to four channels"), _multi_in_cases,
                  "corr2d_multi_in"),
    _values_check("corr2d_multi_in.edge_cases", N_("one channel, a kernel as large as the input, 1×1 kernels"),
                  _multi_in_edge_cases, "corr2d_multi_in"),

    _values_check("corr2d_multi_in_out.example", N_("the stacked kernels K, K + 1, K + 2 of the notes"),
                  _multi_in_out_example, "corr2d_multi_in_out", isolate=("corr2d_multi_in",)),
    _values_check("corr2d_multi_in_out.values", N_("random inputs, as many or fewer or more output channels"),
                  _multi_in_out_cases, "corr2d_multi_in_out", isolate=("corr2d_multi_in",)),
    _values_check("corr2d_multi_in_out.edge_cases", N_("one channel in or out, kernels as large as the input"),
                  _multi_in_out_edge_cases, "corr2d_multi_in_out", isolate=("corr2d_multi_in",)),

    _values_check("corr2d_multi_in_out_1x1.example", N_("d2l's example, random X (3, 3, 3) and K (2, 3, 1, 1)"),
                  _conv_1x1_example,
                  "corr2d_multi_in_out_1x1"),
    _values_check("corr2d_multi_in_out_1x1.values", N_("random channels, heights and widths"), _conv_1x1_cases,
                  "corr2d_multi_in_out_1x1"),
    _values_check("corr2d_multi_in_out_1x1.edge_cases", N_("a single row, column or pixel, one channel"),
                  _conv_1x1_edge_cases, "corr2d_multi_in_out_1x1"),

    _values_check("corr2d_im2col.example", N_("chapter 5's example of the notes, kernels K, K + 1, K + 2, "
                  "with and without padding and strides"), _im2col_example, "corr2d_im2col", _run_pad_stride),
    _check("corr2d_im2col.shapes", N_("output shapes with random channels, padding and strides"), _im2col_shape_cases,
           _run_pad_stride, _judge_shape_with("corr2d_im2col")),
    _values_check("corr2d_im2col.values", N_("values with random channels, padding and strides, float32 and float64"),
                  _im2col_value_cases, "corr2d_im2col", _run_pad_stride),
    _values_check("corr2d_im2col.edge_cases", N_("one channel in or out, single rows and columns, 1×1 kernels, "
                  "padding larger than the kernel, strides as large as the input"), _im2col_edge_cases,
                  "corr2d_im2col", _run_pad_stride),
]}
