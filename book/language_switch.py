"""Sphinx extension of both student sites: a link on every page to the same page in the other language.

The English site is ``_build/html/``, the Chinese one ``_build/html/zh/`` (``make book``), so the
link is a plain relative URL: ``zh/<page>.html`` from the English site, ``../<page>.html`` from the
Chinese one, each prefixed with ``../`` once per folder of the page. No script, no server: it works
from disk and from any web server, offline.
"""
from html import escape

# The Chinese site's folder inside the English one (make book copies it there).
CHINESE_FOLDER = "zh"
LABELS = {"en": "中文", "zh": "English"}


def is_chinese(language):
    return str(language or "").lower().replace("-", "_").startswith("zh")


def other_language_url(pagename, chinese):
    """The relative URL of ``pagename`` (Sphinx's docname, e.g. ``chapters/ch1/x``) on the other site."""
    up = "../" * pagename.count("/")
    other_root = "../" if chinese else f"{CHINESE_FOLDER}/"
    return f"{up}{other_root}{pagename}.html"


def switch_html(pagename, language):
    chinese = is_chinese(language)
    url = other_language_url(pagename, chinese)
    label = LABELS["zh" if chinese else "en"]
    target = "en" if chinese else "zh-CN"
    return (f'<p class="language-switch"><a class="language-switch-link" href="{escape(url)}" '
            f'hreflang="{target}" lang="{target}">{escape(label)}</a></p>\n')


def _add_switch(app, pagename, templatename, context, doctree):
    if doctree is None or "body" not in context:   # search page, genindex: no page of their own
        return
    # body is Sphinx's rendered HTML, a plain str: prepend, do not wrap it in Markup (that escapes it).
    context["body"] = switch_html(pagename, app.config.language) + context["body"]


def setup(app):
    app.connect("html-page-context", _add_switch)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
