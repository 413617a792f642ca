"""Sphinx extension of the Chinese site (book/zh/_config.yml): lets Sphinx translate notebook tables.

Sphinx's gettext builder and its translation transform skip any text node without ``source``
("a built-in message"). myst-nb gives the paragraphs of a markdown table in a notebook cell no
source (those of a .md page have one), so chapter 4's table of d2l's and Gluon's notations would
stay English on the Chinese site, silently. This transform, run before Sphinx's (priority 20),
gives such nodes their document's source.
"""
from docutils import nodes
from sphinx.transforms import SphinxTransform


class SourceForTableText(SphinxTransform):
    default_priority = 15      # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs):
        source = self.document.get("source")
        for table in self.document.findall(nodes.table):
            for node in table.findall(nodes.TextElement):
                if not node.source:
                    node.source = source
                    node.line = node.line or table.line or 0


def setup(app):
    app.add_transform(SourceForTableText)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
