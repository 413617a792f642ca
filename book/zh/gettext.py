"""Extract the site's messages and merge them into the Chinese catalogs: ``python -m book.zh.gettext OUT``.

Runs Sphinx's gettext builder through jupyter-book with the Chinese site's configuration
(book/zh/_config.yml) and the English build's executed notebooks (for the figures' captions),
writing the templates (.pot) into ``OUT/_build/gettext``, then ``sphinx-intl update`` merges them
into ``locales/zh_CN/LC_MESSAGES/``: new messages come out untranslated, changed ones fuzzy, and
tests/test_translations.py fails until they are translated.
"""
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def extract(out):
    """The message templates of every page (``OUT/_build/gettext/**/*.pot``); returns their folder."""
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((REPO / "book" / "zh" / "_config.yml").read_text("utf8"))
    # Figure captions are text of the outputs (myst-nb makes a figure of an output image whose cell
    # has a caption), so the notebooks' outputs are needed: those of the English build's cache
    # (make book), or, where it has none, executed into it.
    cache = REPO / "_build" / ".jupyter_cache"
    cache.mkdir(parents=True, exist_ok=True)
    (out / "_build").mkdir(exist_ok=True)
    link = out / "_build" / ".jupyter_cache"
    if not link.is_symlink():
        link.symlink_to(cache, target_is_directory=True)
    # The site's own extensions concern HTML pages (MathJax, the download, the switch), not text;
    # book.i18n decides which text is translatable, so it stays.
    sphinx = config["sphinx"]["config"]
    sphinx["extensions"] = [name for name in sphinx["extensions"] if not name.startswith("book.") or name == "book.i18n"]
    (out / "_config.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf8")
    subprocess.run([BIN / "jupyter-book", "build", str(REPO), "--config", str(out / "_config.yml"),
                    "--toc", str(REPO / "_toc.yml"), "--path-output", str(out),
                    "--builder", "custom", "--custom-builder", "gettext"], check=True, stdout=subprocess.DEVNULL)
    return out / "_build" / "gettext"


def main(out):
    templates = extract(out)
    subprocess.run([BIN / "sphinx-intl", "update", "-p", str(templates), "-l", "zh_CN",
                    "-d", str(REPO / "locales")], check=True)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m book.zh.gettext OUT")
    main(sys.argv[1])
