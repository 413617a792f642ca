"""The Chinese student notebooks: chapters_zh/<chapter>/<notebook>.ipynb, made by ``make release``
from the English student notebook chapters/<chapter>/<notebook>.ipynb and the page's Sphinx catalog
locales/zh_CN/LC_MESSAGES/chapters/<chapter>/<notebook>.po, so both languages have one source.

Each markdown cell is parsed with myst-parser's own markdown-it parser (the one Sphinx used to
extract the messages), whose tokens carry the source lines of each block. Every prose block
(heading, paragraph, list item, table cell, admonition title and body) is replaced, in the cell's
source, by the catalog's translation of its message: the block's text with its lines joined by
spaces, as Sphinx extracted it. Math blocks, code fences and HTML stay as they are; code cells,
outputs and all nbgrader metadata are copied unchanged, so a Chinese submission is graded by the
same gradebook. A block without a translation stops the release, naming the chapter and the block.

``python -m book.zh.notebooks [--root DIR] [chapter ...]`` (``make release`` runs it).
"""
import argparse
import copy
import re
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]
LANGUAGE = "zh_CN"
FOLDER = "chapters_zh"          # beside chapters/: not an nbgrader assignment, not a page of the book
ENGLISH_FOLDER = "chapters"
# Directives whose body is prose (docutils' admonitions); any other directive in a notebook's
# markdown stops the release until this module knows whether its body is prose.
ADMONITIONS = {"admonition", "attention", "caution", "danger", "error", "hint", "important", "note",
               "seealso", "tip", "warning"}
# Directives whose body is never translated (formulas, code).
VERBATIM = {"math", "code", "code-block", "code-cell"}


class MissingTranslation(SystemExit):
    """A prose block of a notebook has no (non-fuzzy) translation in its page's catalog."""


def catalog_path(root, assignment, name):
    return Path(root) / "locales" / LANGUAGE / "LC_MESSAGES" / ENGLISH_FOLDER / assignment / f"{Path(name).stem}.po"


def read_catalog(path):
    """{msgid: msgstr} of a .po file: the translated messages that are not fuzzy."""
    from babel.messages.pofile import read_po
    with open(path, "rb") as file:
        catalog = read_po(file)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


def catalog_ids(path):
    """Every message of a .po file (translated or not)."""
    from babel.messages.pofile import read_po
    with open(path, "rb") as file:
        return {m.id for m in read_po(file) if m.id}


def _parser():
    # The parser myst-nb gives Sphinx, with the extensions of _config.yml's `parse:`.
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser
    config = MdParserConfig(enable_extensions={"dollarmath", "amsmath", "colon_fence", "deflist"})
    return create_md_parser(config, RendererHTML)


def message_of(text):
    """The message Sphinx extracts from a block whose source is ``text`` (docutils' rawsource,
    lines joined by spaces: sphinx.util.nodes.extract_messages)."""
    return text.replace("\n", " ").strip()


class Translator:
    """Translates the markdown of one notebook with one page's catalog."""

    def __init__(self, translations, where):
        self.translations = translations
        self.where = where              # e.g. "ch1_cross_correlation (cross_correlation.ipynb)"
        self.used = set()
        self.md = _parser()

    def translate(self, english, cell_index):
        """The Chinese of the message ``english``; MissingTranslation when the catalog has none."""
        message = message_of(english)
        if message not in self.translations:
            raise MissingTranslation(
                f"{self.where}: no translation of the paragraph in cell {cell_index}:\n  {message!r}\n"
                f"Run `make gettext`, translate it in its catalog (drop `#, fuzzy` once checked), "
                f"then `make release`.")
        self.used.add(message)
        return self.translations[message]

    def formula(self, latex, cell_index):
        """A math block stays as it is in the notebook; Sphinx extracts it too (as it is, lines
        kept), so its message is used, and must be translated as itself."""
        message = latex.strip()
        if message in self.translations:
            if self.translations[message] != message:
                raise SystemExit(f"{self.where}, markdown cell {cell_index}: the catalog changes the formula "
                                 f"{message!r}; the notebooks keep formulas as they are: translate it as itself")
            self.used.add(message)

    def caption(self, cell, cell_index):
        """A figure's caption (myst-nb's ``mystnb.figure.caption`` of a code cell), translated: it is
        the cell's metadata, not its code, and the site shows it."""
        figure = cell.metadata.get("mystnb", {}).get("figure", {})
        if figure.get("caption"):
            figure["caption"] = self.translate(figure["caption"], cell_index)

    def markdown(self, source, cell_index):
        """The cell's markdown with every prose block translated."""
        lines = source.split("\n")
        edits = self._edits(lines, 0, cell_index)
        for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
            lines[start:end] = new
        return "\n".join(lines)

    def _edits(self, lines, offset, cell_index):
        """(first line, end line, new lines) replacing each block of ``lines[offset:]`` parsed as
        markdown; line numbers are the cell's."""
        text = "\n".join(lines[offset:])
        edits = []
        tokens = self.md.parse(text)
        rows = {}
        for position, token in enumerate(tokens):
            if token.type == "inline":
                parent = tokens[position - 1]
                if parent.type in ("th_open", "td_open"):
                    row = max(i for i in range(position) if tokens[i].type == "tr_open")
                    rows.setdefault(row, []).append(token)
                elif parent.type in ("paragraph_open", "heading_open", "dt_open"):
                    edits.append(self._block_edit(lines, offset, parent, token, cell_index))
                else:
                    raise SystemExit(f"{self.where}, markdown cell {cell_index}: text inside a "
                                     f"{parent.type} block; book/zh/notebooks.py does not translate it yet")
            elif token.type in ("fence", "colon_fence") and token.info.startswith("{"):
                edits.extend(self._directive_edits(lines, offset, token, cell_index))
            elif token.type in ("math_block", "math_block_label", "amsmath"):
                self.formula(token.content, cell_index)
        for row, cells in rows.items():
            edits.append(self._row_edit(lines, offset, tokens[row], cells, cell_index))
        return edits

    def _block_edit(self, lines, offset, block, inline, cell_index):
        """A paragraph, heading or term: its lines become one line, its prefix (a list marker, a
        heading's #, a quote's >) kept, its suffix kept when it is on one line (a heading's #s)."""
        start, end = offset + block.map[0], offset + block.map[1]
        content = inline.content.split("\n")
        first = lines[start]
        at = first.find(content[0].strip())
        if at < 0:
            raise SystemExit(f"{self.where}, markdown cell {cell_index}: cannot find {content[0]!r} "
                             f"in line {start + 1} of the cell")
        chinese = self.translate(inline.content, cell_index)
        if len(content) == 1:
            suffix = first[at + len(content[0].strip()):]
            return start, start + 1, [first[:at] + chinese + suffix]
        return start, end, [first[:at] + chinese]

    def _row_edit(self, lines, offset, row, cells, cell_index):
        """A table row: each cell's text replaced in place (a | in a translation escaped)."""
        number = offset + row.map[0]
        line, cursor, pieces = lines[number], 0, []
        for cell in cells:
            if not cell.content.strip():
                continue
            at = line.find(cell.content, cursor)
            if at < 0:
                raise SystemExit(f"{self.where}, markdown cell {cell_index}: cannot find the table cell "
                                 f"{cell.content!r} in line {number + 1}")
            chinese = self.translate(cell.content, cell_index)
            pieces.append(line[cursor:at] + re.sub(r"(?<!\\)\|", r"\\|", chinese))
            cursor = at + len(cell.content)
        return number, number + 1, ["".join(pieces) + line[cursor:]]

    def _directive_edits(self, lines, offset, fence, cell_index):
        """An admonition: its title (the directive's argument) and its body, translated; the body
        is parsed as markdown after its options (``:class: dropdown``), as myst-parser does."""
        name, _, argument = fence.info[1:].partition("}")
        argument = argument.strip()
        if name in VERBATIM:
            return []
        if name not in ADMONITIONS:
            raise SystemExit(f"{self.where}, markdown cell {cell_index}: directive {{{name}}} is neither "
                             f"an admonition nor verbatim; tell book/zh/notebooks.py how to translate it")
        start, end = offset + fence.map[0], offset + fence.map[1]
        edits = []
        if argument:
            opening = lines[start]
            at = opening.rfind(argument)
            edits.append((start, start + 1, [opening[:at] + self.translate(argument, cell_index)]))
        body = start + 1
        while body < end and re.match(r"\s*:[\w-]+:", lines[body]):
            body += 1
        closing = end - 1 if end - 1 > start and re.match(r"\s*(`{3,}|~{3,}|:{3,})\s*$", lines[end - 1]) else end
        inner = self._edits(lines[:closing], body, cell_index)
        return edits + inner


def translate_notebook(notebook, translations, where):
    """A copy of ``notebook`` with its markdown in Chinese and its language set; and the messages used."""
    from course_runtime.i18n import set_notebook_language
    translator = Translator(translations, where)
    chinese = copy.deepcopy(notebook)
    for index, cell in enumerate(chinese.cells):
        if cell.cell_type == "markdown":
            cell.source = translator.markdown(cell.source, index)
        elif cell.cell_type == "code":
            translator.caption(cell, index)
    set_notebook_language(chinese.metadata, LANGUAGE)
    return chinese, translator.used


def release(root=REPO, names=None):
    """Write chapters_zh/<chapter>/<notebook>.ipynb for every chapter (or those named)."""
    root = Path(root)
    english = root / ENGLISH_FOLDER
    for assignment in names or sorted(p.name for p in english.iterdir() if p.is_dir()):
        for path in sorted((english / assignment).glob("*.ipynb")):
            po = catalog_path(root, assignment, path.name)
            if not po.is_file():
                raise MissingTranslation(f"{assignment}: no catalog {po.relative_to(root)} for {path.name}: "
                                         f"run `make gettext` and translate it")
            notebook = nbformat.read(str(path), as_version=4)
            chinese, _ = translate_notebook(notebook, read_catalog(po), f"{assignment} ({path.name})")
            target = root / FOLDER / assignment / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(chinese, str(target))
        print(f"released {assignment} in Chinese: {FOLDER}/{assignment}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO, help="course root holding chapters/ and locales/")
    parser.add_argument("chapters", nargs="*", help="chapters to release (default: all)")
    arguments = parser.parse_args()
    release(arguments.root, arguments.chapters)
