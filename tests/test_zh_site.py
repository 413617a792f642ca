"""The built Chinese site (_build/html/zh, `make book`) beside the English one: every page, the same
results of the notes, no English paragraph left on a translated page, a language switch on every
page that leads to the same page on the other site, and a search index of Chinese words."""
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from tests.test_translations import PENDING_TRANSLATION, TRANSLATED

pytestmark = pytest.mark.book

ENGLISH = Path(__file__).resolve().parents[1] / "_build" / "html"
CHINESE = ENGLISH / "zh"
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def site_pages(site):
    """The site's HTML pages (not its static files), relative to the site."""
    if not (site / "index.html").is_file():
        pytest.fail(f"{site} is not built: run `make book` first")
    skip = ("zh", "_static", "_sources", "_images")
    return sorted(p.relative_to(site) for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in skip)


def soup(path):
    return BeautifulSoup(path.read_text("utf8"), "html.parser")


def content_pages():
    """The pages made from the table of contents' files (not search, genindex, the index redirect)."""
    return [Path(f"{page}.html") for page in TRANSLATED + sorted(PENDING_TRANSLATION)]


def test_the_chinese_site_has_every_page_of_the_english_one():
    english = site_pages(ENGLISH)
    assert set(content_pages()) <= set(english)
    missing = [str(page) for page in english if not (CHINESE / page).is_file()]
    assert not missing, f"pages missing from the Chinese site: {missing}"


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def outputs(path):
    """Each code cell's output as shown: its text blocks and its images (by file). A figure's
    caption is text of the page, translated, so it is left out."""
    shown = []
    for out in soup(path).select("div.cell_output"):
        for caption in out.select("figcaption"):
            caption.decompose()
        shown.append(([block.get_text() for block in out.select("pre")],
                      [Path(img["src"]).name for img in out.select("img")]))
    return shown


@pytest.mark.parametrize("page", [p for p in content_pages() if p.parts[0] == "chapters"], ids=str)
def test_the_results_of_the_notes_are_the_same_on_both_sites(page):
    """The notebooks run again in Chinese (make zh): the same printed results, the same figures
    but drawn with Chinese labels, so other pictures (their files are named by their content)."""
    english, chinese = outputs(ENGLISH / page), outputs(CHINESE / page)
    assert english and any(texts for texts, _ in english), f"{page} shows no output on the English site"
    # A cell's printed numbers, its results: a kernel's stream of output comes in chunks that
    # differ from run to run, and the course's own words around them (a try-it cell's message) are
    # in the page's language.
    def printed(shown):
        return [NUMBER.findall("".join(texts)) for texts, _ in shown]
    assert printed(chinese) == printed(english)
    assert any(printed(english)), f"{page} prints no number"
    assert [len(images) for _, images in chinese] == [len(images) for _, images in english]
    english_images = {image for _, images in english for image in images}
    chinese_images = {image for _, images in chinese for image in images}
    assert english_images, f"{page} shows no figure"
    assert chinese_images - english_images, f"{page}: the Chinese site shows the English figures"
    for image in chinese_images:
        assert (CHINESE / "_images" / image).is_file(), image


@pytest.mark.parametrize("site", [ENGLISH, CHINESE], ids=["en", "zh"])
def test_no_output_shows_a_font_warning(site):
    """A figure drawn with a font missing, or a glyph no font has, leaves matplotlib's warning in
    the cell's output ("findfont: ...", "Glyph ... missing from font(s)")."""
    for page in content_pages():
        if page.parts[0] == "chapters":
            text = " ".join(" ".join(texts) for texts, _ in outputs(site / page))
            assert "findfont" not in text and "missing from font" not in text, f"{page}: {text[:300]}"


def english_paragraphs(path):
    """Paragraphs, list items, headings, table cells and figure captions with English words and no
    Chinese character, once code, outputs' text, formulas and the language switch are taken out. A table column headed
    "English" (the introduction's chapter names) is English by design."""
    page = soup(path).select_one("article")
    for table in page.select("table"):
        headers = [th.get_text(strip=True) for th in table.select("thead th")]
        for column in [i for i, text in enumerate(headers) if text == "English"]:
            for row in table.select("tr"):
                cells = row.find_all(["td", "th"])
                if column < len(cells):
                    cells[column].decompose()
    for node in page.select("div.cell_input, pre, code, img, .math, .caption-number, .language-switch, "
                            "a.headerlink, dl.glossary > dt"):
        node.decompose()
    found = []
    for node in page.select("p, li, h1, h2, h3, h4, td, th, dd, summary, caption, figcaption"):
        if node.find(["p", "li"]):
            continue                    # judged by its own paragraphs
        text = node.get_text(" ", strip=True)
        if re.search(r"[A-Za-z]{3,}", text) and not CJK.search(text):
            found.append(text)
    return found


@pytest.mark.parametrize("page", [Path(f"{p}.html") for p in TRANSLATED], ids=str)
def test_no_english_paragraph_is_left_on_a_translated_page(page):
    left = english_paragraphs(CHINESE / page)
    assert not left, f"{page}: {len(left)} untranslated paragraphs on the Chinese site, first: {left[0]!r}"


def test_the_untranslated_paragraph_check_sees_english_pages():
    assert english_paragraphs(ENGLISH / "chapters" / "ch1_cross_correlation" / "cross_correlation.html")


def switch_target(site, page):
    """The file the page's language switch leads to, resolved as a browser does from disk."""
    links = soup(site / page).select("p.language-switch a")
    assert len(links) == 1, f"{site / page} has {len(links)} language switches"
    href = links[0]["href"]
    assert not urlsplit(href).scheme and not href.startswith("/"), f"{page}: the switch is not relative: {href}"
    return ((site / page).parent / href).resolve()


@pytest.mark.parametrize("page", content_pages(), ids=str)
def test_the_language_switch_leads_to_the_same_page(page):
    assert switch_target(ENGLISH, page) == (CHINESE / page).resolve()
    assert switch_target(CHINESE, page) == (ENGLISH / page).resolve()
    assert (CHINESE / page).is_file() and (ENGLISH / page).is_file()
    assert soup(CHINESE / page).html["lang"].lower().startswith("zh")


def search_index(site):
    text = (site / "searchindex.js").read_text("utf8")
    return json.loads(text[text.index("(") + 1:text.rindex(")")])


def test_the_chinese_search_finds_words_inside_sentences():
    index = search_index(CHINESE)
    docs = index["docnames"]

    def pages_with(word):
        """The pages the search offers for a word: those with it in a title or in the text."""
        pages = set()
        for mapping in ("terms", "titleterms"):
            found = index[mapping].get(word, [])
            pages |= {docs[i] for i in ([found] if isinstance(found, int) else found)}
        return pages

    # Words that appear inside Chinese sentences, never alone: jieba segments them out.
    assert "chapters/ch1_cross_correlation/cross_correlation" in pages_with("滑动")
    assert "chapters/ch1_cross_correlation/cross_correlation" in pages_with("重叠")
    assert "chapters/ch2_conv_layer/conv_layer" in pages_with("感受野")
    assert "chapters/ch3_learning_kernel/learning_kernel" in pages_with("学习率")
    assert "chapters/ch4_padding_stride/padding_stride" in pages_with("步幅")
    assert "chapters/ch1_cross_correlation/cross_correlation" in pages_with("互相关")
    # The English site has no Chinese sentence to segment: only the terms it quotes.
    assert not search_index(ENGLISH)["terms"].get("重叠")


def test_every_relative_link_of_the_chinese_site_leads_to_a_file():
    broken = []
    for page in site_pages(CHINESE):
        for link in soup(CHINESE / page).select("a[href]"):
            target = urlsplit(link["href"])
            if target.scheme or not target.path:
                continue
            if not ((CHINESE / page).parent / unquote(target.path)).exists():
                broken.append(f"{page}: {link['href']}")
    assert not broken, f"{len(broken)} broken links on the Chinese site: {broken[:5]}"
