"""The course's figures, drawn by the build with matplotlib.

Each figure computes the numbers it shows (with numpy, independently of the exercises), so a
figure cannot disagree with the text's arithmetic.

A figure of fixed numbers is drawn once per process and shown as that PNG afterwards
(``drawn_once``). The grader runs a chapter's cells before its first exercise once per chapter,
but a figure cell after an exercise in every submission: such a figure is marked ``ahead``, and
the grading worker draws it once (``prepare``) before it forks its sandboxes.

The figures speak the notebook's language (``course_runtime.i18n``): their words go through
gettext (catalog ``locale/<language>/LC_MESSAGES/figures.po``, extracted from this file with
Babel), and a Chinese figure is drawn with a font that has the Chinese characters (Noto Sans SC,
from the pinned package pylopdf-fonts-zh-cn), registered with matplotlib only then, so that the
English figures stay as they were.
"""
import contextlib
import functools

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.patches import Rectangle

from course_runtime import i18n
from course_runtime.i18n import N_

_ = i18n.translator("figures")


WINDOW = "#4c72b0"      # the cells the current window covers, and its result
PADDING = "#dddddd"     # zero padding
CELL = "white"


_AHEAD = []   # the figures a chapter shows after an exercise, for prepare()


@functools.lru_cache(maxsize=None)
def chinese_font():
    """The family name of Noto Sans SC (SIL Open Font License), registered with matplotlib on
    first use. It comes from a pinned package (requirements.txt, and the student edition's), not
    from the system, so that every machine draws the same figure."""
    import pylopdf_fonts_zh_cn

    path = str(pylopdf_fonts_zh_cn.sans_path())
    font_manager.fontManager.addfont(path)
    return font_manager.FontProperties(fname=path).get_name()


@contextlib.contextmanager
def language_font(language=None):
    """Draw in the fonts of ``language`` (by default the notebook's): for Chinese, matplotlib's
    DejaVu Sans first (digits, Latin letters and symbols as in the English figures), then Noto
    Sans SC for the characters DejaVu Sans lacks (matplotlib's per-glyph font fallback). English:
    matplotlib's defaults, untouched."""
    language = language or i18n.current_language()
    if language == i18n.ENGLISH:
        yield
        return
    with plt.rc_context({"font.family": ["DejaVu Sans", chinese_font()]}):
        yield


def drawn_once(draw=None, *, ahead=False):
    """A figure function that shows its figure as Jupyter's inline backend would (a PNG, cropped
    to what is drawn), drawing it only the first time it is called with these arguments.
    ``ahead``: a chapter shows it after an exercise (tests/test_figures.py checks the marks)."""
    if draw is None:
        return functools.partial(drawn_once, ahead=ahead)
    pngs = {}

    def png(*args, **kwargs):
        # One PNG per language too: a grading worker may judge notebooks of both languages.
        language = i18n.current_language()
        key = (language, args, tuple(sorted(kwargs.items())))
        if key not in pngs:
            from IPython.core.pylabtools import print_figure
            with language_font(language):
                figure = draw(*args, **kwargs)
                pngs[key] = print_figure(figure, "png", bbox_inches="tight")
            plt.close(figure)
        return pngs[key]

    @functools.wraps(draw)
    def show(*args, **kwargs):
        from IPython.display import Image, display
        display(Image(data=png(*args, **kwargs), format="png"))

    show.png, show.draw, show.ahead = png, draw, ahead
    if ahead:
        _AHEAD.append(show)
    return show


def prepare(languages=i18n.LANGUAGES):
    """Draw the figures marked ``ahead`` once in each of ``languages``, with their default
    arguments (in a grading worker, before it forks: no sandbox then draws them)."""
    for language in languages:
        with i18n.speaking(language):
            for figure in _AHEAD:
                figure.png()


def correlate(X, K, padding=(0, 0), strides=(1, 1)):
    """Plain numpy 2-D cross-correlation, for the figures only."""
    X = np.pad(X, ((padding[0], padding[0]), (padding[1], padding[1])))
    windows = np.lib.stride_tricks.sliding_window_view(X, K.shape)[::strides[0], ::strides[1]]
    return np.einsum("ijkl,kl->ij", windows, K)


def _grid(ax, values, x0, y0, title=None, window=None, pad=0, fmt="{:g}"):
    """Draw a matrix with its top-left corner at (x0, y0); shade ``window`` = (row, col, h, w)."""
    h, w = values.shape
    for i in range(h):
        for j in range(w):
            is_pad = pad and (i < pad or j < pad or i >= h - pad or j >= w - pad)
            face = PADDING if is_pad else CELL
            ax.add_patch(Rectangle((x0 + j, y0 - i - 1), 1, 1, facecolor=face, edgecolor="black", lw=1))
            ax.text(x0 + j + 0.5, y0 - i - 0.5, fmt.format(values[i, j]), ha="center", va="center", fontsize=11)
    if window is not None:
        r, c, wh, ww = window
        ax.add_patch(Rectangle((x0 + c, y0 - r - wh), ww, wh, facecolor=WINDOW, alpha=0.35,
                               edgecolor=WINDOW, lw=2.5))
    if title:
        ax.text(x0 + w / 2, y0 + 0.4, title, ha="center", va="bottom", fontsize=11)
    return x0 + w


def _symbol(ax, x, y, text):
    ax.text(x, y, text, ha="center", va="center", fontsize=18)


def _canvas(width, height):
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _finish(fig, ax, xmax, ymin, ymax):
    ax.set_xlim(-0.3, xmax + 0.3)
    ax.set_ylim(ymin - 0.3, ymax + 1.2)
    fig.tight_layout()
    return fig


def operation(X, K, title_x=N_("Input"), title_k=N_("Kernel"), padding=(0, 0), strides=(1, 1), window=(0, 0),
              op="⋆"):
    """Input ⋆ kernel = output, with the first window and its result shaded. The titles are
    messages of the catalog, translated here."""
    Y = correlate(X, K, padding, strides)
    Xp = np.pad(X, ((padding[0], padding[0]), (padding[1], padding[1])))
    kh, kw = np.shape(K)
    r, c = window
    fig, ax = _canvas(1.0 + 0.55 * (Xp.shape[1] + K.shape[1] + Y.shape[1] + 4), 0.6 * max(Xp.shape[0], 3) + 1)
    top = Xp.shape[0]
    x = _grid(ax, Xp, 0, top, _(title_x), window=(r * strides[0], c * strides[1], kh, kw), pad=max(padding))
    _symbol(ax, x + 1, top / 2, op)
    x = _grid(ax, K, x + 2, top / 2 + kh / 2, _(title_k))
    _symbol(ax, x + 1, top / 2, "=")
    x = _grid(ax, Y, x + 2, top / 2 + Y.shape[0] / 2, _("Output"), window=(r, c, 1, 1))
    return _finish(fig, ax, x, 0, top)


@drawn_once
def correlation_window():
    """Chapter 1: the window that gives 19 = 0×0 + 1×1 + 3×2 + 4×3."""
    return operation(np.arange(9).reshape(3, 3), np.array([[0, 1], [2, 3]]))


@drawn_once
def padding_figure():
    """Chapter 4: a 3×3 input padded with one zero on every side, so the 2×2 kernel gives 4×4."""
    return operation(np.arange(9).reshape(3, 3), np.array([[0, 1], [2, 3]]), padding=(1, 1),
                     title_x=N_("Input, padding 1 per side"))


@drawn_once
def stride_figure():
    """Chapter 4: padding 1 and strides (3, 2): the windows jump by 3 rows and 2 columns."""
    return operation(np.arange(9).reshape(3, 3), np.array([[0, 1], [2, 3]]), padding=(1, 1),
                     strides=(3, 2), window=(1, 1), title_x=N_("Input, padding 1, strides (3, 2)"))


@drawn_once
def edge_figure():
    """Chapter 2: the image with a dark band and the edges that the kernel [[1, -1]] finds."""
    X = np.ones((6, 8))
    X[:, 2:6] = 0
    Y = correlate(X, np.array([[1, -1]]))
    fig, axes = plt.subplots(1, 2, figsize=(8, 2.6))
    for ax, image, title, cmap, low in zip(axes, (X, Y), (_("Image X (6×8)"), "Y = corr2d(X, [[1, -1]]) (6×7)"),
                                           ("gray", "coolwarm"), (0, -1)):
        shown = ax.imshow(image, cmap=cmap, vmin=low, vmax=1)
        fig.colorbar(shown, ax=ax, shrink=0.8)
        ax.set_title(title, fontsize=11)
        ax.set_xticks(range(image.shape[1]))
        ax.set_yticks(range(image.shape[0]))
    fig.tight_layout()
    return fig


FIELD = "#dd8452"       # a receptive field that spans more than one window


@drawn_once
def receptive_field_figure():
    """Chapter 2, d2l's two-layer example: a 2×2 layer on a 3×3 input X gives Y (2×2), a second
    2×2 layer on Y gives Z (1×1). Y[0, 0] depends on a 2×2 window of X; Z on all nine pixels of X.
    Kernels of ones, so that every pixel of a window really affects its output."""
    X = np.arange(9).reshape(3, 3)
    K = np.ones((2, 2), dtype=int)
    Y = correlate(X, K)
    Z = correlate(Y, K)
    fig, ax = _canvas(9.5, 3.2)
    top = 3
    x = _grid(ax, X, 0, top, _("Input X (3×3)"))
    ax.add_patch(Rectangle((0, 0), 3, 3, facecolor=FIELD, alpha=0.25, edgecolor=FIELD, lw=2.5))
    ax.add_patch(Rectangle((0, 1), 2, 2, facecolor=WINDOW, alpha=0.35, edgecolor=WINDOW, lw=2.5))
    _symbol(ax, x + 1.4, top / 2, "⋆ K →")
    x = _grid(ax, Y, x + 2.8, top / 2 + 1, "Y = X ⋆ K (2×2)")
    ax.add_patch(Rectangle((x - 2, top / 2 - 1), 2, 2, facecolor=FIELD, alpha=0.25, edgecolor=FIELD, lw=2.5))
    ax.add_patch(Rectangle((x - 2, top / 2), 1, 1, facecolor=WINDOW, alpha=0.35, edgecolor=WINDOW, lw=2.5))
    _symbol(ax, x + 1.4, top / 2, "⋆ K →")
    x = _grid(ax, Z, x + 2.8, top / 2 + 0.5, "Z = Y ⋆ K (1×1)")
    ax.add_patch(Rectangle((x - 1, top / 2 - 0.5), 1, 1, facecolor=FIELD, alpha=0.25, edgecolor=FIELD, lw=2.5))
    return _finish(fig, ax, x, 0, top)


# Chapter 3's names of its two images, the panels' titles of learning_rate_figure.
IMAGE_NAMES = (N_("d2l's image"), N_("the notes' image"))


def learning_rate_figure(runs):
    """Chapter 3: the losses of training runs, one panel per image. ``runs`` maps a panel's title
    (translated when the catalog has it, as IMAGE_NAMES) to {a run's learning rate: its losses per
    epoch}; the notebook computes them (MXNet, seeded), so the figure shows the very numbers the
    chapter prints. Not drawn once: the numbers are the notebook's."""
    with language_font():
        return _learning_rate_figure(runs)


def _run_label(rate):
    """A run's label in the legend: its learning rate (a number), or a label given as text."""
    if isinstance(rate, str):
        return _(rate)
    return _("learning rate {rate:g}").format(rate=rate)


def _learning_rate_figure(runs):
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3.4))
    for ax, (title, curves) in zip(np.atleast_1d(axes), runs.items()):
        for (rate, losses), marker in zip(curves.items(), "os^v"):
            epochs = range(1, len(losses) + 1)
            ax.semilogy(epochs, losses, marker=marker, markersize=4, label=_run_label(rate))
        # A diverging run leaves the plot at the top, so that the others stay readable.
        low, high = ax.get_ylim()
        ax.set_ylim(low, min(high, 1e4))
        ax.set_xticks(range(0, max(len(losses) for losses in curves.values()) + 1, 5))
        ax.set_title(_(title), fontsize=11)
        ax.set_xlabel(_("epoch"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9)
    np.atleast_1d(axes)[0].set_ylabel(_("summed squared error (log scale)"))
    fig.tight_layout()
    return fig


@drawn_once
def channels_figure():
    """Chapter 5: two input channels, each correlated with its own kernel, summed: 56 = 19 + 37."""
    X = np.stack([np.arange(9).reshape(3, 3), np.arange(1, 10).reshape(3, 3)])
    K = np.stack([np.array([[0, 1], [2, 3]]), np.array([[1, 2], [3, 4]])])
    Y = sum(correlate(x, k) for x, k in zip(X, K))
    fig, ax = _canvas(8.5, 4.2)
    for channel, top in ((1, 7.2), (0, 3.2)):
        x = _grid(ax, X[channel], 0, top, _("Input channel {channel}").format(channel=channel),
                  window=(0, 0, 2, 2))
        _symbol(ax, x + 1, top - 1.5, "⋆")
        _grid(ax, K[channel], x + 2, top - 0.5, _("Kernel channel {channel}").format(channel=channel))
    _symbol(ax, 9.2, 3.6, "=")
    x = _grid(ax, Y, 10.2, 4.6, _("Sum over channels"), window=(0, 0, 1, 1))
    return _finish(fig, ax, x, 0, 7.2)


def conv_1x1_example():
    """Chapter 6's figure numbers: X (3, 3, 3) and K (2, 3, 1, 1), small integers."""
    X = np.stack([np.arange(9).reshape(3, 3) + 10 * c for c in range(3)])
    K = np.array([[1, 0, 2], [2, -1, 1]]).reshape(2, 3, 1, 1)
    return X, K


@drawn_once
def conv_1x1_figure(pixel=(1, 2), channel=1):
    """Chapter 6: the 1×1 cross-correlation as one matrix product. Top: the input's three channels,
    the kernel and the output, with one output pixel and the input pixels it reads shaded. Bottom:
    the same as K (c_o × c_i) times X laid out as c_i × hw, one column per pixel: that pixel's
    column and the kernel's row meet in the output's entry."""
    X, K = conv_1x1_example()
    (c_o, c_i), (h, w) = K.shape[:2], X.shape[1:]
    K2 = K[:, :, 0, 0]
    Y = np.einsum("oc,chw->ohw", K2, X)
    i, j = pixel
    column = i * w + j
    fig, ax = _canvas(11, 6.6)
    top = 9.4
    x = 0
    for c in range(c_i):
        x = _grid(ax, X[c], x, top, f"X[{c}]", window=(i, j, 1, 1)) + 0.6
    _symbol(ax, x + 0.2, top - 1.5, "⋆")
    x = _grid(ax, K2.T, x + 1, top - 0, _("K[o, :, 0, 0]\n(one column per o)"), window=(0, channel, c_i, 1))
    _symbol(ax, x + 1, top - 1.5, "=")
    x += 2
    for o in range(c_o):
        x = _grid(ax, Y[o], x, top, f"Y[{o}]", window=(i, j, 1, 1) if o == channel else None) + 0.6
    # the matrix product below
    low = 3.6
    x = _grid(ax, K2, 0, low - 0.5, _("K as c_o × c_i"), window=(channel, 0, 1, c_i))
    _symbol(ax, x + 0.6, low - 1.5, "·")
    x = _grid(ax, X.reshape(c_i, h * w), x + 1.2, low, _("X as c_i × hw (column {column} = pixel {pixel})").format(column=column, pixel=pixel),
              window=(0, column, c_i, 1))
    _symbol(ax, x + 0.6, low - 1.5, "=")
    x = _grid(ax, Y.reshape(c_o, h * w), x + 1.2, low - 0.5, _("Y as c_o × hw"), window=(channel, column, 1, 1))
    return _finish(fig, ax, max(x, 20.5), 0, top)


def im2col_example():
    """Chapter 6's capstone figure: chapter 5's two channels and kernels K, K + 1, K + 2 (the notes')."""
    X = np.stack([np.arange(9).reshape(3, 3), np.arange(1, 10).reshape(3, 3)])
    K = np.stack([np.array([[0, 1], [2, 3]]), np.array([[1, 2], [3, 4]])])
    return X, np.stack([K, K + 1, K + 2])


@drawn_once(ahead=True)
def im2col_figure(position=(0, 1)):
    """Chapter 6's capstone: each 2×2×2 window of the two-channel input becomes one column of an
    8 × 4 matrix (channel, then row, then column of the window), each kernel one row of a 3 × 8
    matrix, and one product gives every output number: the shaded window, its column and the
    output it makes."""
    X, K = im2col_example()
    (c_o, c_i, kh, kw), (h, w) = K.shape, X.shape[1:]
    windows = np.lib.stride_tricks.sliding_window_view(X, (kh, kw), axis=(1, 2))
    oh, ow = windows.shape[1:3]
    columns = windows.transpose(0, 3, 4, 1, 2).reshape(c_i * kh * kw, oh * ow)
    Y = K.reshape(c_o, -1) @ columns
    i, j = position
    column = i * ow + j
    fig, ax = _canvas(12, 5.2)
    top = 8.2
    for c in range(c_i):
        x = _grid(ax, X[c], 0, top - 4.5 * c, f"X[{c}]", window=(i, j, kh, kw))
    _symbol(ax, x + 1, top - 4, "→")
    x = _grid(ax, columns, x + 2, top, f"columns ({columns.shape[0]} × {columns.shape[1]})",
              window=(0, column, columns.shape[0], 1))
    x = _grid(ax, K.reshape(c_o, -1), x + 2, top - 2.5, f"K.reshape((c_o, -1)) ({c_o} × {c_i * kh * kw})")
    _symbol(ax, x + 2.2, top - 4, "· columns =")
    x = _grid(ax, Y, x + 4.4, top - 2.5, f"Y ({c_o} × {oh * ow})", window=(0, column, c_o, 1))
    return _finish(fig, ax, x, 0, top)
