"""Text from files, names and notes made safe for a terminal.

Anything that reaches the terminal as plain text (CLI tables, errors, the Markdown export) goes
through `printable`: C0 and C1 control characters, DEL and the bidirectional controls
(U+202A–U+202E, U+2066–U+2069) are shown as visible escapes (`\\x1b`, `\\u202e`), so a file
name cannot retitle the window, write the clipboard (OSC 52) or reorder a line.
"""

from __future__ import annotations

import re

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI_CONTROLS}]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep: str = "") -> str:
    """`text` with every control and bidi character escaped, except those in `keep`."""
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _escape(m.group()), text)


def clean_note(text: str) -> str:
    """A note as stored: control characters removed, except newlines and tabs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _UNSAFE.sub(lambda m: m.group() if m.group() in "\n\t" else "", text)
