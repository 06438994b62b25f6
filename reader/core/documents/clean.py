"""Decoding and cleaning: bytes in, NFC text with LF line ends and no control sequences out."""

from __future__ import annotations

import codecs
import re
import unicodedata

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# ANSI/VT escape sequences: OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC strings, CSI, and
# two-character escapes; the 8-bit C1 forms (CSI = U+009B, OSC = U+009D) too.
_ESCAPES = re.compile(
    r"""
    (?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?   # OSC ... BEL | ST
    | (?:\x1bP|\x1bX|\x1b\^|\x1b_|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?  # DCS SOS PM APC
    | (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?                  # CSI
    | \x1b[ -/]*[0-~]?                                   # other escapes
    """,
    re.VERBOSE,
)
# C0 and C1 controls and DEL, except TAB and LF.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def is_binary(data: bytes) -> bool:
    """True for data that is not text: NUL bytes without a UTF-16/32 byte order mark."""
    if any(data.startswith(bom) for bom, _ in _BOMS):
        return False
    return b"\x00" in data


def decode(data: bytes) -> str:
    """Decode bytes: UTF-8, then a byte order mark, then a detected charset; never fails."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is not None:
        # Short Western texts fit several code pages equally well; prefer the common one.
        western = from_bytes(data, cp_isolation=["cp1252"]).best()
        if western is not None and western.chaos <= best.chaos:
            return str(western)
        return str(best)
    return data.decode("utf-8", errors="replace")


def clean_text(text: str) -> str:
    """LF line ends, no escape sequences or control characters (TAB and LF kept), NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\ufeff", "")
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    return unicodedata.normalize("NFC", text)
