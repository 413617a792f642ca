"""Sphinx extension of the student site (listed in ``_config.yml``, not in the instructor's):

- the student edition (``make student``: ``_build/student.zip``) is served by the site as
  ``_static/cnn-course-student.zip``, the download the introduction links to; the build fails
  (a warning, and ``make book`` builds with ``-W``) when the edition was not built;
- launch buttons (Binder, JupyterHub) appear only once ``repository.url`` in ``_config.yml`` names
  the students' repository (the published edition): while it is unset the site links to no hub.
"""
import shutil
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

DOWNLOAD = "cnn-course-student.zip"   # its name in the site's _static/
HUB_KEYS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url")


def edition_zip(outdir):
    """Where ``make student`` puts the zip: beside the site (``<OUT>/_build/student.zip``)."""
    return Path(outdir).parent / "student.zip"


def launch_buttons(theme_options):
    """The launch settings to use: the configured ones, or none while no repository is set."""
    buttons = dict(theme_options.get("launch_buttons") or {})
    if not str(theme_options.get("repository_url") or "").strip():
        buttons.update({key: "" for key in HUB_KEYS})
    return buttons


def _hide_launch_buttons_without_repository(app, config):
    options = config.html_theme_options
    if options.get("launch_buttons"):
        options["launch_buttons"] = launch_buttons(options)


def _check_edition(app):
    if not edition_zip(app.outdir).is_file():
        logger.warning("the student edition %s is missing: build it with `make student` (make book does)",
                       edition_zip(app.outdir))


def _copy_edition(app, exception):
    if exception is None and edition_zip(app.outdir).is_file():
        static = Path(app.outdir) / "_static"
        static.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(edition_zip(app.outdir), static / DOWNLOAD)


def setup(app):
    app.connect("config-inited", _hide_launch_buttons_without_repository)
    app.connect("builder-inited", _check_edition)
    app.connect("build-finished", _copy_edition)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
