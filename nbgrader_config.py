"""nbgrader configuration of the course: run nbgrader's commands from the repository root.

solutions/<chapter>/<notebook>.ipynb  (instructor's source)  --generate_assignment-->
chapters/<chapter>/<notebook>.ipynb   (student notebooks, rendered by the book)
"""
import os

c = get_config()  # noqa: F821 (provided by nbgrader when it loads this file)

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "cnn-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "chapters"
# submitted/<student>/<chapter>/, autograded/..., feedback/... keep nbgrader's defaults.

# Students' code gets this long per cell; training in chapter 3 takes well under a second.
c.ExecutePreprocessor.timeout = 60
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grade each submission on the released notebook's layout: cells a student reordered, deleted,
# duplicated or tampered with cost nothing but the answers themselves (grader/engine/nbgrader_plugins.py).
c.RestoreLayout.release_root = os.path.join(c.CourseDirectory.root, c.CourseDirectory.release_directory)
# The Chinese student notebooks (make release, book/zh/notebooks.py): a submission whose metadata says
# {"course": {"language": "zh_CN"}} is rebuilt on them, so its course text stays Chinese.
c.RestoreLayout.translated_releases = {"zh_CN": os.path.join(c.CourseDirectory.root, "chapters_zh")}
c.Autograde.sanitize_preprocessors = [
    "grader.engine.nbgrader_plugins.RestoreLayout",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "grader.engine.nbgrader_plugins.OverwriteCells",  # nbgrader's, without a false "checksum has changed!"
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Feedback shows test cells without their hidden part (nbgrader shows it by default, its issue #917),
# MyST roles and admonitions as plain markdown, and a summary at the top: each exercise's score and
# each failed check in one line. The page (grader/engine/feedback/) wraps every message and carries
# its formulas typeset to SVG by the course's own MathJax (book/vendor.py) in Node.js: one file that
# needs no script and no internet. The formgrader's "generate feedback" makes the same pages.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "grader.engine.nbgrader_plugins.ClearHiddenTests",  # nbgrader's, without a spurious config warning
    "grader.engine.feedback.MystToMarkdown",
    "grader.engine.feedback.FeedbackSummary",
    "nbconvert.preprocessors.TagRemovePreprocessor",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# A figure's cell shows the figure, not the code that draws it (as on the course's site).
c.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
c.GenerateFeedback.exporter_class = "grader.engine.feedback.FeedbackExporter"
try:
    from book import vendor as _mathjax
except ImportError:  # the engine installed without the course's build helpers: say so when typesetting
    pass
else:
    c.FeedbackExporter.mathjax_dir = str(_mathjax.home() / "static" / "mathjax")
    c.FeedbackExporter.svg_output_dir = str(_mathjax.svg_output())
# Outputs of students' code (HTML a cell displayed, say) are kept inert in autograded notebooks.
# nbgrader's own autograde (`nbgrader autograde`, the formgrader's Autograde button) would run
# students' code in your kernel, outside the sandbox: GuardedExecute refuses, pointing to `make grade`.
# For submissions you trust: nbgrader autograde ... --GuardedExecute.allow_unsandboxed=True
c.Autograde.autograde_preprocessors = [
    "grader.engine.nbgrader_plugins.GuardedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "grader.engine.nbgrader_plugins.InertOutputs",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Feedback pages render students' markdown and outputs: without sanitizing, a student's <script>
# or onerror= would run in whoever opens the page.
c.HTMLExporter.sanitize_html = True

# `nbgrader export` writes its CSV with Python's csv module (nbgrader's own leaves a comma in a name
# unquoted); make grade also writes a CSV for Canvas (grader/engine/export.py).
c.ExportApp.plugin_class = "grader.engine.export.CsvExportPlugin"

# Students may add at most this many cells; the first ones are kept, the rest dropped and reported.
c.RestoreLayout.max_added_cells = 50
# `python -m grader autograde` (grader/autograde.py): wall time of a whole notebook (seconds,
# replays after a crash included; --notebook-timeout overrides it) and the largest .ipynb it reads.
# python -m grader autograde (the grading engine, grader/engine/) grades this course through the
# grading content it names here: grader/course.py registers the checks, seeds and rules.
c.FastGrader.course = "grader.course"
c.FastGrader.notebook_timeout = 300
c.FastGrader.max_notebook_bytes = 8 * 2**20
