"""The built student site shows the results of the notes, executed, and exercise stubs without
tracebacks (the site is built by `make book`; `make test` builds it first)."""
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.book

SITE = Path(__file__).resolve().parents[1] / "_build" / "html"
PAGES = {"ch1": "ch1_cross_correlation/cross_correlation", "ch2": "ch2_conv_layer/conv_layer",
         "ch3": "ch3_learning_kernel/learning_kernel", "ch4": "ch4_padding_stride/padding_stride",
         "ch5": "ch5_channels/channels", "ch6": "ch6_conv_1x1/conv_1x1"}


def cells(chapter):
    path = SITE / "chapters" / f"{PAGES[chapter]}.html"
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make book` first")
    page = BeautifulSoup(path.read_text("utf8"), "html.parser")
    return [(c.select_one("div.cell_input"), c.select_one("div.cell_output")) for c in page.select("div.cell")]


def outputs(chapter):
    return [out.get_text() for _, out in cells(chapter) if out is not None]


def test_the_site_has_the_introduction_and_six_chapters():
    assert (SITE / "index.html").is_file() or (SITE / "intro.html").is_file()
    assert all((SITE / "chapters" / f"{page}.html").is_file() for page in PAGES.values())


def test_chapter_1_shows_19_25_37_43():
    assert any("[[[[19. 25.]" in text and "[37. 43.]]]]" in text for text in outputs("ch1"))


def test_chapter_2_finds_the_edges_as_columns_of_1_and_minus_1():
    assert any(text.count("[ 0.  1.  0.  0.  0. -1.  0.]") == 6 for text in outputs("ch2"))


def test_chapter_3_loss_falls_over_ten_epochs_and_the_kernel_approaches_1_minus_1():
    text = next(t for t in outputs("ch3") if "epoch 10" in t)
    losses = [float(x) for x in re.findall(r"epoch \d+, loss ([0-9.]+)", text)]
    assert len(losses) == 10 and all(b < a for a, b in zip(losses, losses[1:]))
    kernel = next(t for t in outputs("ch3") if "NDArray 1x2" in t)
    learned = [float(x) for x in re.search(r"\[\[\s*([-0-9.e]+)\s+([-0-9.e]+)\]\]", kernel).groups()]
    assert abs(learned[0] - 1) < 0.1 and abs(learned[1] + 1) < 0.1


def test_chapter_4_shapes_of_the_four_settings():
    shapes = [t.strip() for t in outputs("ch4") if re.fullmatch(r"\s*\(\d+, \d+\)\s*", t)]
    assert shapes == ["(8, 8)", "(8, 8)", "(4, 4)", "(2, 2)"]


def test_chapter_5_two_channels_and_three_stacked_kernels():
    text = "\n".join(outputs("ch5"))
    assert "[[[[ 56.  72.]\n   [104. 120.]]]]" in text and "(3, 2, 2, 2)" in text
    for rows in ("[[ 76. 100.]\n   [148. 172.]]", "[[ 96. 128.]\n   [192. 224.]]"):
        assert rows in text


def test_chapter_6_the_1x1_version_equals_the_general_one_within_1e_6():
    text = next(t for t in outputs("ch6") if "largest difference" in t)
    assert float(re.search(r"largest difference: ([0-9.e+-]+)", text).group(1)) < 1e-6


def test_chapter_2_counts_parameters_and_finds_the_receptive_fields_of_the_two_layers():
    text = "\n".join(outputs("ch2"))
    assert "fully connected layer: 96,049,604 parameters" in text and "3x3 convolutional layer: 10 parameters" in text
    fields = re.findall(r"receptive field of (Y|Z)\[0, 0\]: \s*\[\[(.*?)\]\]\s*<NDArray 3x3", text, re.S)
    values = {name: [float(x) for x in re.findall(r"[01]\.", body)] for name, body in fields}
    assert values == {"Y": [1, 1, 0, 1, 1, 0, 0, 0, 0], "Z": [1] * 9}


def test_chapter_3_computes_the_curvatures_of_both_images_and_the_divergence_of_3e_2():
    text = "\n".join(outputs("ch3"))
    eigenvalues = dict(re.findall(r"(d2l's image|the notes' image): H = .*?, eigenvalues \[([0-9., ]+)\]", text))
    assert {k: [float(x) for x in v.split(",")] for k, v in eigenvalues.items()} == {
        "d2l's image": [12.0, 60.0], "the notes' image": [12.0, 132.0]}
    runs = {(image, lr): (float(first), float(tenth), float(twentieth)) for image, lr, first, tenth, twentieth in
            re.findall(r"(d2l's image|the notes' image), lr ([0-9.]+): loss ([0-9.e+-]+), epoch 10 ([0-9.e+-]+), "
                       r"epoch 20 ([0-9.e+-]+)", text)}
    assert len(runs) == 6
    first, tenth, _ = runs[("the notes' image", "0.03")]
    assert tenth > 1e6 > 100 > first                        # d2l's rate diverges on the notes' image
    assert runs[("d2l's image", "0.03")][1] < 0.01          # and converges on d2l's
    _, tenth, twentieth = runs[("the notes' image", "0.016")]
    assert tenth < 1 and twentieth > tenth                  # the notes' rate: just above the limit
    assert runs[("the notes' image", "0.01")][2] < 0.1      # below the limit 2/132: converges


def test_chapter_4_counts_the_windows_of_each_pixel():
    text = next(t for t in outputs("ch4") if "padding 1:" in t)
    grids = {int(p): [[int(x) for x in row.split()] for row in re.findall(r"\[+([0-9 ]+)\]", body)]
             for p, body in re.findall(r"padding (\d):\n(.*?)(?=padding \d:|$)", text, re.S)}
    assert grids[1][0][0] == 4 and grids[1][0][2] == 6 and grids[1][2][2] == 9   # corner, edge, inside
    assert grids[0][0][0] == 1 and {x for row in grids[2] for x in row} == {9}  # only p = k - 1 evens them
    assert any("the two forms agree on all: True" in t and "ceil(6/5) = 2" in t for t in outputs("ch4"))


def test_hints_are_folded_and_answers_are_on_the_instructors_site_only():
    instructor = SITE.parent / "instructor" / "html" / "solutions"
    for chapter in ("ch1", "ch2", "ch3", "ch4"):
        page = BeautifulSoup((SITE / "chapters" / f"{PAGES[chapter]}.html").read_text("utf8"), "html.parser")
        hints = [a for a in page.select("div.admonition") if "Hints" in a.get_text()]
        assert len(hints) == 1 and "dropdown" in hints[0]["class"]
        assert "Answers (instructor" not in page.get_text()
        solution = instructor / f"{PAGES[chapter]}.html"
        if not solution.is_file():
            pytest.fail(f"{solution} is missing: run `make book` first")
        assert "Answers (instructor" in solution.read_text("utf8")  # Sphinx curls the apostrophe


def test_chapter_6_im2col_gives_chapter_5s_numbers_and_pads_and_strides():
    texts = outputs("ch6")
    columns = next(t for t in texts if "NDArray 8x4" in t)
    assert "[[0. 1. 3. 4.]\n [1. 2. 4. 5.]" in columns   # the first rows: the windows' first entries
    for rows in ("[[ 56.  72.]\n  [104. 120.]]", "[[ 76. 100.]\n  [148. 172.]]", "[[ 96. 128.]\n  [192. 224.]]"):
        assert rows in "\n".join(texts)
    assert "[[  4.  26.]\n  [ 57. 120.]]" in "\n".join(texts)   # padding 1, strides 2


@pytest.mark.parametrize("chapter", ["ch5", "ch6"])
def test_hints_are_collapsed_and_answers_are_for_the_instructor_only(chapter):
    page = (SITE / "chapters" / f"{PAGES[chapter]}.html").read_text("utf8")
    hints = BeautifulSoup(page, "html.parser").select("div.admonition.dropdown")
    assert len(hints) >= 5 and all("Hint" in hint.get_text() for hint in hints)
    assert "Answer to 1." not in page
    instructor = SITE.parent / "instructor" / "html" / "solutions" / f"{PAGES[chapter]}.html"
    assert "Answer to 1." in instructor.read_text("utf8")


@pytest.mark.parametrize("chapter", PAGES)
def test_exercise_cells_are_stubs_with_no_traceback(chapter):
    stubs = [(source, out) for source, out in cells(chapter)
             if source is not None and "raise NotImplementedError()" in source.get_text()]
    assert stubs and all(out is None or not out.get_text().strip() for _, out in stubs)
    assert not any("Traceback" in text or "NotImplementedError" in text for text in outputs(chapter))


# A link to a placeholder host or repository (what _config.yml's launch settings used to hold).
PLACEHOLDER = re.compile(r"""href=["'][a-z]+://([\w.-]*\.)?(example\.(org|com|net)|your-[\w-]+\.\w+)"""
                         r"""|your-org|hub\.example""")


def test_no_page_links_to_a_placeholder_host():
    """Launch buttons (and any other link) never point at an example host or repository."""
    pages = list(SITE.rglob("*.html"))
    assert len(pages) >= 7, "run `make book` first"
    found = [f"{p.relative_to(SITE)}: {m.group(0)}" for p in pages
             for m in PLACEHOLDER.finditer(p.read_text("utf8"))]
    assert not found, "\n".join(found)


def test_a_placeholder_link_would_be_found():
    """The pattern above matches the links the site used to have."""
    assert PLACEHOLDER.search('<a href="https://hub.example.org/hub/user-redirect/git-pull?repo=x">')
    assert PLACEHOLDER.search('<a href="https://mybinder.org/v2/gh/your-org/cnn-course/main?urlpath=x">')
    assert not PLACEHOLDER.search('<a href="https://mybinder.org/v2/gh/tsinghua/cnn-student/main">')


def test_the_introduction_offers_the_student_edition_served_by_the_site():
    intro = (SITE / "intro.html").read_text("utf8")
    assert 'href="_static/cnn-course-student.zip"' in intro
    served = SITE / "_static" / "cnn-course-student.zip"
    assert served.is_file() and served.read_bytes() == (SITE.parent / "student.zip").read_bytes()
