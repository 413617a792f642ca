"""The built sites' downloads (`make book`): a chapter's .ipynb download button gives the notebook in
the page's language (Chinese on _build/html/zh: book/zh/downloads.py), and the home page's
student edition download works on both sites."""
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup

from course_runtime.i18n import notebook_language
from tests import course

pytestmark = pytest.mark.book

ENGLISH = course.REPO / "_build" / "html"
CHINESE = ENGLISH / "zh"
CHAPTERS = course.chapters()
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _link(site, page, pattern):
    """The file a link of the built page (href matching ``pattern``) leads to, on disk."""
    path = site / page
    if not path.is_file():
        pytest.fail(f"{path} is not built: run `make book`")
    hrefs = [a["href"] for a in BeautifulSoup(path.read_text("utf8"), "html.parser").select("a[href]")
             if re.search(pattern, a["href"])]
    assert hrefs, f"{page} on {site.name} has no link matching {pattern}"
    target = urlsplit(urljoin(f"file://{path}", hrefs[0])).path
    return Path(target)


def _download(site, assignment):
    page = Path("chapters", assignment, CHAPTERS[assignment]).with_suffix(".html")
    path = _link(site, page, r"_sources/.*\.ipynb$")
    assert path.is_file(), f"the download of {page} on {site.name}, {path}, is missing"
    return json.loads(path.read_text("utf8"))


def _markdown(notebook):
    return [("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
            for c in notebook["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_the_chinese_sites_download_is_the_chinese_notebook(assignment):
    notebook = _download(CHINESE, assignment)
    assert notebook_language(notebook["metadata"]) == "zh_CN"
    assert _markdown(notebook) == _markdown(course.read(course.REPO / "chapters_zh" / assignment / CHAPTERS[assignment]))
    assert CJK.search(_markdown(notebook)[0].splitlines()[0])  # the chapter's heading


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_the_english_sites_download_is_the_english_notebook(assignment):
    notebook = _download(ENGLISH, assignment)
    assert notebook_language(notebook["metadata"]) == "en"
    assert _markdown(notebook) == _markdown(course.read(course.REPO / "chapters" / assignment / CHAPTERS[assignment]))


@pytest.mark.parametrize("site", [ENGLISH, CHINESE], ids=["en", "zh"])
def test_the_home_pages_student_edition_download_holds_both_languages(site):
    archive = _link(site, Path("intro.html"), r"\.zip$")
    assert archive.is_file(), f"the student edition download of {site.name}, {archive}, is missing"
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
    for assignment, name in CHAPTERS.items():
        assert any(n.endswith(f"/chapters/{assignment}/{name}") for n in names)
        assert any(n.endswith(f"/chapters_zh/{assignment}/{name}") for n in names)
    assert any(n.endswith("/README.zh.md") for n in names)
