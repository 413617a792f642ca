"""The Chinese site's message catalogs (locales/zh_CN/LC_MESSAGES/, one .po per page) are complete
and keep what must not be translated: every message of a translated page has a translation that is
not fuzzy, and keeps the message's code, formulas, link targets and MyST roles' targets.

`make gettext` extracts the messages from the sources and merges them into the catalogs; a new or
changed sentence comes out untranslated or fuzzy, and these tests fail until it is translated.
"""
import re
from pathlib import Path

import pytest
import yaml
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parents[1]
CATALOGS = REPO / "locales" / "zh_CN" / "LC_MESSAGES"

# Pages whose catalogs may still hold untranslated messages (e.g. a chapter being rewritten, to be
# translated once it lands); every page is translated today, so none is pending.
PENDING_TRANSLATION = set()


def pages():
    """Every page of the site, as Sphinx names it (the table of contents' files)."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text("utf8"))
    return [toc["root"]] + [entry["file"] for entry in toc["chapters"]]


TRANSLATED = [page for page in pages() if page not in PENDING_TRANSLATION]


def messages(page):
    path = CATALOGS / f"{page}.po"
    if not path.is_file():
        pytest.fail(f"{path.relative_to(REPO)} is missing: run `make gettext` and translate it")
    with path.open("rb") as f:
        return [m for m in read_po(f) if m.id]


ROLE = re.compile(r"\{([\w:-]+)\}`([^`]*)`")
CODE = re.compile(r"(`+)(.+?)\1")
MATH = re.compile(r"\$\$?(.+?)\$\$?")
LINK = re.compile(r"\]\(([^)\s]+)\)|href=\"([^\"]+)\"")


def kept(text):
    """What a translation must keep from its message: role names and targets, code, math, links
    (each at least once: a translation may say a formula twice)."""
    roles = set((name, (re.search(r"<([^<>]+)>\s*$", body) or re.match(r"(.*)", body)).group(1).strip())
                    for name, body in ROLE.findall(text))
    rest = ROLE.sub("", text)
    return {"roles": roles, "code": {code for _, code in CODE.findall(rest)},
            "math": set(MATH.findall(CODE.sub("", rest))), "links": set(LINK.findall(text))}


def test_the_pending_pages_are_pages_of_the_site():
    assert PENDING_TRANSLATION <= set(pages())


def test_every_page_has_a_catalog():
    missing = [page for page in pages() if not (CATALOGS / f"{page}.po").is_file()]
    assert not missing, f"no catalog for {missing}: run `make gettext`"


@pytest.mark.parametrize("page", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(page):
    untranslated = [m.id for m in messages(page) if not m.string]
    fuzzy = [m.id for m in messages(page) if m.string and m.fuzzy]
    assert not untranslated, f"{page}: {len(untranslated)} messages without a translation, first: {untranslated[0]!r}"
    assert not fuzzy, f"{page}: {len(fuzzy)} fuzzy translations (the English changed), first: {fuzzy[0]!r}"


@pytest.mark.parametrize("page", TRANSLATED)
def test_translations_keep_code_math_links_and_role_targets(page):
    for message in messages(page):
        english, chinese = kept(message.id), kept(message.string)
        assert all(english[kind] <= chinese[kind] for kind in english), (
            f"{page}: the translation of {message.id!r} changes its code, formulas, links or a role's "
            f"target:\n{message.string!r}")


def test_the_check_sees_a_changed_role_target_and_changed_code():
    english = kept("See {term}`padding` and `corr2d(X, K)` with $p_h$ ([chapter 4](ch4.ipynb)).")
    def keeps(chinese):
        return all(english[kind] <= kept(chinese)[kind] for kind in english)
    assert keeps("见 {term}`填充 <padding>` 和 `corr2d(X, K)`，$p_h$（[第 4 章](ch4.ipynb)）。")
    assert not keeps("见 {term}`填充` 和 `corr2d(X, K)`，$p_h$（[第 4 章](ch4.ipynb)）。")
    assert not keeps("见 {term}`填充 <padding>` 和 `corr2d(X)`，$p_h$（[第 4 章](ch4.ipynb)）。")
    assert not keeps("见 {term}`填充 <padding>` 和 `corr2d(X, K)`，$p$（[第 4 章](ch4.ipynb)）。")
    assert not keeps("见 {term}`填充 <padding>` 和 `corr2d(X, K)`，$p_h$（[第 4 章](ch3.ipynb)）。")


@pytest.mark.book
def test_the_catalogs_hold_every_message_of_the_sources_today(tmp_path):
    """A sentence added to a page since the last `make gettext` is not in its catalog at all: extract
    the messages afresh (Sphinx's gettext builder, about 10 s) and look each one up."""
    from book.zh.gettext import extract

    templates = extract(tmp_path)
    for page in TRANSLATED:
        with (templates / f"{page}.pot").open("rb") as f:
            current = {m.id for m in read_po(f) if m.id}
        translated = {m.id for m in messages(page) if m.string and not m.fuzzy}
        missing = sorted(current - translated)
        assert current and not missing, (f"{page}: {len(missing)} messages of the source are not translated "
                                         f"(run `make gettext`, then translate them), first: {missing[:1]}")
