"""``python -m book.messages`` (``make messages``): the catalogs of what students read from the
runtime and the grader, extracted from the code with Babel and merged into
``<package>/locale/zh_CN/LC_MESSAGES/<domain>.po``. New or changed messages come out untranslated
or fuzzy, and tests/test_messages.py fails until they are translated.

Domains (see course_runtime/i18n.py): ``course_runtime`` (the student's runtime, shipped in the
student edition), ``grader`` (the course's checks, hints and rules), ``engine`` (the grading
engine's words: cells stopped, outputs cut, the feedback page), ``figures`` (the figures' labels,
course_runtime/figures.py).
"""
import re
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface

REPO = Path(__file__).resolve().parents[1]
TRANSLATED = ("zh_CN",)
# domain: (the folder whose locale/ holds its catalogs, its source files)
DOMAINS = {
    "course_runtime": ("course_runtime", ["course_runtime/*.py", "!course_runtime/figures.py"]),
    "figures": ("course_runtime", ["course_runtime/figures.py"]),   # the figures' labels (their own domain)
    "grader": ("grader", ["grader/*.py"]),
    "engine": ("grader/engine", ["grader/engine/*.py", "grader/engine/feedback/*.py"]),
}


def sources(patterns, root=REPO):
    """The files of ``patterns`` (globs), less those of the patterns written ``!glob``."""
    left_out = {path for pattern in patterns if pattern.startswith("!") for path in root.glob(pattern[1:])}
    return sorted(str(path.relative_to(root)) for pattern in patterns if not pattern.startswith("!")
                  for path in root.glob(pattern) if path not in left_out)


def template(domain, output, root=REPO):
    """Extract ``domain``'s messages (``_("...")`` and ``N_("...")``) into the .pot file ``output``."""
    package, patterns = DOMAINS[domain]
    # File names without line numbers: the catalogs' diffs show changed messages, not moved code.
    CommandLineInterface().run(["pybabel", "-q", "extract", "--add-location=file", "--sort-output", "--no-wrap",
                                "--project=cnn-course", "-o", str(output), *sources(patterns, root)])


def _without_date(text):
    return re.sub(r'^"POT-Creation-Date: .*\n', "", text, flags=re.M)


def update(root=REPO):
    for domain, (package, _) in DOMAINS.items():
        locale = root / package / "locale"
        with tempfile.TemporaryDirectory() as folder:
            pot = Path(folder) / f"{domain}.pot"
            template(domain, pot, root)
            for language in TRANSLATED:
                po = locale / language / "LC_MESSAGES" / f"{domain}.po"
                before = po.read_text("utf8") if po.exists() else None
                command = "update" if po.exists() else "init"
                extra = ["--no-wrap", "--ignore-obsolete"] if command == "update" else ["--no-wrap"]
                CommandLineInterface().run(["pybabel", "-q", command, "-i", str(pot), "-d", str(locale), "-D", domain,
                                            "-l", language, *extra])
                if before is not None and _without_date(po.read_text("utf8")) == _without_date(before):
                    po.write_text(before, "utf8")  # nothing changed but the date: no diff
                print(f"{command}d {po.relative_to(root)}")


if __name__ == "__main__":
    sys.exit(update())
