"""The language a notebook speaks, and the course's messages in it (gettext catalogs).

A notebook's language is in its metadata, ``{"course": {"language": "zh_CN"}}``; a notebook
without it is English. Code that runs in a kernel learns it, in this order, from:

0. ``speaking(language)``, around code that works for one notebook among many (the grader's
   trusted side, which judges a whole class in one process);
1. ``COURSE_LANGUAGE`` in the environment: the grader's sandbox sets it from the submission's
   metadata, and the Chinese site's build sets it;
2. the notebook itself: Jupyter's server tells the kernel its notebook's path
   (``JPY_SESSION_NAME``), whose metadata is read;
3. else English.

Messages are written in English in the code, as ``_("...")`` with named ``{fields}``; their
translations are the catalogs ``locale/<language>/LC_MESSAGES/<domain>.po`` next to the code that
uses them (one domain per package). The .po files are the only source: Babel (a Sphinx and
JupyterLab dependency) reads them at run time, so no compiled .mo file is kept or can go stale.
"""
import contextlib
import contextvars
import functools
import gettext
import io
import json
import os
from pathlib import Path

ENGLISH = "en"
LANGUAGES = (ENGLISH, "zh_CN")
LANGUAGE_VARIABLE = "COURSE_LANGUAGE"
RUNTIME_LOCALE = Path(__file__).with_name("locale")
_speaking = contextvars.ContextVar("course_language", default=None)


def notebook_language(metadata):
    """The language of a notebook with this metadata (a dict); English when unset or unknown."""
    try:
        language = metadata.get("course", {}).get("language", ENGLISH)
    except AttributeError:
        return ENGLISH
    return language if language in LANGUAGES else ENGLISH


def set_notebook_language(metadata, language):
    """Mark a notebook's metadata (a dict, changed in place) as written in ``language``."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: the course has {', '.join(LANGUAGES)}")
    metadata.setdefault("course", {})["language"] = language


def current_language(environ=None):
    """The language of the notebook this kernel runs (see the module's docstring)."""
    if _speaking.get() is not None:
        return _speaking.get()
    environ = os.environ if environ is None else environ
    language = environ.get(LANGUAGE_VARIABLE)
    if language:
        return language if language in LANGUAGES else ENGLISH
    path = environ.get("JPY_SESSION_NAME")
    if path and path.endswith(".ipynb"):
        try:
            with open(path, encoding="utf8") as file:
                return notebook_language(json.load(file).get("metadata", {}))
        except (OSError, ValueError):
            pass
    return ENGLISH


@contextlib.contextmanager
def speaking(language):
    """Messages made inside this block are in ``language`` (an unknown one is English)."""
    token = _speaking.set(language if language in LANGUAGES else ENGLISH)
    try:
        yield
    finally:
        _speaking.reset(token)


@functools.lru_cache(maxsize=None)
def translation(domain, language, locale_folder=RUNTIME_LOCALE):
    """A gettext translation of ``domain`` into ``language`` from its .po file; English (the
    messages as written) when the language is English or has no catalog of this domain."""
    po_file = Path(locale_folder) / language / "LC_MESSAGES" / f"{domain}.po"
    if language == ENGLISH or not po_file.exists():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    with open(po_file, "rb") as file:
        catalog = read_po(file, locale=language, domain=domain)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy translation is a guess: English instead
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def preload(domain, locale_folder=RUNTIME_LOCALE):
    """Read ``domain``'s catalogs of every language now: a process that forks sandboxes, which
    cannot read files (or import Babel) later, calls this first so that they inherit them."""
    for language in LANGUAGES:
        translation(domain, language, locale_folder)  # the same call as translator's: one cache entry


def N_(message):
    """A message marked for the catalog (pybabel extracts ``N_("...")``) and returned as written:
    it is translated later, by a module's ``_``, where it is shown."""
    return message


def translator(domain, locale_folder=RUNTIME_LOCALE):
    """``_`` for a module: ``_("your {name} ...").format(name=...)`` in the current language,
    looked up at each call (the language is known only when a notebook runs)."""
    def _(message):
        return translation(domain, current_language(), locale_folder).gettext(message)
    return _
