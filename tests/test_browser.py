"""The site as a student meets it: every page in a real browser, with no internet.

Reads the sites that ``make book`` built: the student site (``_build/html``), its Chinese
edition (``_build/html/zh``) and the instructor site (``_build/instructor/html``); ``BOOK_BUILD=/path/to/_build`` tests a build made elsewhere
(``make book OUT=/path/to``). The pages are served from a local http.server on 127.0.0.1 and
opened in Debian's Chromium (``/usr/bin/chromium``, installed by ``book/install_browser.sh``,
which this test runs when it is missing) through Playwright's Python package. Every request that
is not to that server is blocked and fails the test: the site must serve all its scripts, styles
and fonts, MathJax included, itself. A screenshot of each page is saved in ``_build/screenshots/``:
``en-<page>.png`` and ``zh-<page>.png`` for the two languages of the student site.
"""
import ast
import contextlib
import functools
import html
import os
import re
import subprocess
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
import yaml

from tests import course

pytestmark = [pytest.mark.browser, pytest.mark.book]

REPO = course.REPO
BUILD = Path(os.environ.get("BOOK_BUILD", REPO / "_build")).resolve()
SITE = BUILD / "html"
INSTRUCTOR = BUILD / "instructor" / "html"
SCREENSHOTS = BUILD / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
MATHJAX_ENTRY = "_static/mathjax/tex-mml-chtml.js"


def toc_docs():
    """The student site's pages in the order of _toc.yml: (docname, ...)."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf8"))
    docs = [toc["root"]]

    def walk(entries):
        for entry in entries or ():
            if "file" in entry:
                docs.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", ()):
        walk(part.get("chapters"))
    return docs


DOCS = toc_docs()
CHAPTERS = [d for d in DOCS if d.startswith("chapters/")]


def chapter_id(doc):
    return doc.split("/")[1]


def student_notebook(doc):
    return REPO / f"{doc}.ipynb"


def solution_notebook(doc):
    return REPO / "solutions" / Path(doc).relative_to("chapters").with_suffix(".ipynb")


def norm(text):
    return re.sub(r"\s+", " ", text)


@functools.lru_cache(None)
def solution_lines(doc):
    """The distinctive lines of a chapter's solutions, with runs of spaces as one (as in page_text)."""
    return {norm(line) for line in course.solution_lines(course.read(solution_notebook(doc)))}


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def shows_output(cell):
    """Whether a code cell of a chapter must show an output on its page: a figure cell (input
    hidden), a cell that prints, or one that ends with an expression not silenced by ';'."""
    if "remove-output" in tags(cell):
        return False
    if "remove-input" in tags(cell):
        return True
    source = cell.source.strip()
    tree = ast.parse(source)
    prints = any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "print" for n in ast.walk(tree))
    return prints or (bool(tree.body) and isinstance(tree.body[-1], ast.Expr) and not source.endswith(";"))


class _Text(HTMLParser):
    """The text of an HTML page, and the resources it would load."""

    RESOURCE_ATTRS = {"script": ("src",), "img": ("src", "srcset"), "source": ("src", "srcset"),
                      "iframe": ("src",), "video": ("src", "poster"), "audio": ("src",),
                      "embed": ("src",), "object": ("data",), "input": ("src",), "track": ("src",)}
    # <link rel=...> that only name a page, and load nothing
    LINK_NAVIGATION = {"canonical", "alternate", "index", "search", "next", "prev", "author", "license", "help"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.resources, self.inline = [], [], []
        self._in = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in self.RESOURCE_ATTRS.get(tag, ()):
            if attrs.get(name):
                self.resources.extend((tag, url.strip().split(" ")[0]) for url in attrs[name].split(","))
        if tag == "link" and attrs.get("href") and not set((attrs.get("rel") or "").split()) & self.LINK_NAVIGATION:
            self.resources.append((tag, attrs["href"]))
        if attrs.get("style"):
            self.inline.append(attrs["style"])
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in:
            self.inline.append(data)
        else:
            self.text.append(data)


def parse_html(path):
    parser = _Text()
    parser.feed(path.read_text(encoding="utf8"))
    return parser


def page_text(path):
    return norm("".join(parse_html(path).text))


def is_remote(url):
    return bool(re.match(r"^([a-z][a-z0-9+.-]*:)?//", url.strip(), re.I))


# A URL a style sheet would load (url(...) or @import), or one quoted in an inline script.
CSS_LOADS = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.I)
QUOTED_URL = re.compile(r"""["'`]((?:https?:)?//[^'"`\s]+)""", re.I)
NAMESPACE = "http://www.w3.org/"  # XML namespaces (xmlns in inline SVG): names, never loaded


# ---------------------------------------------------------------------------------------------
# The built files


@pytest.fixture(scope="session")
def built():
    missing = [p for p in (SITE / "index.html", INSTRUCTOR / "index.html") if not p.is_file()]
    if missing:
        pytest.fail(f"no built site at {', '.join(map(str, missing))}: run `make book` first")
    return SITE


def test_every_page_of_the_toc_is_built(built):
    for doc in DOCS + ["search", "genindex"]:
        assert (SITE / f"{doc}.html").is_file(), doc


def test_no_page_loads_anything_from_another_host(built):
    """No script, style sheet, image, font or frame from a CDN or any other host, in any page or
    style sheet of either site (links to other sites, <a href>, are fine)."""
    found = []
    for site in (SITE, INSTRUCTOR):
        for page in site.rglob("*.html"):
            parsed = parse_html(page)
            found += [f"{page.relative_to(BUILD)}: <{tag}> {url}" for tag, url in parsed.resources if is_remote(url)]
            found += [f"{page.relative_to(BUILD)}: inline {url}" for text in parsed.inline
                      for url in QUOTED_URL.findall(text) + CSS_LOADS.findall(text)
                      if is_remote(url) and not url.startswith(NAMESPACE)]
        for sheet in (site / "_static").rglob("*.css"):
            found += [f"{sheet.relative_to(BUILD)}: {url}" for url in CSS_LOADS.findall(sheet.read_text("utf8"))
                      if is_remote(url)]
    assert not found, "resources from other hosts:\n" + "\n".join(sorted(set(found)))


def test_mathjax_3_is_served_by_the_site(built):
    from book import vendor

    entry = SITE / MATHJAX_ENTRY
    assert entry.is_file()
    assert entry.read_bytes() == vendor.entry().read_bytes()
    assert any((SITE / "_static/mathjax/output/chtml/fonts/woff-v2").glob("MathJax_Main-Regular.woff"))
    for doc in CHAPTERS:
        assert f'src="{"../" * doc.count("/")}{MATHJAX_ENTRY}' in (SITE / f"{doc}.html").read_text("utf8"), doc


def test_the_student_site_contains_no_solution_code(built):
    lines = {line: doc for doc in CHAPTERS for line in solution_lines(doc)}
    assert lines, "the solutions have no solution blocks?"
    assert not (SITE / "solutions").exists() and not (SITE / "book").exists()
    leaks = []
    for path in SITE.rglob("*"):
        if not path.is_file() or path.suffix not in (".html", ".ipynb", ".js", ".txt", ".md", ".json"):
            continue
        if "_static" in path.relative_to(SITE).parts:
            continue
        text = page_text(path) if path.suffix == ".html" else norm(path.read_text("utf8"))
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
            if marker in text:
                leaks.append(f"{path.relative_to(SITE)}: {marker}")
        leaks += [f"{path.relative_to(SITE)}: {line}" for line in lines if line in text]
    assert not leaks, "solution code in the student site:\n" + "\n".join(leaks)


@pytest.mark.parametrize("doc", CHAPTERS, ids=chapter_id)
def test_the_instructor_site_shows_each_solution_executed(built, doc):
    page = INSTRUCTOR / f"solutions/{Path(doc).relative_to('chapters')}.html"
    assert page.is_file(), page
    text = page_text(page)
    missing = [line for line in solution_lines(doc) if line not in text]
    assert not missing, f"solution lines missing from {page.relative_to(BUILD)}: {missing}"
    source = page.read_text("utf8")
    assert source.count('class="cell_output') >= 1, "no executed outputs"
    assert "Traceback" not in text and "NotImplementedError" not in text


@pytest.mark.parametrize("doc", CHAPTERS, ids=chapter_id)
def test_launch_buttons_open_the_student_notebook(built, doc):
    """Launch buttons only once _config.yml names the students' repository (repository.url);
    then each configured hub opens this chapter's notebook from it."""
    config = yaml.safe_load((REPO / "_config.yml").read_text("utf8"))
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', (SITE / f"{doc}.html").read_text("utf8"))]
    hubs = [config["launch_buttons"].get(key, "").rstrip("/") for key in ("binderhub_url", "jupyterhub_url")]
    if not config["repository"].get("url"):
        assert not [h for h in hrefs if any(hub and h.startswith(hub + "/") for hub in hubs) or "lab/tree" in h]
        return
    for hub in filter(None, hubs):
        assert any(h.startswith(hub + "/") and f"{doc}.ipynb" in h for h in hrefs), hub


# ---------------------------------------------------------------------------------------------
# In the browser


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """A folder over http on 127.0.0.1 (a free port); yields the origin."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="session")
def server(built):
    """The build folder over http: /html/... is the student site, /instructor/html/... the other."""
    with serve(BUILD) as origin:
        yield origin


class Visit:
    """A browser page whose every request is watched: only the local server is reachable."""

    def __init__(self, browser, origin):
        self.origin = origin
        self.external, self.errors, self.failed = [], [], []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,
                                           service_workers="block")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))

    def _route(self, route):
        url = urlparse(route.request.url)
        if url.scheme in ("http", "https", "ws", "wss") and f"{url.scheme}://{url.netloc}" != self.origin:
            self.external.append(route.request.url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def _request_failed(self, request):
        if not request.url.startswith(self.origin):
            return  # an external one, recorded by _route
        self.failed.append(f"{request.failure} {request.url}")

    def open(self, path):
        self.page.goto(f"{self.origin}/{path}", wait_until="load")
        return self.page

    def check_clean(self):
        """No request left the machine, nothing failed, no error in the console."""
        assert not self.external, f"the page tried to load from other hosts: {self.external}"
        assert not self.failed, f"requests failed: {self.failed}"
        assert not self.errors, f"errors in the browser: {self.errors}"

    def close(self):
        self.context.close()


@pytest.fixture
def visit(browser, server):
    v = Visit(browser, server)
    yield v
    v.close()


def wait_for_mathjax(page):
    """Wait until MathJax has typeset the page; return the number of typeset formulas."""
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
    page.evaluate("() => MathJax.startup.promise")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    untypeset = page.eval_on_selector_all(
        "span.math, div.math", "els => els.filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 80))")
    assert not untypeset, f"formulas not typeset: {untypeset}"
    assert page.locator("mjx-merror").count() == 0, "MathJax reports a TeX error"
    return page.locator("mjx-container").count()


def check_figures(page):
    """Every image of the article shows (naturalWidth > 0) and has alt text; returns them."""
    images = page.eval_on_selector_all(
        "article img", "els => els.map(e => ({src: e.getAttribute('src'), alt: e.getAttribute('alt') || '', "
                       "complete: e.complete, width: e.naturalWidth}))")
    for image in images:
        assert image["complete"] and image["width"] > 0, f"image does not show: {image['src']}"
        assert image["alt"].strip(), f"image without alt text: {image['src']}"
    return images


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_the_browser_check_catches_a_page_that_loads_from_the_internet(browser, tmp_path):
    """The offline check itself: a page with a CDN script, a remote image and a web font is
    caught, and none of them is fetched."""
    (tmp_path / "index.html").write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
        '<style>@font-face {font-family: F; src: url("https://fonts.gstatic.com/f.woff2")}'
        'body {font-family: F}</style></head>'
        '<body>text<img src="https://example.org/a.png" alt="a"><script>undefinedFunction()</script></body></html>')
    with serve(tmp_path) as origin:
        v = Visit(browser, origin)
        try:
            v.open("index.html")
            v.page.evaluate("() => document.fonts.ready.then(() => true)")
            with pytest.raises(AssertionError):
                v.check_clean()
            assert any("cdn.jsdelivr.net" in url for url in v.external)
            assert any("example.org" in url for url in v.external)
            assert any("undefinedFunction" in e for e in v.errors)
        finally:
            v.close()


def test_the_build_cache_key_follows_what_the_notebooks_import(tmp_path):
    from book import cache_key

    root, build = tmp_path / "repo", tmp_path / "repo" / "_build"
    catalog = "course_runtime/locale/zh_CN/LC_MESSAGES/figures.po"
    for name in ("grader/checks.py", "course_runtime/figures.py", "course_runtime/examples.json", "constraints.txt",
                 "requirements.txt", "tests/x.py", catalog, "Makefile"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("1")
    assert not cache_key.refresh(build, root)  # first build: nothing to empty
    (build / ".jupyter_cache").mkdir()
    assert not cache_key.refresh(build, root)  # nothing changed: the cache stays
    (root / "tests/x.py").write_text("2")
    assert not cache_key.refresh(build, root)  # not something the notebooks import
    assert (build / ".jupyter_cache").is_dir()
    for name in ("grader/checks.py", "course_runtime/figures.py", "course_runtime/examples.json", "constraints.txt",
                 catalog, "Makefile"):
        (build / ".jupyter_cache").mkdir(exist_ok=True)
        (root / name).write_text("changed")
        assert cache_key.refresh(build, root), name
        assert not (build / ".jupyter_cache").exists()


@pytest.mark.parametrize("doc", CHAPTERS, ids=chapter_id)
def test_chapter_in_the_browser(visit, doc):
    page = visit.open(f"html/{doc}.html")
    formulas = wait_for_mathjax(page)
    assert formulas > 0, "no formula typeset"
    page.wait_for_function(
        "() => [...document.fonts].some(f => f.family.startsWith('MJXTEX') && f.status === 'loaded')", timeout=10000)

    images = check_figures(page)
    assert [i for i in images if "_images/" in i["src"]], "no figure in the chapter"

    # The code cells, in order: those of the notebook that are not removed from the page.
    notebook = course.read(student_notebook(doc))
    cells = [c for c in notebook.cells if c.cell_type == "code" and "remove-cell" not in tags(c)]
    shown = page.locator("article div.cell")
    assert shown.count() == len(cells)
    stubs = 0
    for i, cell in enumerate(cells):
        box = shown.nth(i)
        if shows_output(cell):
            output = box.locator(".cell_output")
            assert output.count() == 1 and (output.inner_text().strip() or output.locator("img").count()), \
                f"cell {i} has no output on the page: {cell.source[:80]!r}"
        if course.nbgrader_meta(cell).get("solution"):
            stubs += 1
            assert "raise NotImplementedError" in box.locator(".cell_input").inner_text(), \
                f"exercise cell {i} is not a stub on the page"
    assert stubs >= 1, "no exercise cell on the page"
    assert page.locator("article .output.traceback, article .output.error").count() == 0, "an error output"

    # One click on the download menu's .ipynb entry saves the student notebook.
    link = page.locator('a.btn-download-source-button[href$=".ipynb"]')
    assert link.count() == 1, "no .ipynb download"
    assert link.get_attribute("download") == student_notebook(doc).name
    page.locator(".dropdown-download-buttons button.dropdown-toggle").click()
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == student_notebook(doc).name
    saved = Path(download.path()).read_bytes()
    assert saved == student_notebook(doc).read_bytes(), "the download is not the student notebook of chapters/"
    saved_nb = nbformat.reads(saved.decode("utf8"), as_version=4)
    code = norm("\n".join(c.source for c in saved_nb.cells if c.cell_type == "code"))
    assert "BEGIN SOLUTION" not in code and not [line for line in solution_lines(doc) if line in code]
    assert "raise NotImplementedError" in code
    page.keyboard.press("Escape")

    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, f"en-{chapter_id(doc)}")
    visit.check_clean()


@pytest.mark.parametrize("doc", [d for d in DOCS if d not in CHAPTERS])
def test_other_page_in_the_browser(visit, doc):
    page = visit.open(f"html/{doc}.html")
    if page.locator("span.math, div.math").count():
        wait_for_mathjax(page)
    check_figures(page)
    screenshot(page, f"en-{doc.replace('/', '_')}")
    visit.check_clean()


def test_glossary_pairs_english_and_chinese_terms(visit):
    page = visit.open("html/glossary.html")
    terms = page.eval_on_selector_all(
        "dl.glossary dt", "els => els.map(e => e.textContent.replace(/#$/, '').trim())")
    for english, chinese in [("cross-correlation", "互相关"), ("convolution", "卷积"), ("kernel", "核数组"),
                             ("padding", "填充"), ("stride", "步幅"), ("stride", "步长"), ("channel", "通道"),
                             ("feature map", "特征图"), ("receptive field", "感受野"), ("bias", "偏差"),
                             ("learning rate", "学习率"), ("gradient descent", "梯度下降"),
                             ("fully connected layer", "全连接层"), ("edge detection", "边缘检测")]:
        assert english in terms and chinese in terms, (english, chinese)
    intro = visit.open("html/intro.html")
    assert intro.locator('a[href="glossary.html"]').count() >= 1, "the introduction does not link the glossary"
    visit.check_clean()


def test_search_finds_padding(visit):
    page = visit.open("html/search.html?q=padding")
    page.wait_for_selector("#search-results ul.search li", timeout=20000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))")
    assert any("ch4_padding_stride/padding_stride.html" in h for h in hits), hits
    screenshot(page, "en-search-padding")
    visit.check_clean()


def test_instructor_site_in_the_browser(visit):
    doc = CHAPTERS[0]
    page = visit.open(f"instructor/html/solutions/{Path(doc).relative_to('chapters')}.html")
    assert wait_for_mathjax(page) > 0
    check_figures(page)
    text = norm(page.locator("article").inner_text())
    assert all(line in text for line in solution_lines(doc))
    screenshot(page, f"instructor-{chapter_id(doc)}")
    visit.check_clean()


# ---------------------------------------------------------------------------------------------
# The Chinese site (_build/html/zh), in the browser as the English one


CHINESE = "html/zh"


def page_name(doc):
    return chapter_id(doc) if doc in CHAPTERS else doc.replace("/", "_")


def figure_pngs(visit, page):
    """The PNG files of the article's figures (the notebooks' outputs), as served, in page order."""
    sources = page.eval_on_selector_all("article img", "els => els.map(e => e.src)")
    pngs = []
    for source in sources:
        if "/_images/" in source and source.endswith(".png"):
            assert source.startswith(visit.origin), source
            pngs.append((BUILD / urlparse(source).path.lstrip("/")).read_bytes())
    return pngs


def switch_language(visit, page):
    """Click the page's language switch; the page it leads to, loaded."""
    link = page.locator("p.language-switch a")
    assert link.count() == 1, "no language switch, or more than one"
    with page.expect_navigation(wait_until="load"):
        link.click()
    return page


@pytest.fixture(scope="session")
def chinese_built(built):
    if not (SITE / "zh" / "index.html").is_file():
        pytest.fail(f"no Chinese site at {SITE / 'zh'}: run `make book` first")
    return SITE / "zh"


@pytest.mark.parametrize("doc", DOCS, ids=page_name)
def test_chinese_page_in_the_browser(chinese_built, visit, doc):
    """Each page of the Chinese site: loads offline with no error, speaks Chinese, typesets its
    formulas, shows its figures, drawn in Chinese (other pictures than the English page's, as many),
    and its language switch leads to the same page in English and back."""
    page = visit.open(f"{CHINESE}/{doc}.html")
    assert page.locator("html").get_attribute("lang").lower().startswith("zh")
    article = page.locator("article").inner_text()
    assert re.search(r"[\u4e00-\u9fff]", article), "no Chinese on the page"
    if page.locator("span.math, div.math").count():
        assert wait_for_mathjax(page) > 0
    check_figures(page)
    chinese_figures = figure_pngs(visit, page)
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, f"zh-{page_name(doc)}")

    switch_language(visit, page)
    assert page.url == f"{visit.origin}/html/{doc}.html", page.url
    assert page.locator("html").get_attribute("lang").lower().startswith("en")
    english_figures = figure_pngs(visit, page)
    assert len(chinese_figures) == len(english_figures)
    if doc in CHAPTERS:
        assert chinese_figures, "no figure in the chapter"
        assert set(chinese_figures) - set(english_figures), "the Chinese page shows the English figures"
    switch_language(visit, page)
    assert page.url == f"{visit.origin}/{CHINESE}/{doc}.html", page.url
    visit.check_clean()


@pytest.mark.parametrize("word, doc", [("重叠", "chapters/ch1_cross_correlation/cross_correlation"),
                                       ("感受野", "chapters/ch2_conv_layer/conv_layer")])
def test_chinese_search_finds_a_word_inside_a_sentence(chinese_built, visit, word, doc):
    """Words that appear only inside Chinese sentences (no space around them): the search page
    finds the chapter."""
    page = visit.open(f"{CHINESE}/search.html?q={word}")
    page.wait_for_selector("#search-results ul.search li", timeout=20000)
    hits = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))")
    assert any(f"{doc}.html" in h for h in hits), hits
    screenshot(page, f"zh-search-{chapter_id(doc)}")
    visit.check_clean()
