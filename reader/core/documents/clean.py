"""Decoding and cleaning: bytes in, NFC text with LF line ends and no control sequences out.

Decoding order (`decode`): a byte order mark; UTF-32/UTF-16 recognised by their byte
pattern; a declared charset (HTML `<meta charset>` / `http-equiv`, XML declaration); UTF-8,
kept when only a few bytes are invalid; else the charset that `charset-normalizer` finds.
`binary_reason` says why bytes are not text at all (a known signature, many NULs, many
control bytes). `clean_text` repairs mojibake and C1 characters with `ftfy`, strips escape
sequences and control characters, and normalises to NFC.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from itertools import islice

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# Known binary formats, by their first bytes (and, for RIFF, the bytes 8..12).
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"PK\x05\x06", "ZIP archive"),
    (b"PK\x07\x08", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"(\xb5/\xfd", "zstd archive"),
    (b"7z\xbc\xaf'\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\xca\xfe\xba\xbe", "Java class or Mach-O file"),
    (b"\xcf\xfa\xed\xfe", "Mach-O executable"),
    (b"\xfe\xed\xfa\xcf", "Mach-O executable"),
    (b"\x00asm", "WebAssembly module"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE document (old Office file)"),
    (b"OggS", "Ogg media"),
    (b"fLaC", "FLAC audio"),
    (b"ID3", "MP3 audio"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM media"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
    (b"\x00\x01\x00\x00\x00", "TrueType font"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
)
_RIFF_KINDS = {b"WEBP": "WebP image", b"WAVE": "WAV audio", b"AVI ": "AVI video"}
_SNIFF_BYTES = 8192
# Bytes that plain text never holds (TAB LF VT FF CR and ESC excluded: text may carry them).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_CONTROL_TABLE = bytes.maketrans(_CONTROL_BYTES, b"\x00" * len(_CONTROL_BYTES))
# The characters of most text: controls that text holds, ASCII, Latin, Greek, Cyrillic, Hebrew,
# Arabic, Devanagari, Thai, punctuation, CJK punctuation, kana, CJK ideographs, Hangul and
# full-width forms. UTF-16 read in the wrong byte order is not made of these.
_COMMON_CHARS = re.compile(
    "[\t\n\r -~\xa0-\u024f\u0370-\u04ff\u0590-\u06ff\u0900-\u097f\u0e00-\u0e7f"
    "\u1e00-\u1eff\u2000-\u206f\u20a0-\u20cf\u3000-\u30ff\u4e00-\u9fff\uac00-\ud7af"
    "\uff00-\uffef]"
)
_MIN_COMMON_SHARE = 0.9
_MAX_NUL_SHARE = 0.01  # more NULs than this (outside UTF-16/32) and the file is binary
_MAX_CONTROL_SHARE = 0.03  # random bytes hold about 10% control bytes; text almost none
# UTF-8 with a few bad bytes stays UTF-8: at most this many bad sequences, and fewer than
# the well-formed non-ASCII characters (a legacy 8-bit file has almost none of those).
_MAX_BAD_UTF8 = 16

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_XML_DECLARATION = re.compile(rb"""\A<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""")
# The WHATWG rule: pages that say Latin-1 or ASCII are read as windows-1252.
_WHATWG_ALIASES = {
    "latin_1": "cp1252",
    "ascii": "cp1252",
    "iso8859_1": "cp1252",
    "iso8859_9": "cp1254",
    "tis_620": "cp874",
    "iso8859_11": "cp874",
    "utf_8_sig": "utf-8",
}
# ... and the legacy CJK labels the Windows (or later) supersets that pages are really in:
# Shift_JIS pages hold NEC's circled digits and "№", EUC-KR pages Unified Hangul Code. The
# label's own codec reads first (it maps a few shared bytes differently: 〜, ·).
_SUPERSETS = {
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "big5": "big5hkscs",
}
# WHATWG encoding labels that Python's codec registry does not know.
_WHATWG_LABELS = {
    **dict.fromkeys(("x-sjis", "windows-31j"), "cp932"),
    **dict.fromkeys(("x-euc-jp",), "euc_jp"),
    **dict.fromkeys(("windows-949", "cseuckr"), "cp949"),
    **dict.fromkeys(("x-gbk", "gb_2312-80", "csgb2312"), "gb18030"),
    **dict.fromkeys(("x-x-big5", "cn-big5"), "big5hkscs"),
    **dict.fromkeys(("windows-874", "dos-874"), "cp874"),
    **dict.fromkeys(("iso-8859-8-i", "iso-8859-8-e", "logical", "visual"), "iso8859_8"),
    **dict.fromkeys(("koi", "koi8"), "koi8_r"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac_cyrillic"),
    **dict.fromkeys(("x-mac-roman",), "mac_roman"),
    **dict.fromkeys(("x-mac-ce",), "mac_latin2"),
    **dict.fromkeys(("x-mac-greek",), "mac_greek"),
    **dict.fromkeys(("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8"), "utf-8"),
    **{f"x-cp125{digit}": f"cp125{digit}" for digit in range(9)},
}
# Python codecs that are no charset a page can be written in.
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "undefined", "unicode_escape", "raw_unicode_escape", "utf_7"}
    | {"charmap", "mbcs", "oem"}
)

# ANSI/VT escape sequences (7-bit forms): OSC (ESC ] ... BEL or ST), DCS/SOS/PM/APC strings,
# CSI, and two-character escapes. The 8-bit C1 forms never get this far as controls: ftfy
# turns C1 characters into their windows-1252 letters first, and `_CONTROLS` drops the rest.
_ESCAPES = re.compile(
    r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?      # OSC ... BEL | ST
    | \x1b[PX^_][^\x1b]*(?:\x1b\\)?         # DCS SOS PM APC ... ST
    | \x1b\[[0-?]*[ -/]*[@-~]?              # CSI
    | \x1b[ -/]*[0-~]?                      # other escapes
    """,
    re.VERBOSE,
)
# C0 and C1 controls and DEL, except TAB and LF.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# What mojibake looks like: a C1 character, or a UTF-8 lead byte read as windows-1252 or
# Latin-1 followed by a continuation byte read the same way ("Ã©", "â€™", "Ð¿"), or the
# windows-1251 reading of Cyrillic UTF-8 ("РїСЂ"). Text without any of these skips ftfy.
_CONTINUATION = "\x80-\xbf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_CYRILLIC_CONTINUATION = "ЂЃѓЉЊЌЋЏђљњќћџЎўЈҐЁЄЇІіґёєјЅѕї‚„…†‡€‰‹›‘’“”•–—™\xa0¤¦§©«¬\xad®°±µ¶·№»"
# One character class first, so the regex engine scans fast; the look-behinds then say which.
_MOJIBAKE_HINT = re.compile(
    rf"[\x80-\x9f\xc2-\xf4РС](?:(?<=[\x80-\x9f])|(?<=[\xc2-\xf4])[{_CONTINUATION}]"
    rf"|(?<=[РС])[{_CYRILLIC_CONTINUATION}])"
)
# Charset detection among the Latin code pages (`_best_latin`), in order of preference.
_LATIN_CODEPAGES = (
    *("cp1252", "iso8859_2", "cp1250", "cp1254", "cp1257"),
    *("iso8859_15", "iso8859_16", "mac_roman"),
)
_LATIN_SAMPLE = 20_000
_C1_RANGE = re.compile(rb"[\x80-\x9f]")
# Letters of Greek, Cyrillic, Armenian, Hebrew and Arabic, and such a letter touching a Latin one.
_NON_LATIN_LETTER = re.compile(
    r"[\u0370-\u03ff\u0400-\u052f\u0531-\u0587\u05d0-\u05ea\u0620-\u064a]"
)
_MIXED_SCRIPT = re.compile(
    rf"(?<=[A-Za-z]){_NON_LATIN_LETTER.pattern}|{_NON_LATIN_LETTER.pattern}(?=[A-Za-z])"
)
_ACCENTED_LATIN = re.compile(r"[\xc0-\xd6\xd8-\xf6\xf8-\u024f]")
_ASCII_LETTER = re.compile(r"[A-Za-z]")
# The escape sequences that switch 7-bit ISO-2022 text to JIS X 0208/0212 or KS X 1001.
_ISO2022 = re.compile(rb"\x1b\$[@B(]|\x1b\$\)C")
_BEYOND_ASCII = re.compile(r"[^\x00-\x7f]")
_OTHER_SCRIPTS = re.compile(
    "CYRILLIC|GREEK|ARABIC|HEBREW|CJK|HIRAGANA|KATAKANA|HANGUL|THAI|DEVANAGARI|ARMENIAN|GEORGIAN"
)
_INSIDE_WORDS = frozenset("’‘·‐‑ʼ")
_TYPOGRAPHY = frozenset("‘’‚“”„«»‹›–—…•·€£¥°§©®™¶±×÷¿¡\xa0\xad²³½¼¾")
# The letters beyond ASCII of the Latin-script languages that legacy code pages serve.
_ALPHABETS = {
    lang: frozenset(letters)
    for lang, letters in {
        "en": "éèêëïôüçñæœ",
        "de": "äöüßéèàç",
        "fr": "àâæçéèêëîïôœùûüÿ",
        "es": "áéíóúüñ",
        "ca": "àçèéíïòóúü",
        "gl": "áéíóúüñ",
        "eu": "ñü",
        "pt": "áâãàçéêíóôõúü",
        "it": "àèéìíîòóùú",
        "nl": "áäéèëíïóöüú",
        "af": "áéèêëíîïóôöúûü",
        "sv": "åäöéü",
        "da": "æøåéü",
        "no": "æøåéèóòôü",
        "nb": "æøåéèóòôü",
        "nn": "æøåéèóòôü",
        "is": "áðéíóúýþæö",
        "fi": "äöåšž",
        "et": "äõöüšž",
        "pl": "ąćęłńóśźż",
        "cs": "áčďéěíňóřšťúůýž",
        "sk": "áäčďéíĺľňóôŕšťúýž",
        "sl": "čšžćđ",
        "hr": "čćđšž",
        "bs": "čćđšž",
        "sr": "čćđšž",
        "hu": "áéíóöőúüű",
        "ro": "ăâîșțşţ",
        "tr": "çğıöşüâîû",
        "lv": "āčēģīķļņšūž",
        "lt": "ąčęėįšųūž",
        "sq": "çë",
        "ga": "áéíóú",
    }.items()
}
_ANY_ALPHABET = frozenset().union(*_ALPHABETS.values())
# CJK code pages tried strictly when charset-normalizer finds nothing.
_CJK_CODEPAGES = ("cp932", "euc_jp", "gb18030", "big5hkscs", "cp949")
_REPAIR_CHUNK = 65536  # ftfy works on line-aligned pieces of about this size


class BinaryFile(ValueError):
    """Bytes that are not text; the message says why."""


# Binary detection ---------------------------------------------------------------------------
def _bom_encoding(data: bytes) -> str | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _wide_encoding(sample: bytes) -> str | None:
    """UTF-32 or UTF-16 (LE or BE) recognised without a BOM, by where the zero bytes fall and a
    strict trial decode; None when the sample is not one of them."""
    n = len(sample)
    if n < 4:
        return None
    cut4 = sample[: n - n % 4]
    # UTF-32: every code point is below 0x110000, so one byte of four is always zero and
    # the next at most 0x10.
    if cut4 and not cut4[3::4].strip(b"\x00") and max(cut4[2::4]) <= 0x10:
        candidates = ["utf-32-le"]
    elif cut4 and not cut4[0::4].strip(b"\x00") and max(cut4[1::4]) <= 0x10:
        candidates = ["utf-32-be"]
    else:
        cut2 = sample[: n - n % 2]
        zeros = max(cut2[0::2].count(0), cut2[1::2].count(0))
        # A stray NUL in UTF-8 text is too rare to count: at least 1% of the code units.
        if zeros < max(2, len(cut2) // 200):
            return None
        # Both byte orders: CJK text has few ASCII zeros and some of its own ("一" is U+4E00).
        candidates = ["utf-16-le", "utf-16-be"]
    best, best_share = None, _MIN_COMMON_SHARE
    for encoding in candidates:
        unit = 4 if "32" in encoding else 2
        try:
            text = sample[: n - n % unit].decode(encoding)
        except UnicodeDecodeError:
            # A trial cut may split a surrogate pair: retry one unit shorter.
            try:
                text = sample[: n - n % unit - 2].decode(encoding)
            except UnicodeDecodeError:
                continue
        if not text:
            continue
        # Text read in the right byte order stays in a few common scripts; the wrong order
        # scatters over the whole plane ("\0\1\2\3" is "ĀȂ" one way, controls the other).
        share = len(_COMMON_CHARS.findall(text)) / len(text)
        if share >= best_share:
            best, best_share = encoding, share
    return best


def binary_reason(data: bytes) -> str | None:
    """Why `data` is not text ("PNG image", "many NUL bytes", ...), or None when it is text.

    Real signals only: a known binary signature, a share of NUL bytes that no UTF-16/32 text
    explains, or many control bytes. A stray NUL in a text file does not make it binary.
    """
    if _bom_encoding(data):
        return None
    for signature, kind in _SIGNATURES:
        if data.startswith(signature):
            return kind
    if data[:4] == b"RIFF" and data[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[data[8:12]]
    sample = data[:_SNIFF_BYTES]
    if sample.isascii() and _ISO2022.search(sample) and _iso2022(data) is not None:
        return None  # ISO-2022 shifts with SO/SI and ESC: control bytes of a text
    nuls = sample.count(0)
    if nuls and _wide_encoding(sample):
        return None
    if nuls > len(sample) * _MAX_NUL_SHARE:
        return "many NUL bytes"
    controls = sample.translate(_CONTROL_TABLE).count(0)
    if controls > len(sample) * _MAX_CONTROL_SHARE:
        return "many control bytes"
    return None


def is_binary(data: bytes) -> bool:
    """True for data that is not text (see `binary_reason`)."""
    return binary_reason(data) is not None


# Decoding ------------------------------------------------------------------------------------
def _codec(name: bytes | str) -> str | None:
    """The Python codec for a declared charset name, or None when it is unknown or not a
    charset at all (a page may name "base64", "rot13" or "utf-7": those are ignored)."""
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    name = name.strip().lower()
    try:
        info = codecs.lookup(_WHATWG_LABELS.get(name, name))
    except LookupError:
        return None
    codec = info.name.replace("-", "_")
    if not getattr(info, "_is_text_encoding", True) or codec in _NOT_CHARSETS:
        return None
    return _WHATWG_ALIASES.get(codec, info.name)


def declared_encoding(data: bytes) -> str | None:
    """The charset that an XML declaration or an HTML `<meta>` in the first bytes names."""
    head = data[:4096]
    found = _XML_DECLARATION.match(head) or _META_CHARSET.search(head)
    if not found:
        return None
    codec = _codec(found.group(1))
    if codec and codec.startswith(("utf-16", "utf-32")):
        return "utf-8"  # an ASCII-readable declaration cannot be in UTF-16 (the HTML rule)
    return codec


def _windows_1252_bytes(error: UnicodeError) -> tuple[str, int]:
    """A decoding error handler: bytes that are no UTF-8 read as windows-1252 (U+FFFD for its
    five unused bytes)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = bytes(error.object[error.start : error.end])
    return "".join(_WINDOWS_1252_LETTERS.get(byte, "\ufffd") for byte in bad), error.end


# Bytes 0x80-0xFE as windows-1252 reads them; not 0xC2 and 0xC3 (alone, they are far more
# often a UTF-8 character cut short than "Â" or "Ã") nor 0xFF ("ÿ": corruption).
_WINDOWS_1252_LETTERS = {
    byte: char
    for byte in range(0x80, 0xFF)
    if byte not in (0xC2, 0xC3)
    and (char := bytes([byte]).decode("cp1252", errors="replace")) != "\ufffd"
}


codecs.register_error("reader-windows-1252", _windows_1252_bytes)


def _utf8_with_few_errors(data: bytes) -> str | None:
    """`data` as UTF-8 with its few bad bytes read as windows-1252 (a UTF-8 text with a
    pasted Windows apostrophe, 0x92, or a Latin-1 "é": mixed files are common), or None when
    it does not look like UTF-8 (too many bad bytes, or fewer well-formed non-ASCII characters
    than bad bytes)."""
    text = data.decode("utf-8", errors="replace")
    bad = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    if bad > _MAX_BAD_UTF8:
        return None
    good = len(text) - len(text.encode("ascii", "ignore")) - text.count("\ufffd")
    if good < bad:
        return None
    return data.decode("utf-8", errors="reader-windows-1252") if bad else text


def _is_latin(text: str) -> bool:
    """Whether no letter of `text` (of the first 2,000 beyond ASCII) belongs to a script
    other than Latin (a wrong Latin reading may hold "ª", "µ" or "ˆ": still Latin)."""
    letters = islice((ch for ch in text if ch > "\x7f" and ch.isalpha()), 2000)
    return not any(_OTHER_SCRIPTS.search(unicodedata.name(ch, "")) for ch in letters)


def _glued_symbols(text: str) -> int:
    """What a wrong code page makes of letters inside words: a capital after a small letter
    ("kŠsitys", "sillŠ"), a symbol touching a letter ("yksil‰", "€ideill", "Ninguˇm"), a
    dash or quote between two letters ("educaci—n"). Real text holds few of these."""
    count = 0
    for found in _BEYOND_ASCII.finditer(text):
        char, at = found.group(), found.start()
        before = text[at - 1] if at else " "
        after = text[at + 1] if at + 1 < len(text) else " "
        if char.isalpha():
            count += char.isupper() and before.islower()
        elif char in _INSIDE_WORDS or unicodedata.category(char).startswith(("M", "Z")):
            continue
        elif unicodedata.category(char).startswith(("S", "Po")):
            count += before.isalpha() or after.isalpha()
        else:
            count += before.isalpha() and after.isalpha()
    return count


def _expected_share(text: str, letters: frozenset[str]) -> float:
    """The share of the characters beyond ASCII in `text` that are among `letters` (either
    case) or typographic punctuation."""
    counts = Counter(ch for ch in text if ch > "\x7f")
    total = sum(counts.values())
    if not total:
        return 1.0
    expected = sum(n for ch, n in counts.items() if ch.lower() in letters or ch in _TYPOGRAPHY)
    return expected / total


def _best_latin(data: bytes, first_choice: str, reading: str) -> str | None:
    """The Latin code page that reads `data` best, or None when none of them reads it.

    charset-normalizer confuses the Latin code pages on short texts and on texts with few
    letters beyond ASCII (Spanish "niños" read as cp1250 "nińos", Finnish as hp_roman8 or
    mac_iceland, ISO-8859-2 Czech as cp1250). Each common code page reads the text, and the
    readings are ranked by: letters mangled inside words (fewest first); then the share of
    characters beyond ASCII that the alphabet of a likely language holds (the languages the
    model sees in the ASCII letters, which all readings share, and in charset-normalizer's
    reading), that of the language the ASCII letters make clear first; ties go to
    charset-normalizer's choice, then to the commoner code page.
    ISO-8859 readings are out when bytes 0x80-0x9F (C1 controls there) occur.
    """
    from reader.core.documents.language import probabilities

    head = data[:_LATIN_SAMPLE]
    sample = reading[:_LATIN_SAMPLE]
    in_ascii = probabilities(sample.encode("ascii", "ignore").decode(), k=3)
    langs = dict.fromkeys([*in_ascii, *probabilities(sample, k=1)])
    alphabets = [_ALPHABETS[lang] for lang in langs if lang in _ALPHABETS] or [_ANY_ALPHABET]
    # The language the ASCII letters make clear comes first.
    main = next((lang for lang, p in in_ascii.items() if p >= 0.5 and lang in _ALPHABETS), None)
    main_letters = _ALPHABETS[main] if main else None
    has_c1 = _C1_RANGE.search(head) is not None
    order = [first_choice, *(c for c in _LATIN_CODEPAGES if c != first_choice)]
    ranked = []
    for rank, codec in enumerate(order):
        if codec not in _LATIN_CODEPAGES or (has_c1 and codec.startswith("iso")):
            continue
        try:
            text = head.decode(codec)
        except UnicodeDecodeError:
            continue
        share = max(_expected_share(text, letters) for letters in alphabets)
        main_share = _expected_share(text, main_letters) if main_letters else share
        ranked.append((_glued_symbols(text), -round(main_share, 3), -round(share, 3), rank, codec))
    return min(ranked)[-1] if ranked else None


def _detect_charset(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return _strict_cjk(data)
    reading = str(best)
    if not _is_latin(reading[:_LATIN_SAMPLE]):
        return reading
    chosen = _codec_id(best.encoding)
    codec = _best_latin(data, chosen, reading)
    return reading if codec is None or codec == chosen else data.decode(codec)


def _codec_id(name: str) -> str:
    """A codec's canonical Python name with underscores ("iso8859_2", "mac_roman")."""
    try:
        return codecs.lookup(name).name.replace("-", "_")
    except LookupError:
        return name


def _strict_cjk(data: bytes) -> str | None:
    """`data` read strictly by the one CJK code page that decodes it whole, if exactly one
    does (charset-normalizer gives up on some Shift-JIS pages with vendor characters)."""
    fits = []
    for codec in _CJK_CODEPAGES:
        try:
            fits.append(data.decode(codec))
        except UnicodeDecodeError:
            continue
    return fits[0] if len(fits) == 1 else None


def _iso2022(data: bytes) -> str | None:
    """7-bit ISO-2022 text (Japanese mail and old pages, Korean) read by the codec its escape
    sequences name, or None when they do not read as one."""
    codec = "iso2022_kr" if b"\x1b$)C" in data else "iso2022_jp_2"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _read_declared(data: bytes, declared: str) -> str | None:
    """`data` read by its declared charset: strictly, else by the charset's Windows superset
    (Shift_JIS pages with NEC characters), else with bad bytes replaced."""
    try:
        return data.decode(declared)
    except UnicodeDecodeError:
        superset = _SUPERSETS.get(_codec_id(declared))
        if superset is not None:
            return data.decode(superset, errors="replace")
    except (LookupError, UnicodeError):
        return None
    try:
        return data.decode(declared, errors="replace")
    except (LookupError, UnicodeError):  # a codec that cannot decode with replacement
        return None


def _implausible(text: str) -> bool:
    """Whether a reading of a page is no real text: its words mix Latin letters with those of
    another script ("dйfendu": a cp1252 page read as windows-1251), or most of its Latin
    letters are accented ("ïðåçèäåíò": a windows-1251 page read as windows-1252)."""
    sample = text[:_LATIN_SAMPLE]
    other = len(_NON_LATIN_LETTER.findall(sample))
    if other and len(_MIXED_SCRIPT.findall(sample)) > other * 0.1:
        return True
    accented = len(_ACCENTED_LATIN.findall(sample))
    return accented >= 20 and accented > len(_ASCII_LETTER.findall(sample)) * 0.5


def decode(data: bytes) -> str:
    """Decode bytes (see the module doc for the order); never fails. Stray NULs are dropped."""
    bom = _bom_encoding(data)
    if bom:
        return data.decode(bom, errors="replace")
    if b"\x00" in data:
        wide = _wide_encoding(data[:_SNIFF_BYTES])
        if wide:
            return data.decode(wide, errors="replace")
        data = data.replace(b"\x00", b"")
    declared = declared_encoding(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    fallback = None
    if declared and declared != "utf-8":
        # A declared single-byte charset loses to bytes that are valid UTF-8 beyond ASCII
        # (a page saved as UTF-8 that kept its old declaration), and to the detected one when
        # it reads as no text does (a cp1252 page that says windows-1251: "dйfendu").
        if text is not None and not text.isascii():
            return text
        fallback = _read_declared(data, declared)
        if fallback is not None and not _implausible(fallback):
            return fallback
    if text is not None:
        if text.isascii() and _ISO2022.search(data):
            return _iso2022(data) or text
        return text
    text = _utf8_with_few_errors(data)
    if text is not None:
        return text
    detected = _detect_charset(data)
    if detected is not None:
        return detected
    if fallback is not None:
        return fallback
    return data.decode("utf-8", errors="reader-windows-1252")


# Cleaning ------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _ftfy_config():
    import ftfy

    # ftfy's defaults, less the changes that alter correct text: quotes keep their curls,
    # full-width letters their width, HTML entities are the format readers' business, and
    # U+2029 must survive as a paragraph break (clean_text maps the line separators).
    return ftfy.TextFixerConfig(
        unescape_html=False,
        uncurl_quotes=False,
        fix_character_width=False,
        fix_line_breaks=False,
        explain=False,
    )


def repair(text: str) -> str:
    """Mojibake and C1 characters repaired with ftfy ("SchÃ¶n" -> "Schön", U+0093 -> "“").

    Text that shows no sign of either is returned as it is (ftfy costs time per line); long
    text is fixed in line-aligned pieces, so a mix of good and bad lines is fixed line-wise.
    """
    if text.isascii() or not _MOJIBAKE_HINT.search(text):
        return text
    import ftfy

    config = _ftfy_config()
    out = []
    pos = 0
    while pos < len(text):
        end = text.find("\n", pos + _REPAIR_CHUNK)
        end = len(text) if end < 0 else end + 1
        out.append(ftfy.fix_text_segment(text[pos:end], config))
        pos = end
    return "".join(out)


_CONTROL_REFERENCE = re.compile(r"&#(?:0*(\d{1,3})|[xX]0*([0-9a-fA-F]{1,2}));")


def strip_markup_escapes(markup: str) -> str:
    """HTML with its terminal escape sequences taken out before it is parsed, also those
    written as character references (`&#27;]0;title&#7;`): the parser would drop the ESC and
    keep the rest of the sequence as text."""
    if "&#" in markup:
        markup = _CONTROL_REFERENCE.sub(_control_reference, markup)
    if "\x1b" not in markup:
        return markup
    return _ESCAPES.sub("", markup)


def _control_reference(found: re.Match[str]) -> str:
    code = int(found.group(1)) if found.group(1) else int(found.group(2), 16)
    return chr(code) if code in (0x07, 0x1B) else found.group(0)


def clean_text(text: str) -> str:
    """LF line ends, mojibake repaired, no escape sequences or control characters (TAB and
    LF kept), NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\ufeff", "")
    text = _ESCAPES.sub("", text)
    text = repair(text)
    text = _CONTROLS.sub("", text)
    return unicodedata.normalize("NFC", text)
