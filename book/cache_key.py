"""Keep the build's execution cache honest: ``python -m book.cache_key BUILD_DIR``.

jupyter-book re-runs a notebook only when its code changed (jupyter-cache hashes the code cells).
The outputs also depend on the code the notebooks import (the runtime in course_runtime/ with its
examples' expected outputs and message catalogs, the checks in grader/), on the pinned packages
and on the environment the Makefile runs them in (COURSE_LANGUAGE, matplotlib's cache), which
jupyter-cache does not see. So ``make book`` calls this first: it hashes those inputs and, when
the hash differs from the one stamped in BUILD_DIR by the last build, empties BUILD_DIR's
execution cache and Sphinx's saved pages, so that every notebook runs again. BUILD_DIR is jupyter-book's build folder (``_build``, or ``<--path-output>/_build``).
"""
import hashlib
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# What the executed notebooks depend on besides their own code.
INPUTS = ("course_runtime/*.py", "course_runtime/*.json", "course_runtime/locale/*/LC_MESSAGES/*.po", "grader/*.py",
          "book/*.py", "requirements.txt", "constraints.txt", "Makefile")
STAMP = ".inputs-key"
# jupyter-cache's folder, and Sphinx's pickled pages (a page Sphinx does not re-read keeps its
# old outputs even when the cache is empty).
CACHED = (".jupyter_cache", ".doctrees", "jupyter_execute")


def files(root=REPO):
    return sorted(p for pattern in INPUTS for p in root.glob(pattern) if p.is_file())


def key(root=REPO):
    digest = hashlib.sha256(f"python {sys.version}\n".encode())
    for path in files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def refresh(build_dir, root=REPO):
    """Empty build_dir's caches if the inputs changed since the last build; True if it did."""
    build_dir = Path(build_dir)
    stamp = build_dir / STAMP
    new = key(root)
    old = stamp.read_text().strip() if stamp.is_file() else None
    stale = old != new and any((build_dir / name).exists() for name in CACHED)
    if stale:
        print(f"{', '.join(INPUTS)} changed since the last build: every notebook runs again")
        for name in CACHED:
            shutil.rmtree(build_dir / name, ignore_errors=True)
    build_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(new + "\n")
    return stale


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m book.cache_key BUILD_DIR")
    refresh(sys.argv[1])
