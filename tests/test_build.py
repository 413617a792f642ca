"""The build fails when a notebook fails to execute (jupyter-book alone exits 0 then): `make book`
builds with -W, and the course's execution settings allow no errors."""
import shutil

import nbformat
import pytest
import yaml

from tests import course

pytestmark = pytest.mark.book


def test_a_notebook_that_fails_to_execute_fails_the_build(tmp_path):
    config = yaml.safe_load((course.REPO / "_config.yml").read_text())
    assert config["execute"]["allow_errors"] is False
    small = {"title": "failing", "execute": config["execute"], "only_build_toc_files": True}
    (tmp_path / "_config.yml").write_text(yaml.safe_dump(small))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: broken\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A broken example"),
                                               nbformat.v4.new_code_cell("raise ValueError('broken example')")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, str(tmp_path / "broken.ipynb"))
    jupyter_book = str(course.BIN / "jupyter-book")
    # The same flags as the Makefile's book target.
    failing = course.run([jupyter_book, "build", str(tmp_path), "-W", "--keep-going"], cwd=tmp_path, check=False)
    assert failing.returncode != 0 and "Executing notebook failed" in failing.stdout + failing.stderr
    # Without -W, jupyter-book reports success: the flag is what makes the failure loud.
    shutil.rmtree(tmp_path / "_build")
    quiet = course.run([jupyter_book, "build", str(tmp_path)], cwd=tmp_path, check=False)
    assert quiet.returncode == 0 and "Executing notebook failed" in quiet.stdout + quiet.stderr
