"""Sphinx extension of the Chinese site (book/zh/_config.yml only): a chapter's download button
gives the Chinese student notebook.

The theme's ".ipynb" download serves ``_sources/<page>.ipynb``, the copy Sphinx makes of the page's
source, chapters/<chapter>/<notebook>.ipynb: the English notebook. Once the pages are written, this
replaces each such copy by chapters_zh/<chapter>/<notebook>.ipynb (book/zh/notebooks.py, made by
`make release`), the same notebook with its text in Chinese. A chapter without its Chinese notebook
fails the build.
"""
import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

from book.zh.notebooks import ENGLISH_FOLDER, FOLDER


def chinese_notebook(srcdir, docname):
    """The Chinese notebook of a page made from chapters/<chapter>/<notebook>.ipynb, else None."""
    parts = Path(docname).parts
    if len(parts) < 2 or parts[0] != ENGLISH_FOLDER:
        return None
    return Path(srcdir, FOLDER, *parts[1:]).with_suffix(".ipynb")


def _serve_chinese_notebooks(app, exception):
    if exception is not None or app.builder.format != "html" or not app.config.html_copy_source:
        return
    for docname in sorted(app.env.found_docs):
        suffix = str(app.env.doc2path(docname, False))[len(docname):]
        chinese = chinese_notebook(app.srcdir, docname)
        if suffix != ".ipynb" or chinese is None:
            continue
        if not chinese.is_file():
            raise ExtensionError(f"{docname} has no Chinese notebook {chinese}: run `make release`")
        # the name Sphinx gave the copy (StandaloneHTMLBuilder.get_doc_context)
        link_suffix = app.config.html_sourcelink_suffix
        target = Path(app.outdir, "_sources", docname + suffix + (link_suffix if suffix != link_suffix else ""))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(chinese, target)


def setup(app):
    app.connect("build-finished", _serve_chinese_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
