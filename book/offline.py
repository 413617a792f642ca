"""Sphinx extension: the site serves every script, style sheet and font itself.

- MathJax 3 comes from the copy that ``python -m book.vendor`` fetched from the npm registry
  (``mathjax_path`` in ``_config.yml`` points at ``_static/mathjax/``);
- the build fails (a warning, and ``make book`` builds with ``-W``) if a page would still load a
  script or style sheet from another host, so a new extension cannot bring a CDN back unnoticed;
- the theme's "download .ipynb" button saves the student notebook in one click instead of opening
  its JSON in a new tab.

Listed in ``sphinx.config.extensions`` of ``_config.yml`` (and of the instructor book's).
"""
from pathlib import Path

from sphinx.util import logging

from book import vendor

logger = logging.getLogger(__name__)

# The download button of sphinx-book-theme links to _sources/<page>.ipynb with target="_blank".
DOWNLOAD_JS = """
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll('a.btn-download-source-button[href$=".ipynb"]').forEach(function (a) {
    a.setAttribute("download", a.getAttribute("href").split("/").pop());
    a.removeAttribute("target");
  });
});
""".strip()


def _add_mathjax(app):
    if not vendor.is_fetched():
        raise RuntimeError(f"MathJax {vendor.VERSION} is not in {vendor.home()}: run `make book` "
                           "(or `python -m book.vendor`) to fetch it from the npm registry")
    if Path(app.config.mathjax_path).as_posix() != f"mathjax/{vendor.ENTRY}":
        logger.warning("mathjax_path is %r, not the vendored 'mathjax/%s'", app.config.mathjax_path, vendor.ENTRY)
    app.config.html_static_path.append(str(vendor.home() / "static"))


def _is_remote(url):
    return "://" in url or url.startswith("//")


def _check_assets(app, pagename, templatename, context, doctree):
    """Warn about any script or style sheet that a page would load from another host."""
    for key in ("script_files", "css_files"):
        for asset in context.get(key, ()):
            url = str(asset.filename if hasattr(asset, "filename") else asset) or ""
            body = getattr(asset, "attributes", {}).get("body", "") or ""
            if _is_remote(url) or "://" in body:
                logger.warning("%s would load %s from the internet: %s", pagename, key[:-6],
                               url or body[:120], location=pagename)


def setup(app):
    app.connect("builder-inited", _add_mathjax)
    app.add_js_file(None, body=DOWNLOAD_JS)
    app.connect("html-page-context", _check_assets, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
