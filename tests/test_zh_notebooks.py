"""The Chinese student notebooks (chapters_zh/, book/zh/notebooks.py, made by `make release`): up to
date with chapters/ and the catalogs; every prose block in Chinese; the code, the nbgrader metadata
and the layout those of the English notebook; every message of the page's catalog used; a block
without a translation stops the release with a message naming the chapter and the paragraph."""
import copy
import re

import nbformat
import pytest

from book.zh import notebooks as zh
from course_runtime.i18n import notebook_language
from tests import course

REPO = course.REPO
CHAPTERS = course.chapters()
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def english(assignment):
    return course.read(REPO / "chapters" / assignment / CHAPTERS[assignment])


def chinese(assignment):
    path = REPO / zh.FOLDER / assignment / CHAPTERS[assignment]
    assert path.is_file(), f"{path.relative_to(REPO)} is missing: run `make release` and commit {zh.FOLDER}/"
    return course.read(path)


def translations(assignment):
    return zh.read_catalog(zh.catalog_path(REPO, assignment, CHAPTERS[assignment]))


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_chinese_notebooks_are_generated_from_the_english_ones_and_the_catalogs(assignment):
    fresh, _ = zh.translate_notebook(english(assignment), translations(assignment), assignment)
    assert fresh == chinese(assignment), (
        f"{zh.FOLDER}/{assignment} is stale: run `make release` and commit {zh.FOLDER}/")


def test_a_changed_translation_makes_the_chinese_notebook_stale():
    """The comparison above can fail: another msgstr gives another notebook."""
    assignment = next(iter(CHAPTERS))
    catalog = translations(assignment)
    heading = next(m for m in catalog if m.startswith("1. "))
    catalog[heading] = "1\\. 另一个标题"
    fresh, _ = zh.translate_notebook(english(assignment), catalog, assignment)
    assert fresh != chinese(assignment) and "# 1\\. 另一个标题" in fresh.cells[0].source


class _Blocks(zh.Translator):
    """Walks a (Chinese) notebook's markdown as the release does, recording each prose block."""

    def __init__(self):
        super().__init__({}, "check")
        self.blocks = []

    def translate(self, text, cell_index):
        self.blocks.append((cell_index, text))
        return text

    def formula(self, latex, cell_index):
        pass


def prose(markdown_inline, md):
    """The words of a block: its text and roles' text, without code, formulas and link targets."""
    words = []
    for token in md.parseInline(markdown_inline)[0].children:
        if token.type == "text":
            words.append(token.content)
        elif token.type == "myst_role":
            words.append(re.sub(r"<[^<>]*>\s*$", "", token.content))
    return " ".join(words)


def blocks_without_chinese(notebook):
    walker = _Blocks()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            walker.markdown(cell.source, index)
        elif cell.metadata.get("mystnb", {}).get("figure", {}).get("caption"):
            walker.blocks.append((index, cell.metadata.mystnb.figure.caption))
    assert walker.blocks
    return [(index, text) for index, text in walker.blocks
            if re.search(r"[A-Za-z]{2}", prose(text, walker.md)) and not CJK.search(prose(text, walker.md))]


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_every_prose_block_of_a_chinese_notebook_is_chinese(assignment):
    english_blocks = blocks_without_chinese(english(assignment))
    assert len(english_blocks) > 10  # the check sees English when there is English
    assert blocks_without_chinese(chinese(assignment)) == []


def _without_caption(cell):
    cell = copy.deepcopy(cell)
    cell.metadata.get("mystnb", {}).get("figure", {}).pop("caption", None)
    return cell


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_a_chinese_notebook_has_the_english_code_and_grading_metadata(assignment):
    en, cn = english(assignment), chinese(assignment)
    assert [c.cell_type for c in cn.cells] == [c.cell_type for c in en.cells]
    assert [c.get("id") for c in cn.cells] == [c.get("id") for c in en.cells]
    assert [c.metadata.get("nbgrader") for c in cn.cells] == [c.metadata.get("nbgrader") for c in en.cells]
    # a code cell is the English one (source, outputs, metadata), only a figure's caption translated
    assert [_without_caption(c) for c in cn.cells if c.cell_type == "code"] == \
           [_without_caption(c) for c in en.cells if c.cell_type == "code"]
    assert course.graded_cells(cn) == course.graded_cells(en) and course.graded_cells(en)
    assert notebook_language(cn.metadata) == "zh_CN" and notebook_language(en.metadata) == "en"
    assert {k: v for k, v in cn.metadata.items() if k != "course"} == en.metadata
    # and the prose did change
    assert sum(a.source != b.source for a, b in zip(cn.cells, en.cells) if a.cell_type == "markdown") >= 10


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_every_message_of_the_pages_catalog_is_used(assignment):
    _, used = zh.translate_notebook(english(assignment), translations(assignment), assignment)
    catalog = zh.catalog_ids(zh.catalog_path(REPO, assignment, CHAPTERS[assignment]))
    assert catalog - used == set(), f"{assignment}: messages of the catalog no block of the notebook uses"
    assert used <= catalog


@pytest.mark.parametrize("kind, pick", [
    ("paragraph", lambda m: m.startswith("In this chapter you will write")),
    ("list item", lambda m: m.startswith("Count the output positions")),
    ("admonition title", lambda m: m == "Hints"),
    ("figure caption", lambda m: m.startswith("The shaded window of the input")),
])
def test_a_block_without_translation_stops_the_release_naming_chapter_and_paragraph(kind, pick):
    assignment = "ch1_cross_correlation"
    catalog = translations(assignment)
    message = next(m for m in catalog if pick(m))
    del catalog[message]
    with pytest.raises(zh.MissingTranslation) as stopped:
        zh.translate_notebook(english(assignment), catalog, f"{assignment} ({CHAPTERS[assignment]})")
    assert assignment in str(stopped.value) and repr(message) in str(stopped.value), kind


def test_a_translated_formula_stops_the_release():
    """Formulas stay as they are in the notebooks: a catalog that changes one is refused."""
    assignment = "ch1_cross_correlation"
    catalog = translations(assignment)
    formula = "(n_h-k_h+1)\\times(n_w-k_w+1)."
    assert catalog[formula] == formula
    catalog[formula] = "(n_h-k_h+1)\\times(n_w-k_w+1)。"
    with pytest.raises(SystemExit, match="formula"):
        zh.translate_notebook(english(assignment), catalog, assignment)


def test_blocks_are_translated_in_place_keeping_markers_math_and_code():
    source = ("# 1. Title\n\nA paragraph\non two lines $x$.\n\n* an item\n  going on\n\n"
              "| a | b |\n|---|---|\n| cell $y$ | `z` |\n\n$$\nx = 1\n$$\n\n"
              ":::{admonition} Hint\n:class: dropdown\nBody.\n:::\n\n```python\nprint('code')\n```")
    catalog = {"1. Title": "1\\. 标题", "A paragraph on two lines $x$.": "一个段落 $x$。",
               "an item going on": "一项", "a": "甲", "b": "乙", "cell $y$": "格 $y$ | 竖线", "`z`": "`z`",
               "Hint": "提示", "Body.": "正文。", "x = 1": "x = 1"}
    translator = zh.Translator(catalog, "test")
    assert translator.markdown(source, 0) == (
        "# 1\\. 标题\n\n一个段落 $x$。\n\n* 一项\n\n| 甲 | 乙 |\n|---|---|\n| 格 $y$ \\| 竖线 | `z` |\n\n"
        "$$\nx = 1\n$$\n\n:::{admonition} 提示\n:class: dropdown\n正文。\n:::\n\n```python\nprint('code')\n```")
    assert translator.used == set(catalog)


def test_make_release_writes_the_committed_chinese_notebooks(tmp_path):
    """`make release` (book/release.py) writes chapters_zh/ as committed, from the solutions up."""
    fresh = course.make_course(tmp_path)
    stale = [a for a, name in CHAPTERS.items() if course.read(fresh / zh.FOLDER / a / name) != chinese(a)]
    assert not stale, f"{zh.FOLDER}/ is stale for {stale}: run `make release` and commit {zh.FOLDER}/"
