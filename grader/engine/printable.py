"""Text from submissions made safe to print on the instructor's terminal.

A notebook's fields, a student's folder name or an error message quoting either may hold terminal
escape sequences (which can retitle the window, rewrite what was printed, or worse), bidirectional
overrides or other invisible characters. Everything ``python -m grader autograde`` prints goes
through ``printable``.
"""
import io
import unicodedata


def printable(text, newlines=False):
    """``text`` with every character of Unicode category C (controls, formats, surrogates, private
    use, unassigned) written as an escape, such as \\x1b; with ``newlines``, line breaks are kept."""
    text = str(text)
    if text.isprintable() or (newlines and "".join(text.split("\n")).isprintable()):
        return text  # the usual case, checked at C speed
    return "".join(_escaped(char) if unicodedata.category(char)[0] == "C" and not (newlines and char == "\n")
                   else char for char in text)


def _escaped(char):
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


class PrintableStream(io.TextIOBase):
    """A text stream that writes ``printable(text, newlines=True)`` to ``raw``: for logs."""

    def __init__(self, raw):
        self.raw = raw

    def writable(self):
        return True

    def write(self, text):
        self.raw.write(printable(text, newlines=True))
        return len(text)

    def flush(self):
        self.raw.flush()

    def isatty(self):
        return self.raw.isatty()

    def fileno(self):
        return self.raw.fileno()
