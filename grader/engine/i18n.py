"""The language a submission is graded in, and the engine's own messages in it.

A notebook's language is in its metadata, ``{"course": {"language": "zh_CN"}}`` (English when
unset). The engine knows no course, so it tells the course the language the way a kernel learns
it: ``COURSE_LANGUAGE`` in the environment. ``speaking(language)`` sets it while the engine works
for one submission (a worker judges one job at a time; the instructor's process writes one
notebook at a time), and each request to a sandbox carries it (sandbox.py), since sandboxes are
started before their job is known. The course reads the variable with its own runtime
(course_runtime/i18n.py in this repository).

The engine's messages (a cell stopped, output cut, the feedback page's words) are gettext
messages of the domain ``engine``: ``locale/<language>/LC_MESSAGES/engine.po`` next to this
file, read with Babel at run time (no compiled .mo file is kept).
"""
import contextlib
import functools
import gettext
import io
import os
import re
from pathlib import Path

ENGLISH = "en"
LANGUAGE_VARIABLE = "COURSE_LANGUAGE"
LOCALE = Path(__file__).with_name("locale")
# A language's code as gettext names its catalogs' folders: "en", "zh_CN".
_CODE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def valid(language):
    return isinstance(language, str) and _CODE.fullmatch(language) is not None


def notebook_language(metadata):
    """The language of a notebook with this metadata (a dict); English when unset or malformed
    (the metadata is the student's: anything else is ignored)."""
    course = metadata.get("course") if isinstance(metadata, dict) else None
    language = course.get("language") if isinstance(course, dict) else None
    return language if valid(language) else ENGLISH


def current_language():
    language = os.environ.get(LANGUAGE_VARIABLE, "")
    return language if valid(language) else ENGLISH


@contextlib.contextmanager
def speaking(language):
    """Inside the block, the engine's messages and the course's are in ``language``."""
    saved = os.environ.get(LANGUAGE_VARIABLE)
    os.environ[LANGUAGE_VARIABLE] = language if valid(language) else ENGLISH
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(LANGUAGE_VARIABLE, None)
        else:
            os.environ[LANGUAGE_VARIABLE] = saved


@functools.lru_cache(maxsize=None)
def translation(domain, language, locale_folder=LOCALE):
    """A gettext translation of ``domain`` into ``language`` from its .po file; the messages as
    written when there is none (English)."""
    po_file = Path(locale_folder) / language / "LC_MESSAGES" / f"{domain}.po"
    if language == ENGLISH:
        return gettext.NullTranslations()
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
        with open(po_file, "rb") as file:
            catalog = read_po(file, locale=language, domain=domain)
    except (OSError, ImportError):  # no catalog, or one a sandbox cannot read (see preload): English
        return gettext.NullTranslations()
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy translation is a guess: English instead
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def preload(domain, locale_folder=LOCALE):
    """Read every catalog of ``domain`` now: sandboxes forked later cannot read them."""
    for folder in sorted(Path(locale_folder).glob(f"*/LC_MESSAGES/{domain}.po")):
        translation(domain, folder.parent.parent.name, locale_folder)


def translator(domain, locale_folder=LOCALE):
    """``_`` for a module: the message in the current language, looked up at each call."""
    def _(message):
        return translation(domain, current_language(), locale_folder).gettext(message)
    return _
