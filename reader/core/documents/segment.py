"""Paragraphs and sentences, with code-point offsets into the clean text."""

from __future__ import annotations

import re
from collections.abc import Iterable

from reader.core.documents.model import Paragraph, Sentence

PARAGRAPH_SEPARATOR = "\n\n"
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_STRUCTURAL_LINE = re.compile(r"^(#{1,6}\s|[-*+>]\s|\d{1,3}[.)]\s|\|)")
_WRAP_MIN, _WRAP_MAX = 55, 100  # hard-wrapped text has lines of about this width
_WRAP_FILL = 0.6  # and each line but the last fills at least this share of the width


def _is_hard_wrapped(lines: list[str]) -> bool:
    """True when a block's lines look like one paragraph wrapped at a fixed width."""
    if len(lines) < 2 or any(_STRUCTURAL_LINE.match(line) for line in lines):
        return False
    width = max(len(line) for line in lines[:-1])
    if not _WRAP_MIN <= width <= _WRAP_MAX or len(lines[-1]) > width + 5:
        return False
    return all(len(line) >= _WRAP_FILL * width for line in lines[:-1])


def layout_paragraphs(text: str) -> list[str]:
    """Split clean text into paragraph strings, one line each.

    Blocks are separated by blank lines. A hard-wrapped block is unwrapped into one paragraph;
    in any other block each line is a paragraph (texts with one line per paragraph).
    """
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [line.strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if _is_hard_wrapped(lines):
            paragraphs.append(" ".join(lines))
        else:
            paragraphs.extend(lines)
    return paragraphs


def _sentencex_lang(lang: str) -> str:
    return lang if lang and lang != "und" else "en"


def split_sentences(paragraph: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans `[start, end)` within `paragraph`, stripped of surrounding spaces."""
    import sentencex

    spans: list[tuple[int, int]] = []
    cursor = 0
    try:
        pieces: Iterable[str] = sentencex.segment(_sentencex_lang(lang), paragraph)
        pieces = list(pieces)
    except Exception:  # an unknown language or a splitter bug: the paragraph is one sentence
        pieces = [paragraph]
    for piece in pieces:
        piece = piece.strip()
        if not piece:
            continue
        start = paragraph.find(piece, cursor)
        if start < 0:  # the splitter changed the text: keep the rest as one sentence
            break
        spans.append((start, start + len(piece)))
        cursor = start + len(piece)
    rest = paragraph[cursor:]
    if rest.strip():
        lead = len(rest) - len(rest.lstrip())
        spans.append((cursor + lead, len(paragraph.rstrip())))
    return spans


def assemble(paragraph_texts: list[str], lang: str) -> tuple[str, tuple[Paragraph, ...]]:
    """Join paragraphs with blank lines; return the text and its paragraphs with sentences."""
    paragraphs: list[Paragraph] = []
    sentence_index = 0
    offset = 0
    parts: list[str] = []
    for p_index, para in enumerate(paragraph_texts):
        if p_index:
            parts.append(PARAGRAPH_SEPARATOR)
            offset += len(PARAGRAPH_SEPARATOR)
        sentences = []
        for start, end in split_sentences(para, lang):
            sentences.append(Sentence(offset + start, offset + end, sentence_index, p_index))
            sentence_index += 1
        paragraphs.append(Paragraph(offset, offset + len(para), p_index, tuple(sentences)))
        parts.append(para)
        offset += len(para)
    return "".join(parts), tuple(paragraphs)
