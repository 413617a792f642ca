# Two commands do all set-up on a fresh machine: `make book`, then `make test`.
SHELL := /bin/bash
# MXNet 1.9.1 needs Python <= 3.11. Prefer the system's /usr/bin/python3.11 (Debian 12's 3.11.2):
# the grader's sandboxes run as other users, who can run it but not a Python under /root (pyenv).
# Else python3.11 from PATH, else python3 (book/check_python.py refuses one that cannot work).
PYTHON ?= $(or $(wildcard /usr/bin/python3.11),$(shell command -v python3.11 2>/dev/null || command -v python3))
# Where the environment goes (VENV=/tmp/x makes another one, e.g. to try other pins or another Python).
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# nbgrader runs `alembic` from PATH, so the environment's bin/ comes first.
export PATH := $(BIN):$(PATH)
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: book zh gettext messages instructor student examples browser test check release grade benchmark venv constraints clean

venv: $(VENV)/.installed

# Made afresh (--clear) when the pins change: a venv made by another Python is broken when updated
# in place (its bin/python still points at the old one), and packages dropped from the pins must go.
$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml
	@$(PYTHON) book/check_python.py
	$(PYTHON) -m venv --clear $(VENV)
	@echo "installing the pinned packages into $(VENV) (about a minute)"
	set -o pipefail; $(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Where the sites go: jupyter-book's --path-output (OUT=/tmp/x builds into /tmp/x/_build/...).
OUT ?= .
# The student site's table of contents (the instructor site's is derived from it).
TOC ?= _toc.yml
SITE := $(OUT)/_build
# The notebooks of the builds run with matplotlib's font cache of their own: one in ~/.cache made
# by another process (another matplotlib, a sandbox that saw only some fonts) leaves fonts out,
# and the pages then show "findfont: ... not found" under the figures.
BOOK_ENV := MPLCONFIGDIR=$(abspath $(SITE))/.matplotlib

# Build the student site into _build/html and the instructor's (the solutions, executed) into
# _build/instructor/html. -W: a notebook that fails to execute fails the build (jupyter-book alone
# would exit 0). MathJax is fetched once from the npm registry (book/vendor.py) and served by the
# site itself; the execution cache is emptied when course_runtime/, grader/, book/ or the pins change
# (book/cache_key.py). The student edition (make student) is built first: the site serves its zip.
book: venv student
	@start=$$(date +%s); \
	$(BIN)/python -m book.vendor || exit 1; \
	$(BIN)/python -m book.cache_key $(SITE) || exit 1; \
	$(BOOK_ENV) $(BIN)/jupyter-book build . --toc $(TOC) --path-output $(OUT) -W --keep-going || exit 1; \
	echo "student site built in $$(( $$(date +%s) - start )) s: $(SITE)/html/index.html"; \
	$(MAKE) --no-print-directory zh || exit 1; \
	$(MAKE) --no-print-directory instructor || exit 1; \
	echo "book built in $$(( $$(date +%s) - start )) s: $(SITE)/html/index.html"

# The Chinese site (book/zh/_config.yml: the same sources, translated by locales/zh_CN/) into
# $(SITE)/html/zh, after the English one. Its notebooks run again, in Chinese (COURSE_LANGUAGE:
# the figures' labels, course_runtime/figures.py), with their own execution cache in
# $(SITE)/zh/_build (emptied by book/cache_key.py like the English one), so that the caches of
# the two languages never mix. Built in $(SITE)/zh, then copied into the English site so that the
# language switch's relative links work from disk and from a server.
zh: venv student
	@start=$$(date +%s); \
	$(BIN)/python -m book.vendor || exit 1; \
	if [ -L $(SITE)/zh/_build/.jupyter_cache ]; then rm $(SITE)/zh/_build/.jupyter_cache; fi; \
	$(BIN)/python -m book.cache_key $(SITE)/zh/_build || exit 1; \
	ln -sfn $(abspath $(SITE))/student.zip $(SITE)/zh/_build/student.zip; \
	$(BOOK_ENV) COURSE_LANGUAGE=zh_CN $(BIN)/jupyter-book build . --config book/zh/_config.yml --toc $(TOC) --path-output $(SITE)/zh -W --keep-going || exit 1; \
	mkdir -p $(SITE)/html && rm -rf $(SITE)/html/zh && cp -a $(SITE)/zh/_build/html $(SITE)/html/zh || exit 1; \
	echo "Chinese site built in $$(( $$(date +%s) - start )) s: $(SITE)/html/zh/index.html"

# The message catalogs of the Chinese site: extract the English site's messages (Sphinx's gettext
# builder) and merge them into locales/zh_CN/LC_MESSAGES/*.po (sphinx-intl); new or changed
# messages come out untranslated or fuzzy, and tests/test_translations.py fails until they are translated.
gettext: venv
	$(BIN)/python -m book.zh.gettext $(SITE)/gettext

# The catalogs of what students read from the checks, hints, rules and the grading engine
# (course_runtime/, grader/ and grader/engine/ locale/zh_CN/LC_MESSAGES/*.po): extracted from the
# code with Babel and merged; new or changed messages come out untranslated or fuzzy, and
# tests/test_messages.py fails until they are translated.
messages: venv
	$(BIN)/python -m book.messages

# The instructor's site alone: solutions/ executed, into $(SITE)/instructor/html.
instructor: venv
	@start=$$(date +%s); \
	$(BIN)/python -m book.vendor || exit 1; \
	$(BIN)/python -m book.instructor.toc $(TOC) $(SITE)/instructor/_toc.yml || exit 1; \
	$(BIN)/python -m book.cache_key $(SITE)/instructor/_build || exit 1; \
	$(BOOK_ENV) $(BIN)/jupyter-book build . --config book/instructor/_config.yml --toc $(SITE)/instructor/_toc.yml \
	  --path-output $(SITE)/instructor -W --keep-going || exit 1; \
	ln -sfn _build/html $(SITE)/instructor/html; \
	echo "instructor site built in $$(( $$(date +%s) - start )) s: $(SITE)/instructor/html/index.html"

# Debian's Chromium for the browser test (tests/test_browser.py runs this itself when needed).
browser:
	bash book/install_browser.sh

# The student edition, what students get instead of this repository: $(SITE)/student/ (the chapter
# notebooks, course_runtime/, a pinned requirements.txt, their README) and $(SITE)/student.zip,
# which the student site serves as a download (book/student_site.py).
student: venv
	$(BIN)/python -m book.student_edition build $(SITE)/student

# Regenerate course_runtime/examples.json (the visible checks' expected outputs) from grader/.
examples: venv
	$(BIN)/python -m book.student_edition examples

# Regenerate the student notebooks in chapters/ from solutions/ (commit both).
release: venv
	$(BIN)/python -m book.release

# The instructor's day: set up the gradebook for chapters it lacks, grade every new submission in
# submitted/ with the sandboxed grader, write the feedback, export the grades (grader/engine/day.py,
# export.py). GRADE_ARGS passes options, e.g. make grade GRADE_ARGS="--jobs 4 ch1_cross_correlation".
grade: venv
	$(BIN)/python -m grader grade $(GRADE_ARGS)

# The tests read the built sites, so the book is built (or brought up to date) first.
test: book
	$(BIN)/python -m pytest

# The fast tests of each part (a minute or two), without building the book: no test marked slow
# (a class graded end to end, an environment installed), book, browser or root_only.
check: venv
	$(BIN)/python -m pytest -m "not slow and not book and not browser and not root_only"

# Plain `nbgrader autograde` against `python -m grader autograde` on a class of 30 students
# (about 11 minutes, nearly all of it plain nbgrader's; the fast grader's runs come between its
# chapters): prints the times and their ratio. Run as root, it also grades the class as an ordinary
# user (made for the purpose) and prints that ratio.
benchmark: venv
	$(BIN)/python -m grader.benchmark --students 30 $(if $(filter 0,$(shell id -u)),--as-ordinary-user)

# Re-pin every package after changing requirements.txt: pip resolves it afresh for Python 3.11.0 and
# newer (not a freeze of this machine's Python), and constraints.txt is replaced only if the new
# pins install with every Python 3.11 here (/usr/bin/python3.11, python3.11); book/constraints.py.
constraints: venv
	$(BIN)/python -m book.constraints

clean:
	rm -rf _build
