"""Feedback that names its mistake.

When an answer is wrong, compare it with what known mistakes would have produced on the same
inputs: a flipped kernel, a missing bias, padding on one side only, channels stacked instead of
summed, an output of dtype float16, ... A mistake is named only when it explains every failing
case of the check (``common_hint``; one case can match a wrong mistake by coincidence, a
transposed square kernel looking like channels paired in reverse, say); otherwise the feedback
says what differs and guesses nothing. ``checks.Check.explain`` appends the hint to the first
failure's message.

Trusted side: plain numpy on the case's inputs, no MXNet and nothing of the student's but the
result (already a float64 numpy array). A diagnosis that fails for any reason is no diagnosis;
it never changes whether an answer passes.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course_runtime.i18n import translator

from . import LOCALE
from .compare import ATOL, RTOL

# The hints are made on the trusted side, in the notebook's language (i18n.speaking).
_ = translator("grader", LOCALE)

SEPARATOR = " — "


def explain(problem, exercise, inputs, result):
    """``problem`` with the hint for ``result`` appended, if a known mistake explains it."""
    if not problem:
        return problem
    found = hint(exercise, inputs, result)
    return f"{problem}{SEPARATOR}{found}" if found else problem


def hint(diagnosis, inputs, result):
    """One sentence naming the known mistake that gives ``result`` on ``inputs``, or None."""
    return common_hint(diagnosis, [(inputs, result)])


def common_hint(diagnosis, failures):
    """One sentence naming the known mistake that explains every failure [(inputs, result)], or
    None. The sentence is the first failure's (the one the feedback reports)."""
    try:
        common = None
        for inputs, result in failures:
            found = {}
            for key, text in _hints(diagnosis, inputs, result):
                found.setdefault(key, text)
            common = found if common is None else {k: v for k, v in common.items() if k in found}
            if not common:
                return None
        return _FORMATS.get(diagnosis, _one_or_several)(list(common.values()))
    except Exception:  # a diagnosis is a courtesy: never let it break grading
        return None


def _one_or_several(texts):
    """One mistake's sentence; when several mistakes explain the failures alike, each of them
    (naming one would be a guess)."""
    if len(texts) == 1:
        return texts[0]
    return _("one of these known mistakes gives your answer: {mistakes}").format(
        mistakes=_("; or ").join(f"({n}) {text}" for n, text in enumerate(texts[:3], 1)))


def _hints(diagnosis, inputs, result):
    """[(mistake, sentence)] of every known mistake that gives ``result`` on ``inputs``."""
    diagnose = _DIAGNOSES.get(diagnosis)
    if diagnose is None:
        return []
    inputs = {k: (np.asarray(v, dtype=np.float64) if isinstance(v, np.ndarray) else v) for k, v in inputs.items()}
    if diagnosis == "train_kernel":  # [[K, losses], ...]: the first run, with K as (values, dtype)
        (K, dtype), losses = _output(result[0][0]), np.asarray(result[0][1], dtype=np.float64)
        return _dtype_hints(dtype, "K") + diagnose(inputs, [K, losses])
    output, dtype = _output(result)
    return _dtype_hints(dtype) + diagnose(inputs, output)


def _output(result):
    """(float64 values, dtype name or None) of an output as checks.py carries it, or a bare array."""
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str):
        return np.asarray(result[0], dtype=np.float64), result[1]
    return np.asarray(result, dtype=np.float64), None


def _dtype_hints(dtype, output="output"):
    output = _("output") if output == "output" else output
    if dtype == "float16":
        return [("float16", _("float16 keeps only about 3 significant digits, too few for the tolerance: make "
                              "your {output} float32 like the input (nd.zeros(shape, dtype=X.dtype), or "
                              ".astype(X.dtype))").format(output=output))]
    if dtype and dtype.startswith(("int", "uint")):
        return [("integer", _("an integer dtype drops the fraction of every value: make your {output} a float "
                              "array like the input (nd.zeros(shape, dtype=X.dtype), or .astype(X.dtype))").format(
                                  output=output))]
    return []


# ---------------------------------------------------------------- matching

def _close(actual, expected):
    if expected is None:
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return False
    return bool(np.all(np.abs(actual - expected) <= ATOL + RTOL * np.abs(expected)))


def _matches(result, expected, candidates):
    """(mistake, text) of the candidates that equal ``result`` and differ from ``expected``. A
    candidate is (make, text) or (make, text, mistake) when its text depends on the case."""
    for make, text, *key in candidates:
        try:
            candidate = make()
        except Exception:
            continue
        if candidate is not None and _close(result, candidate) and not _close(candidate, expected):
            yield (key[0] if key else text), text


def _all_matches(result, expected, candidates):
    return list(_matches(result, expected, candidates))


# ---------------------------------------------------------------- numpy cross-correlation

def _pair(value):
    if isinstance(value, (int, np.integer)):
        return (int(value), int(value))
    return tuple(int(v) for v in value)


def corr2d_numpy(X, K, pads=(0, 0, 0, 0), strides=(1, 1)):
    """Cross-correlation of X with K, padding (top, bottom, left, right), strides (s_h, s_w)."""
    top, bottom, left, right = pads
    X = np.pad(X, ((top, bottom), (left, right)))
    if X.shape[0] < K.shape[0] or X.shape[1] < K.shape[1]:
        return None
    windows = sliding_window_view(X, K.shape)[::strides[0], ::strides[1]]
    return np.einsum("ijkl,kl->ij", windows, K)


_corr = corr2d_numpy


def _flip(K):
    return K[..., ::-1, ::-1]


def _top_left_block(result, expected):
    """(r, c) if result is expected in its top-left r×c block and 0 elsewhere, (r, c) not whole."""
    if result.ndim != 2 or result.shape != expected.shape:
        return None
    h, w = expected.shape
    for r in range(h, 0, -1):
        for c in range(w, 0, -1):
            if (r, c) == (h, w):
                continue
            block = np.zeros_like(expected)
            block[:r, :c] = expected[:r, :c]
            if _close(result, block) and not _close(block, expected):
                return r, c
    return None


def _shape_hints(expected):
    """Mistakes of any cross-correlation's output: transposed, one row or column short."""
    return [
        (lambda: np.swapaxes(expected, -1, -2),
         _("your output is the expected one transposed: rows and columns swapped")),
        (lambda: expected[..., :-1, :-1],
         _("your output is the expected one without its last row and column: the loops or the "
         "output size stop one step early (h - kh + 1 rows and w - kw + 1 columns)")),
        (lambda: expected[..., :-1, :],
         _("your output is the expected one without its last row: h - kh + 1 rows, not h - kh")),
        (lambda: expected[..., :, :-1],
         _("your output is the expected one without its last column: w - kw + 1 columns, not w - kw")),
    ]


# ---------------------------------------------------------------- chapter 1: corr2d

def _corr2d(inputs, result):
    X, K = inputs["X"], inputs["K"]
    kh, kw = K.shape
    expected = _corr(X, K)
    candidates = [
        (lambda: _corr(X, _flip(K)),
         _("your output equals a true convolution: the kernel was flipped; cross-correlation does not flip it")),
        (lambda: _corr(X, K.T),
         _("your output equals the cross-correlation with the kernel transposed (K.T): are its height and "
         "width swapped?")),
        (lambda: expected / K.size,
         _("your output equals the expected one divided by kh·kw: the mean of each window's products, "
         "where cross-correlation takes their sum")),
        (lambda: _window_matrix_products(X, K),
         _("your output sums a matrix product (nd.dot) of each window with K: cross-correlation multiplies "
         "elementwise, (window * K).sum()")),
    ] + _shape_hints(expected)
    found = _all_matches(result, expected, candidates)
    if result.shape in {(X.shape[0] - kh + 1, X.shape[1] - kh + 1), (X.shape[0] - kw + 1, X.shape[1] - kw + 1)} \
            and result.shape != expected.shape:
        which = "height" if result.shape[1] == X.shape[1] - kh + 1 else "width"
        found.append((f"kernel {which} both axes",
                      _("your output's shape uses the kernel's height for both axes: expected (h - kh + 1, w - kw + 1)")
                      if which == "height" else
                      _("your output's shape uses the kernel's width for both axes: expected (h - kh + 1, w - kw + 1)")))
    block = _top_left_block(result, expected)
    if block:
        found.append(("top-left block",
                      _("only the top-left {rows}×{columns} part of your output is filled, the rest is 0: do "
                        "the loops run over the output's whole height and width, range(Y.shape[0]) and "
                        "range(Y.shape[1])?").format(rows=block[0], columns=block[1])))
    return found


def _window_matrix_products(X, K):
    if K.shape[0] != K.shape[1]:
        return None
    windows = sliding_window_view(X, K.shape)
    return np.einsum("ijkl,lm->ij", windows, K)


# ---------------------------------------------------------------- chapter 2: Conv2D

def _conv2d_forward(inputs, result):
    X, weight, bias = inputs["X"], inputs["weight"], inputs["bias"]
    plain = _corr(X, weight)
    expected = plain + bias
    candidates = [
        (lambda: plain, _("your output equals the cross-correlation without the bias: add the bias to it")),
        (lambda: plain - bias, _("your output equals the cross-correlation with the bias subtracted, not added")),
        (lambda: _corr(X, weight + bias),
         _("your output equals the cross-correlation with the bias added to each kernel entry: add it to "
         "the output instead")),
        (lambda: _corr(X, _flip(weight)) + bias,
         _("your output equals a true convolution plus the bias: the kernel was flipped; cross-correlation "
         "does not flip it")),
    ] + _shape_hints(expected)
    return _all_matches(result, expected, candidates)


# ---------------------------------------------------------------- chapter 3: train_kernel

def _train_kernel(inputs, result):
    """Which update rule explains the last epoch: from the K returned, step back one update
    under each hypothesis and compare the loss there with the last loss reported."""
    K, losses = result
    if len(losses) == 0:
        return []
    X, Y = inputs["X"], inputs["Y"]
    lr = float(inputs.get("lr", 3e-2))          # the example case runs with the default lr
    P = sliding_window_view(X, K.shape).reshape(-1, K.size)
    y, k = Y.ravel(), K.ravel()
    outputs = len(y)
    hypotheses = [  # (step on the summed loss's gradient, loss reported per summed loss, text, mistake)
        (3e-2, 1.0, _("your losses fit updates with lr = 0.03 rather than the lr argument ({lr})").format(
            lr=f"{lr:.3g}"), "lr 0.03")
        if not math.isclose(lr, 3e-2) else None,
        (lr / outputs, 1.0 / outputs,
         _("your losses are the mean of the squared errors, and so is the gradient: use their sum"), "mean"),
        (-lr, 1.0, _("your last update added the gradient (gradient ascent): subtract lr times the gradient"), "ascent"),
    ]
    found = []
    for hypothesis in filter(None, hypotheses):
        step, scale, text, key = hypothesis
        # k = k_prev - step * 2 P^T (P k_prev - y)  <=>  (I - 2 step P^T P) k_prev = k - 2 step P^T y
        M = np.eye(K.size) - 2 * step * P.T @ P
        if np.linalg.cond(M) > 1e6:
            continue
        k_prev = np.linalg.solve(M, k - 2 * step * P.T @ y)
        if np.linalg.norm(k_prev - k) <= 1e-3 * max(1.0, np.linalg.norm(k)):
            continue  # at the minimum every rule stands still: no telling them apart
        predicted = scale * float(np.sum((P @ k_prev - y) ** 2))
        if abs(predicted - losses[-1]) <= 1e-3 * abs(losses[-1]) + 1e-6:
            found.append((key, text))
    return found


# ---------------------------------------------------------------- chapter 4: padding and stride

def _geometry(inputs, shape):
    return shape, _pair(inputs["kernel_size"]), _pair(inputs["padding"]), _pair(inputs["strides"])


def _output_shape(inputs, result):
    n, k, p, s = _geometry(inputs, tuple(inputs["input_shape"]))

    def size(n, k, p, s, rule=lambda n, k, p, s: (n + 2 * p - k) // s + 1):
        return np.array([rule(n[a], k[a], p[a], s[a]) for a in range(2)], dtype=np.float64)

    both = lambda v, a: (v[a], v[a])
    swap = lambda v: (v[1], v[0])
    expected = size(n, k, p, s)
    # Two integers coincide easily, so every mistake that gives the answer is named.
    candidates = [
        (lambda: size(n, k, p, s, lambda n, k, p, s: (n + p - k) // s + 1),
         _("counting the padding once per axis (padding=p adds p rows above and p below)")),
        (lambda: size(n, k, p, s, lambda n, k, p, s: (n - k) // s + 1), _("leaving out the padding")),
        (lambda: size(n, k, p, s, lambda n, k, p, s: (n + 2 * p - k) + 1), _("leaving out the strides")),
        (lambda: size(n, k, p, s, lambda n, k, p, s: math.ceil((n + 2 * p - k) / s) + 1),
         _("rounding up (a window that does not fit is dropped, so the size rounds down)")),
        (lambda: size(n, k, p, s, lambda n, k, p, s: (n + 2 * p - k + 1) // s),
         _("adding the 1 before dividing by the stride")),
        (lambda: size(n, k, p, s, lambda n, k, p, s: (n + 2 * p - k) // s), _("leaving out the + 1 (the first window)")),
        (lambda: size(n, k, p, both(s, 0)), _("using the stride of the height for both axes")),
        (lambda: size(n, k, p, both(s, 1)), _("using the stride of the width for both axes")),
        (lambda: size(n, both(k, 0), p, s), _("using the kernel's height for both axes")),
        (lambda: size(n, both(k, 1), p, s), _("using the kernel's width for both axes")),
        (lambda: size(n, k, both(p, 0), s), _("using the padding of the height for both axes")),
        (lambda: size(n, k, both(p, 1), s), _("using the padding of the width for both axes")),
        (lambda: size(n, swap(k), p, s), _("reading kernel_size as (width, height)")),
        (lambda: size(n, k, swap(p), s), _("reading padding as (width, height)")),
        (lambda: size(n, k, p, swap(s)), _("reading strides as (width, height)")),
        (lambda: expected[::-1], _("swapping height and width in the answer")),
    ]
    return _all_matches(result, expected, candidates)


def _pad_stride(inputs, result):
    X, K = inputs["X"], inputs["K"]
    (ph, pw), (sh, sw) = _pair(inputs["padding"]), _pair(inputs["strides"])

    def corr(K=K, pads=(ph, ph, pw, pw), strides=(sh, sw)):
        return _corr(X, K, pads, strides)

    expected = corr()
    unstrided = corr(strides=(1, 1))
    candidates = [
        (lambda: corr(_flip(K)),
         _("your output equals a true convolution: the kernel was flipped; cross-correlation does not flip it")),
        (lambda: corr(pads=(ph, 0, pw, 0)),
         _("your output equals a cross-correlation with the padding on one side only (top and left): "
         "padding=p adds p zero rows above and below X and p zero columns left and right")),
        (lambda: corr(pads=(ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)),
         _("your output equals a cross-correlation that takes the padding as the total of both sides "
         "(p // 2 above, the rest below): padding=p adds p zero rows on each side, 2p in all")),
        (lambda: corr(pads=(0, ph, 0, pw)),
         _("your output equals a cross-correlation with the padding on one side only (bottom and right): "
         "padding=p adds p zero rows above and below X and p zero columns left and right")),
        (lambda: corr(pads=(0, 0, 0, 0)),
         _("your output equals the cross-correlation without the padding: pad X with zeros on each side first")),
        (lambda: unstrided,
         _("your output equals the cross-correlation without the strides: the window moves s_h rows and "
         "s_w columns at a time")),
        (lambda: corr(strides=(sh, sh)),
         _("your output uses the stride of the height for both axes: strides=(s_h, s_w) moves the window "
         "s_h rows down and s_w columns right")),
        (lambda: corr(strides=(sw, sw)),
         _("your output uses the stride of the width for both axes: strides=(s_h, s_w) moves the window "
         "s_h rows down and s_w columns right")),
        (lambda: corr(pads=(ph, ph, ph, ph)), _("your output uses the padding of the height for both axes")),
        (lambda: corr(pads=(pw, pw, pw, pw)), _("your output uses the padding of the width for both axes")),
        (lambda: corr(pads=(pw, pw, ph, ph)),
         _("your output has the padding of the height and width swapped: padding=(p_h, p_w) pads p_h rows "
         "above and below and p_w columns left and right")),
        (lambda: corr(strides=(sw, sh)),
         _("your output has the strides of the height and width swapped: strides=(s_h, s_w)")),
        (lambda: unstrided[:expected.shape[0], :expected.shape[1]],
         _("the windows of your output do not move by the stride: the window of output (i, j) starts at "
         "row i·s_h and column j·s_w of the padded input")),
    ] + _shape_hints(expected)
    return _all_matches(result, expected, candidates)


# ---------------------------------------------------------------- chapter 5: channels

def _multi_in(inputs, result):
    X, K = inputs["X"], inputs["K"]
    c = X.shape[0]
    per_channel = [_corr(x, k) for x, k in zip(X, K)]
    expected = sum(per_channel)
    candidates = [
        (lambda: np.stack(per_channel),
         _("your output has one channel per input channel: the channels' cross-correlations were stacked, "
         "not summed (nd.add_n or sum)")),
        (lambda: expected / c,
         _("your output is the sum divided by the number of channels: a mean over the channels, where "
         "the exercise sums them")),
    ]
    candidates += [(lambda m=m: sum(per_channel[:m]),
                    _("your output sums only the first {used} of the {channels} channels: sum over all channels "
                      "of X").format(used=m, channels=c),
                    "first channels only")
                   for m in range(1, c)]
    candidates += [
        (lambda: sum(_corr(x, K[0]) for x in X),
         _("your output uses K[0] for every channel: channel i of X goes with kernel K[i]")),
        (lambda: _corr(X.sum(axis=0), K.sum(axis=0)),
         _("your output equals X and K summed over their channels before the cross-correlation: the channels "
         "were summed before the cross-correlation; cross-correlate each with its own kernel, then sum")),
        (lambda: sum(_corr(x, k) for x, k in zip(X, K[::-1])),
         _("your output pairs the channels of X with the kernels in reverse order: channel i goes with K[i]")),
        (lambda: sum(_corr(x, _flip(k)) for x, k in zip(X, K)),
         _("your output equals a sum of true convolutions: the kernels were flipped; cross-correlation does "
         "not flip them")),
        (lambda: sum(_corr(x, k.T) for x, k in zip(X, K)),
         _("your output equals the cross-correlations with each kernel transposed (K[i].T): are their height "
         "and width swapped?")),
    ] + _shape_hints(expected)
    return _all_matches(result, expected, candidates)


def _multi_in_out(inputs, result):
    X, K = inputs["X"], inputs["K"]
    c_o, c_i = K.shape[:2]
    per = np.stack([np.stack([_corr(X[i], K[o, i]) for i in range(c_i)]) for o in range(c_o)])
    expected = per.sum(axis=1)
    h, w = expected.shape[1:]
    candidates = [
        (lambda: expected.sum(axis=0),
         _("your output channels were summed: expected one output channel per kernel K[o], stacked with nd.stack")),
        (lambda: expected.reshape(c_o * h, w),
         _("your output channels were concatenated along the rows (nd.concat): nd.stack puts them on a new "
         "first axis, (c_o, h', w')")),
        (lambda: expected.transpose(1, 2, 0),
         _("your output has its channels last, (h', w', c_o): stack the output channels on axis 0")),
        (lambda: expected[:-1],
         _("the last output channel is missing: one output channel per kernel, for k in K")),
        (lambda: expected[0], _("your output is the first output channel only: one output channel per kernel")),
        (lambda: np.stack([sum(_corr(X[m], K[m, j]) for m in range(c_i)) for j in range(c_i)])
         if c_o == c_i else None,
         _("your output pairs the channels with K[:, i]: axes 0 and 1 of K are swapped; K[o] holds the c_i "
         "kernels of output channel o")),
        (lambda: expected / c_i,
         _("your output is divided by the number of input channels: a mean over the input channels, where "
         "the exercise sums them")),
        (lambda: per, _("your output has the input channels stacked, (c_o, c_i, h', w'): sum them")),
        (lambda: np.stack([sum(_corr(X[i], _flip(K[o, i])) for i in range(c_i)) for o in range(c_o)]),
         _("your output equals true convolutions: the kernels were flipped; cross-correlation does not flip them")),
    ] + _shape_hints(expected)
    return _all_matches(result, expected, candidates)


# ---------------------------------------------------------------- chapter 6: 1×1 convolution

def _conv_1x1(inputs, result):
    X, K = inputs["X"], inputs["K"]
    c_i, h, w = X.shape
    c_o = K.shape[0]
    flat, K2 = X.reshape(c_i, h * w), K.reshape(c_o, c_i)
    expected = (K2 @ flat).reshape(c_o, h, w)
    pixels_first = X.reshape(h * w, c_i) @ K2.T
    pixels_text = (_("X was reshaped to (h·w, c_i), which mixes pixels and channels: X.reshape((c_i, h * w)) "
                   "keeps one channel per row"))
    candidates = [
        (lambda: pixels_first.T.reshape(c_o, h, w), pixels_text),
        (lambda: pixels_first.reshape(c_o, h, w), pixels_text),
        (lambda: (flat.T @ K2.T).reshape(c_o, h, w),
         _("your product of shape (h·w, c_o) was reshaped to (c_o, h, w) without transposing it first")),
        (lambda: (K.reshape(c_i, c_o).T @ flat).reshape(c_o, h, w),
         _("K was reshaped to (c_i, c_o) to transpose it: reshape keeps the order of the entries; "
         "K.reshape((c_o, c_i)) goes on the left of the product")),
        (lambda: expected.reshape(c_o, h * w), _("your output is flat, (c_o, h·w): reshape it to (c_o, h, w)")),
        (lambda: expected.reshape(c_o, w, h),
         _("your output was reshaped to (c_o, w, h): height and width swapped; expected (c_o, h, w)")),
        (lambda: np.einsum("oi,ihw->ihw", K2, X),
         _("your output sums over the output channels, axis 0 of K: the sum runs over the input channels")),
        (lambda: expected.transpose(1, 2, 0), _("your output has its channels last, (h, w, c_o)")),
    ] + _shape_hints(expected)
    return _all_matches(result, expected, candidates)


# ---------------------------------------------------------------- chapter 6: the capstone, im2col

def _unrolled(X, kernel_shape, pads, strides, order="cab"):
    """The im2col matrix of X (c_i, h, w): one column per output position, one row per entry of
    the window, the rows in ``order`` ("cab": channel, then kernel row, then kernel column)."""
    top, bottom, left, right = pads
    Xp = np.pad(X, ((0, 0), (top, bottom), (left, right)))
    windows = sliding_window_view(Xp, kernel_shape, axis=(1, 2))[:, ::strides[0], ::strides[1]]
    c, oh, ow, kh, kw = windows.shape
    axes = {"c": 0, "a": 3, "b": 4}
    return windows.transpose([axes[k] for k in order] + [1, 2]).reshape(-1, oh * ow), (oh, ow)


def _im2col(inputs, result):
    X, K = inputs["X"], inputs["K"]
    c_o = K.shape[0]
    (ph, pw), (sh, sw) = _pair(inputs["padding"]), _pair(inputs["strides"])

    def product(K=K, pads=(ph, ph, pw, pw), strides=(sh, sw), order="cab"):
        columns, (oh, ow) = _unrolled(X, K.shape[2:], pads, strides, order)
        return (K.reshape(c_o, -1) @ columns).reshape(c_o, oh, ow)

    expected = product()
    columns, (oh, ow) = _unrolled(X, K.shape[2:], (ph, ph, pw, pw), (sh, sw))
    unstrided = product(strides=(1, 1))
    candidates = [
        (lambda: product(_flip(K)),
         _("your output equals a true convolution: the kernel was flipped; cross-correlation does not flip it")),
        (lambda: product(order="cba"),
         _("your columns list each window column by column (kernel column before kernel row) while K.reshape "
         "lists the kernel row by row: unroll each window in the order of K.reshape((c_o, -1)), channel, "
         "then row, then column")),
        (lambda: product(order="abc"),
         _("your columns list each window position by position with the channels innermost, while "
         "K.reshape((c_o, -1)) has the channels outermost: unroll channel by channel, as K is laid out")),
        (lambda: product(order="bac"),
         _("your columns list each window in another order than K.reshape((c_o, -1)) does (channel, then "
         "row, then column): the rows of the columns and the columns of the kernel matrix must match")),
        (lambda: (columns.T @ K.reshape(c_o, -1).T).reshape(c_o, oh, ow),
         _("your product of shape (h'·w', c_o) was reshaped to (c_o, h', w') without transposing it first")),
        (lambda: product(pads=(ph, 0, pw, 0)),
         _("your output equals a cross-correlation with the padding on one side only (top and left): "
         "padding=p adds p zero rows above and below X and p zero columns left and right")),
        (lambda: product(pads=(ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)),
         _("your output equals a cross-correlation that takes the padding as the total of both sides: "
         "padding=p adds p zero rows on each side, 2p in all")),
        (lambda: product(pads=(0, 0, 0, 0)),
         _("your output equals the cross-correlation without the padding: pad every channel of X with zeros "
         "on each side first")),
        (lambda: unstrided,
         _("your output equals the cross-correlation without the strides: the window moves s_h rows and "
         "s_w columns at a time")),
        (lambda: product(strides=(sh, sh)), _("your output uses the stride of the height for both axes")),
        (lambda: product(strides=(sw, sw)), _("your output uses the stride of the width for both axes")),
        (lambda: product(strides=(sw, sh)),
         _("your output has the strides of the height and width swapped: strides=(s_h, s_w)")),
        (lambda: product(pads=(pw, pw, ph, ph)),
         _("your output has the padding of the height and width swapped: padding=(p_h, p_w) pads p_h rows "
         "above and below and p_w columns left and right")),
        (lambda: unstrided[:, :oh, :ow],
         _("the windows of your output do not move by the stride: the window of output (i, j) starts at "
         "row i·s_h and column j·s_w of the padded input")),
        (lambda: expected.sum(axis=0), _("your output channels were summed: expected one output channel per "
                                       "kernel K[o], (c_o, h', w')")),
        (lambda: expected.reshape(c_o, oh * ow), _("your output is flat, (c_o, h'·w'): reshape it to (c_o, h', w')")),
        (lambda: expected.reshape(c_o, ow, oh),
         _("your output was reshaped to (c_o, w', h'): height and width swapped; expected (c_o, h', w')")),
        (lambda: expected.transpose(1, 2, 0), _("your output has its channels last, (h', w', c_o)")),
    ] + _shape_hints(expected)
    return _all_matches(result, expected, candidates)


# How the sentences of several mistakes that all explain the failures are said; by default the first.
_FORMATS = {
    "conv2d_output_shape": lambda texts: _("your answer is what {mistakes} gives; on each axis the size is "
                                           "(n + 2p - k) // s + 1").format(mistakes=_(" or ").join(texts[:3])),
}

_DIAGNOSES = {
    "corr2d": _corr2d,
    "Conv2D": _conv2d_forward,
    "train_kernel": _train_kernel,
    "conv2d_output_shape": _output_shape,
    "corr2d_pad_stride": _pad_stride,
    "corr2d_multi_in": _multi_in,
    "corr2d_multi_in_out": _multi_in_out,
    "corr2d_multi_in_out_1x1": _conv_1x1,
    "corr2d_im2col": _im2col,
}
