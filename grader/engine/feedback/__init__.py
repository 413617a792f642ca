"""Feedback pages a student can read, made by ``nbgrader generate_feedback`` (and the formgrader's
button, which runs the same converter with the same configuration, nbgrader_config.py).

- ``MystToMarkdown`` rewrites the MyST of markdown cells (roles such as ``{term}`kernel```,
  admonitions such as ``{important}``) into the plain markdown (and HTML boxes) nbconvert renders;
- ``FeedbackSummary`` puts the score of each exercise and each failed check, in one line, into
  the page's resources; the template (``templates/feedback``) shows it at the top;
- ``FeedbackExporter`` renders the page with that template (every message wrapped, markdown
  sanitized with nh3 like students' outputs) and typesets its formulas to SVG with MathJax
  running in Node.js (``typeset.js``): the page is one file that needs no script and no
  internet, which is what a student usually receives.

Nothing here knows the course: an exercise is a solution cell (named by its grade_id) and the
graded test cells that follow it.
"""
import ast
import copy
import html
import re
import shutil
import subprocess
from pathlib import Path

from nbconvert.exporters import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Unicode
from traitlets.config import Config

from .. import i18n

_ = i18n.translator("engine")
HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
TYPESET = HERE / "typeset.js"


# ------------------------------------------------------------------------------------------- MyST

# [text](target) with a relative target: a page of the course's site, which the feedback page
# (usually received alone) cannot reach
RELATIVE_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?![a-z][a-z0-9+.-]*:|#)[^)\s]+\)", re.I)
# {role}`content`; the content may be "text <target>"
ROLE = re.compile(r"\{([A-Za-z][\w:-]*)\}(`+)(.+?)\2", re.S)
TARGETED = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
# An opening fence: ```lang, ```{directive} argument or :::{directive} argument
FENCE = re.compile(r"^([ \t]*)(`{3,}|:{3,})[ \t]*(\{([\w:-]+)\})?[ \t]*(.*)$")
OPTION = re.compile(r"^[ \t]*:([\w-]+):(.*)$")
ADMONITIONS = {"admonition", "attention", "caution", "danger", "error", "hint", "important", "note",
               "seealso", "tip", "warning"}
MATH_ROLES = {"math"}


def _role(match):
    name, content = match.group(1).split(":")[-1], match.group(3)
    if name in MATH_ROLES:
        return f"${content}$"
    targeted = TARGETED.match(content)
    if targeted and targeted.group(1).strip():
        content = targeted.group(1).strip()  # {ref}`the text <label>`: the text
    elif targeted:
        content = targeted.group(2)
    if name in ("code", "literal", "samp", "kbd", "file"):
        return f"`{content}`"
    return content  # {term}, {ref}, {numref}, {doc}, {abbr}, ...: their text


def _closing(fence):
    return re.compile(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}[ \t]*$")


def myst_to_markdown(source):
    """Markdown nbconvert renders from MyST: roles become their text (``{math}`` becomes ``$...$``),
    admonitions become boxes headed by their title, other directives their content, links to
    the course's other pages their text; code blocks are left alone."""
    lines, out, i = source.split("\n"), [], 0
    prose = []

    def flush():
        out.append(RELATIVE_LINK.sub(r"\1", ROLE.sub(_role, "\n".join(prose))))
        prose.clear()

    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            prose.append(lines[i])
            i += 1
            continue
        flush()
        fence, directive, argument = opening.group(2), opening.group(4), opening.group(5)
        end = next((j for j in range(i + 1, len(lines)) if _closing(fence).match(lines[j])), len(lines))
        start, body, i = i, lines[i + 1:end], end + 1
        if directive is None:  # a code block: kept as it is
            out.append("\n".join(lines[start:end + 1]))
            continue
        options = {}
        while body and OPTION.match(body[0]):
            key, value = OPTION.match(body.pop(0)).groups()
            options[key] = value.strip()
        out.append(_directive(directive.split(":")[-1], argument.strip(), "\n".join(body), options))
    flush()
    return "\n".join(part for part in out)


def _directive(name, argument, body, options):
    inner = myst_to_markdown(body)
    if name in ADMONITIONS:
        title = argument if name == "admonition" and argument else (argument or name.capitalize())
        if name != "admonition" and argument:
            inner, title = f"{argument}\n{inner}", name.capitalize()
        # An HTML block, a blank line, markdown, a blank line, the block's end: the markdown inside
        # is rendered (a markdown table in a quotation would not be).
        kind = html.escape(options.get("class", "note") if name == "admonition" else name)
        return (f'\n<div class="admonition {kind}">\n<p class="admonition-title">{html.escape(ROLE.sub(_role, title))}</p>'
                f"\n\n{inner}\n\n</div>\n")
    if name == "math":
        return f"\n$$\n{body}\n$$\n"
    if name in ("code", "code-block", "code-cell", "sourcecode"):
        return f"```{argument}\n{body}\n```"
    return inner


class MystToMarkdown(Preprocessor):
    """The MyST of markdown cells as plain markdown (see ``myst_to_markdown``)."""

    enabled = Bool(True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = myst_to_markdown(cell.source)
        return cell, resources


# ---------------------------------------------------------------------------------------- summary

def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _description(cell):
    """A check's description: the grader's, in the notebook's language, where it left one (see
    autograde._apply_result), else the first comment of its cell (``# Graded (1 point): ...``)."""
    described = cell.get("metadata", {}).get("grader", {}).get("description")
    if isinstance(described, str) and described:
        return described
    for line in cell.source.splitlines():
        if line.strip().startswith("#"):
            return line.strip().lstrip("#").strip()
        if line.strip():
            break
    return ""


def _problem(cell):
    """The first line of what a failed check said, or None if it said nothing."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            evalue = str(output.get("evalue", "")).strip()
            first = evalue.splitlines()[0] if evalue else ""
            ename = str(output.get("ename", "Error"))
            if ename == "GradingFailure":  # the grading engine's own verdict: its message says it all
                return first or ename
            return f"{ename}: {first}" if first else ename
    return None


def _exercise_name(cell):
    """A solution cell's name for a student: its grade_id (else the first function it defines)."""
    if _meta(cell).get("grade_id"):
        return _meta(cell)["grade_id"]
    try:
        tree = ast.parse(cell.source)
    except SyntaxError:
        return "answer"
    return next((n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))), "answer")


def page_words():
    """The feedback page's own words (the template's headings and labels), in the current language."""
    return {"lang": i18n.current_language().replace("_", "-"), "feedback": _("feedback"), "points": _("points"),
            "total": _("{score} / {max_score} points"),
            "exercise": _("exercise"), "what_failed": _("what failed"), "all_passed": _("all checks passed"),
            "late": _("late submission"), "score": _("Score:"), "top": _("(Top)"), "answer": _("Your answer:"),
            "check": _("Check:"), "comments": _("Comments:")}


def summarize(nb):
    """[{name, score, points, failed: [{grade_id, description, problem}]}] for the graded test cells
    of a notebook (after nbgrader's GetGrades), each under the solution cell above it."""
    exercises, current = [], None
    for cell in nb.cells:
        meta = _meta(cell)
        if meta.get("solution") and cell.cell_type == "code":
            current = {"name": _exercise_name(cell), "score": 0.0, "points": 0.0, "failed": [], "anchor": None}
            exercises.append(current)
        if not meta.get("grade") or meta.get("solution"):
            continue
        if current is None:
            current = {"name": "checks", "score": 0.0, "points": 0.0, "failed": [], "anchor": None}
            exercises.append(current)
        score, points = float(meta.get("score") or 0), float(meta.get("points") or 0)
        current["score"] += score
        current["points"] += points
        current["anchor"] = current["anchor"] or meta.get("grade_id")
        if score < points:
            current["failed"].append({"grade_id": meta.get("grade_id"), "description": _description(cell),
                                      "problem": _problem(cell) or _("no points"), "score": score, "points": points})
    return [e for e in exercises if e["points"] > 0]


class FeedbackSummary(Preprocessor):
    """The exercises' scores and failed checks, for the top of the page (``resources["summary"]``)."""

    enabled = Bool(True)

    def preprocess(self, nb, resources):
        with i18n.speaking(i18n.notebook_language(nb.metadata)):  # the page speaks the notebook's language
            resources["summary"] = summarize(nb)
            resources["words"] = page_words()
        return nb, resources


# --------------------------------------------------------------------------------------- exporter

def sanitize(html):
    """Markdown cells rendered to HTML, cleaned like students' outputs (nbconvert's own cleaner
    escapes headings and paragraphs as text)."""
    import nh3
    return nh3.clean(str(html), attributes={"*": {"class", "id"}, "a": {"href", "title"},
                                            "img": {"src", "alt", "width", "height"}})


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter with the course's feedback template, whose pages carry their
    formulas typeset (SVG, by MathJax in Node.js) and need nothing but themselves."""

    mathjax_dir = Unicode("", help="MathJax 3's es5 folder (startup.js, input/tex.js, adaptors/liteDOM.js)").tag(config=True)
    svg_output_dir = Unicode("", help="The folder holding MathJax 3's output/svg.js and output/svg/fonts/").tag(config=True)
    node = Unicode("", help="The Node.js executable (default: node on PATH)").tag(config=True)

    def __init__(self, config=None, **kwargs):
        # This folder's "feedback" template, whatever nbgrader configured (its own of that name):
        # set before nbconvert looks the template up, which it does while initialising.
        config = copy.deepcopy(config) if config is not None else Config()
        config.FeedbackExporter.template_name = "feedback"
        config.FeedbackExporter.extra_template_basedirs = [str(TEMPLATES)]
        super().__init__(config=config, **kwargs)

    def default_filters(self):
        yield from super().default_filters()
        yield ("sanitize", sanitize)

    def from_notebook_node(self, nb, resources=None, **kw):
        resources = dict(resources or {})
        with i18n.speaking(i18n.notebook_language(nb.metadata)):
            resources.setdefault("words", page_words())
        output, resources = super().from_notebook_node(nb, resources, **kw)
        return self.typeset(output), resources

    def typeset(self, page):
        node = self.node or shutil.which("node") or shutil.which("nodejs")
        if not node:
            raise RuntimeError("feedback pages need Node.js to typeset their formulas "
                               "(Debian: apt-get install -y nodejs); none found on PATH")
        for name, folder, needed in (("mathjax_dir", self.mathjax_dir, "startup.js"),
                                     ("svg_output_dir", self.svg_output_dir, "output/svg.js")):
            if not folder or not (Path(folder) / needed).is_file():
                raise RuntimeError(f"FeedbackExporter.{name} is {folder!r}, which has no {needed}: run "
                                   "`make book` (or `python -m book.vendor`) to fetch MathJax")
        result = subprocess.run([node, str(TYPESET), self.mathjax_dir, self.svg_output_dir], input=page,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"typesetting the formulas failed: {result.stderr.strip()}")
        return result.stdout
