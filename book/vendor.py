"""Fetch the site's third-party browser code (MathJax 3) from the npm registry, pinned and checked.

The course site must work with no internet, so MathJax is served from the site's own ``_static``
folder instead of a CDN. ``make book`` runs ``python -m book.vendor`` before building: it runs
``npm pack mathjax@<VERSION>`` once, checks the tarball against the registry's sha512 integrity
pinned below, and unpacks MathJax's ``es5`` bundle into the environment (``.venv/share/cnn-course``).
The Sphinx extension ``book.offline`` copies it into every build. Nothing is fetched when the
site is read, and nothing after the first build. The SVG output, which the site does not use, is
unpacked beside it (``svg_output()``): the feedback pages' formulas are typeset with it
(grader/engine/feedback/, configured in nbgrader_config.py).

To move to another MathJax 3 release: ``npm view mathjax@3.x.y dist.integrity``, then change
``VERSION`` and ``INTEGRITY``.
"""
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

NAME = "mathjax"
VERSION = "3.2.2"
INTEGRITY = "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw=="
# The file Sphinx loads (mathjax_path in _config.yml is "mathjax/" + ENTRY); it loads the rest
# (fonts, TeX extensions, the menu) from its own folder.
ENTRY = "tex-mml-chtml.js"
# Parts of the package the site never uses: latest.js looks for MathJax on a CDN, node-main.js is
# for Node.js, and the output/svg files go with the *-svg bundles.
SKIP = ("latest.js", "node-main.js", "tex-svg.js", "tex-svg-full.js", "tex-mml-svg.js", "mml-svg.js", "output/svg")
# ... except the SVG output, kept outside the site's folder: the feedback pages' formulas are typeset
# to SVG with it when they are made (grader/engine/typeset.js), so the pages need no script.
SVG_OUTPUT = ("output/svg.js", "output/svg")


def home(prefix=sys.prefix):
    """The folder whose ``static/`` Sphinx copies into ``_static``: it holds ``static/mathjax/``."""
    return Path(prefix) / "share" / "cnn-course" / f"{NAME}-{VERSION}"


def entry(prefix=sys.prefix):
    return home(prefix) / "static" / NAME / ENTRY


def svg_output(prefix=sys.prefix):
    """The folder holding ``output/svg.js`` and its font (not served by the site)."""
    return home(prefix) / "svg"


def _stamp(prefix):
    return home(prefix) / ".integrity"


def is_fetched(prefix=sys.prefix):
    stamp = _stamp(prefix)
    return (stamp.is_file() and stamp.read_text().strip() == INTEGRITY and entry(prefix).is_file()
            and (svg_output(prefix) / "output" / "svg.js").is_file())


def _npm_pack(workdir):
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("error: npm is needed once, to fetch MathJax from the npm registry "
                         "(Debian: apt-get install -y npm)")
    result = subprocess.run([npm, "pack", f"{NAME}@{VERSION}", "--json", "--pack-destination", str(workdir)],
                            cwd=workdir, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"error: npm pack {NAME}@{VERSION} failed:\n{result.stderr}")
    filename = json.loads(result.stdout)[0]["filename"]
    return Path(workdir) / filename


def _check_integrity(data):
    algorithm, _, expected = INTEGRITY.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise SystemExit(f"error: {NAME}@{VERSION} from npm does not match the pinned integrity "
                         f"({algorithm}-{actual} != {INTEGRITY})")


def _matches(rel, prefixes):
    return any(rel.as_posix() == s or rel.as_posix().startswith(s + "/") for s in prefixes)


def _unpack(data, target):
    """package/es5/* -> target/static/mathjax/*, and the licence beside it; the SVG output ->
    target/svg/."""
    mathjax = target / "static" / NAME
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            parts = Path(member.name).parts  # ("package", "es5", ...)
            if parts[1:] == ("LICENSE",):
                dest = mathjax / "LICENSE"
            elif len(parts) > 2 and parts[1] == "es5":
                rel = Path(*parts[2:])
                if _matches(rel, SVG_OUTPUT):
                    dest = target / "svg" / rel
                elif _matches(rel, SKIP):
                    continue
                else:
                    dest = mathjax / rel
            else:
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(tar.extractfile(member).read())


def fetch(prefix=sys.prefix, quiet=False):
    """Fetch and unpack MathJax unless it is already there; return the folder."""
    target = home(prefix)
    if is_fetched(prefix):
        return target
    with tempfile.TemporaryDirectory() as workdir:
        data = _npm_pack(workdir).read_bytes()
    _check_integrity(data)
    if target.exists():
        shutil.rmtree(target)
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    _unpack(data, partial)
    (partial / ".integrity").write_text(INTEGRITY + "\n")
    partial.rename(target)
    if not quiet:
        print(f"fetched {NAME}@{VERSION} from the npm registry into {target}")
    return target


if __name__ == "__main__":
    fetch()
