"""The course's figures of fixed numbers: drawn once, shown as the PNG Jupyter's inline backend
would show, and drawn ahead by the grading worker when a chapter shows them after an exercise
(where the grader runs the cell in every submission)."""
import re

import pytest

from course_runtime import figures
from tests import course

DRAWN = {name: value for name, value in vars(figures).items() if hasattr(value, "png") and hasattr(value, "draw")}


def test_a_figure_is_drawn_once_and_shown_as_its_png(monkeypatch):
    pytest.importorskip("IPython")
    from IPython.core.pylabtools import print_figure
    drawn, shown = [], []

    @figures.drawn_once
    def square(size=2):
        drawn.append(size)
        figure = figures.plt.figure(figsize=(size, size))
        figure.gca().plot([0, 1], [0, 1])
        return figure

    monkeypatch.setattr("IPython.display.display", lambda image: shown.append(image.data))
    square()
    square()
    square(size=3)
    assert drawn == [2, 3]  # once per distinct arguments
    assert shown[0] == shown[1] != shown[2]
    assert shown[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert shown[0] == print_figure(square.draw(), "png", bbox_inches="tight")  # what the inline backend shows
    assert square not in figures._AHEAD


def _calls_after_the_first_exercise(notebook):
    cells = notebook.cells
    first = next(i for i, c in enumerate(cells) if course.nbgrader_meta(c).get("solution"))
    return {name for c in cells[first + 1:] if c.cell_type == "code"
            for name in re.findall(r"\b(\w+)\(", c.source) if name in DRAWN}


@pytest.mark.parametrize("assignment", list(course.chapters()))
def test_figures_shown_after_an_exercise_are_drawn_ahead_by_the_grader(assignment):
    release = course.read(course.REPO / "chapters" / assignment / course.chapters()[assignment])
    for name in _calls_after_the_first_exercise(release):
        assert DRAWN[name].ahead, f"{assignment} shows {name} after an exercise: mark it @drawn_once(ahead=True)"


def test_prepare_draws_the_figures_marked_ahead():
    assert figures._AHEAD and all(figure.ahead for figure in figures._AHEAD)
    figures.prepare()
    for figure in figures._AHEAD:
        assert figure.png()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- the figures in Chinese

CATALOG = course.REPO / "course_runtime" / "locale" / "zh_CN" / "LC_MESSAGES" / "figures.po"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def sample_runs():
    """learning_rate_figure's argument as chapter 3 makes it: {image's name: {learning rate: losses}}."""
    import numpy as np
    return {name: {rate: list(np.geomspace(100, end, 20)) for rate, end in ((3e-2, 1e6), (16e-3, 10), (1e-2, 1))}
            for name in figures.IMAGE_NAMES}


def drawn_figures(language):
    """Every figure of the course drawn in ``language``, rendered (as print_figure does): {name: figure}."""
    from course_runtime import i18n
    drawn = {}
    with i18n.speaking(language), figures.language_font():
        for name, figure in DRAWN.items():
            drawn[name] = figure.draw()
        drawn["learning_rate_figure"] = figures.learning_rate_figure(sample_runs())
        for figure in drawn.values():
            figure.canvas.draw()       # lays out and renders every glyph, as saving the PNG does
    return drawn


def texts(figure):
    from matplotlib.text import Text
    return [t.get_text() for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]


def catalog():
    from babel.messages.pofile import read_po
    with open(CATALOG, "rb") as file:
        return read_po(file, locale="zh_CN", domain="figures")


def test_every_figure_draws_in_chinese_with_no_missing_glyph():
    """Warnings are errors: matplotlib warns "Glyph ... missing from font(s)" for a character no
    font of the family has (drawn as a box). Every Chinese character drawn is Noto Sans SC's, and
    every text that differs from the English figure's (a translated word) has Chinese in it."""
    import warnings

    from matplotlib.ft2font import FT2Font
    import pylopdf_fonts_zh_cn
    font_chars = set(map(chr, FT2Font(str(pylopdf_fonts_zh_cn.sans_path())).get_charmap()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chinese = drawn_figures("zh_CN")
    english = drawn_figures("en")
    drawn_chinese = ""
    for name, figure in chinese.items():
        translated = set(texts(figure)) - set(texts(english[name]))
        assert all(CJK.search(text) for text in translated), (name, translated)
        drawn_chinese += "".join(CJK.findall("".join(texts(figure))))
    assert len(set(drawn_chinese)) > 30, "the Chinese figures show hardly any Chinese"
    missing = set(drawn_chinese) - font_chars
    assert not missing, f"characters Noto Sans SC lacks: {sorted(missing)}"
    for figure in list(chinese.values()) + list(english.values()):
        figures.plt.close(figure)


def test_a_missing_glyph_is_an_error_in_that_test():
    """The check above can fail: Chinese drawn without the Chinese font warns of missing glyphs."""
    import warnings
    figure = figures.plt.figure()
    figure.text(0.5, 0.5, "输入")
    with warnings.catch_warnings(), pytest.raises(UserWarning, match="missing from font"):
        warnings.simplefilter("error")
        with figures.plt.rc_context({"font.family": ["DejaVu Sans"]}):
            figure.canvas.draw()
    figures.plt.close(figure)


def test_the_catalog_has_every_word_of_the_figures_translated():
    """figures.po is what Babel extracts from figures.py (_ and N_), every message translated
    (not fuzzy), with the same {fields}, and its Chinese all in Noto Sans SC."""
    from babel.messages.extract import extract_from_file
    extracted = {message for _line, message, _comments, _context in
                 extract_from_file("python", str(course.REPO / "course_runtime" / "figures.py"),
                                   keywords={"_": None, "N_": None})}
    entries = {m.id: m for m in catalog() if m.id}
    assert set(entries) == extracted, "figures.po is stale: extract it again with pybabel (README)"
    for message in entries.values():
        assert message.string and not message.fuzzy, f"untranslated: {message.id!r}"
        assert CJK.search(message.string), f"not Chinese: {message.string!r}"
        assert set(re.findall(r"\{\w+[^}]*\}", message.string)) == set(re.findall(r"\{\w+[^}]*\}", message.id))


def test_english_figures_do_not_change_and_chinese_ones_are_cached_apart():
    """A figure's PNG per language: the English one is matplotlib's defaults (no Chinese font
    registered, the rc settings untouched), the Chinese one another picture, each drawn once."""
    import os
    import subprocess
    import sys
    import textwrap
    script = textwrap.dedent("""
        import matplotlib; matplotlib.use("Agg")
        from IPython.core.pylabtools import print_figure
        from matplotlib import font_manager, rcParams
        from course_runtime import figures, i18n
        family = list(rcParams["font.family"])
        with i18n.speaking("en"):
            png = figures.correlation_window.png()
        assert png == print_figure(figures.correlation_window.draw(), "png", bbox_inches="tight")
        assert list(rcParams["font.family"]) == family
        assert not [f for f in font_manager.fontManager.ttflist if "Noto" in f.name], "Noto loaded for English"
        with i18n.speaking("zh_CN"):
            chinese = figures.correlation_window.png()
        assert chinese != png and chinese[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
        assert list(rcParams["font.family"]) == family
        with i18n.speaking("en"):
            assert figures.correlation_window.png() is png      # each language's PNG is kept
        with i18n.speaking("zh_CN"):
            assert figures.correlation_window.png() is chinese
        print("ok")
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_LANGUAGE", "JPY_SESSION_NAME")}
    result = subprocess.run([sys.executable, "-c", script], cwd=course.REPO, env=env, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-2000:]


def test_learning_rate_figure_labels_runs_by_their_rate_in_the_language():
    from course_runtime import i18n
    with i18n.speaking("zh_CN"):
        figure = figures.learning_rate_figure(sample_runs())
    shown = texts(figure)
    assert "d2l 的图像" in shown and "笔记的图像" in shown and "迭代周期" in shown
    assert {"学习率 0.03", "学习率 0.016", "学习率 0.01"} <= set(shown)
    figures.plt.close(figure)
    with i18n.speaking("en"):
        figure = figures.learning_rate_figure(sample_runs())
    assert {"learning rate 0.03", "d2l's image", "epoch"} <= set(texts(figure))
    figures.plt.close(figure)
