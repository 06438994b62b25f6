"""Synthetic large documents for the app (built directly, so the view is measured, not
the reading of the file): a 10 MB article, a 5 MB single line, a million lines."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reader.core.documents.model import Document, Paragraph, Sentence

WORDS = [
    *("the", "council", "said", "on", "monday", "that", "the"),
    *("new", "budget", "would", "fund", "schools", "and", "roads"),
]


def _sentence(i: int, length: int) -> str:
    words, size, k = [], 0, i
    while size < length - 1:
        word = WORDS[k % len(WORDS)]
        words.append(word)
        size += len(word) + 1
        k += 7
    return " ".join(words).capitalize()[: length - 1] + "."


def build(doc_id: str, paragraphs: list[list[str]], separator: str = "\n\n") -> Document:
    """A Document from paragraphs of sentences (joined by spaces; paragraphs by `separator`)."""
    parts: list[str] = []
    paras: list[Paragraph] = []
    sentences: list[Sentence] = []
    at = 0
    for p_index, paragraph in enumerate(paragraphs):
        if p_index:
            parts.append(separator)
            at += len(separator)
        start = at
        mine = []
        for s_index, sentence in enumerate(paragraph):
            if s_index:
                parts.append(" ")
                at += 1
            parts.append(sentence)
            item = Sentence(at, at + len(sentence), len(sentences), p_index)
            sentences.append(item)
            mine.append(item)
            at += len(sentence)
        paras.append(Paragraph(start, at, p_index, tuple(mine)))
    text = "".join(parts)
    sha = hashlib.sha256(text.encode()).hexdigest()
    return Document(
        doc_id, Path(doc_id), "A large document", "en", None, None, text, sha,
        tuple(paras), tuple(sentences),
    )  # fmt: skip


def ten_megabytes() -> Document:
    """20,000 paragraphs of five 100-character sentences."""
    sentences = [_sentence(i, 100) for i in range(50)]
    paragraphs = [[sentences[(p + j) % 50] for j in range(5)] for p in range(20_000)]
    return build("big.txt", paragraphs)


def single_line(size: int = 5_000_000, spaces: bool = True) -> Document:
    """One paragraph, one sentence of `size` characters (words, or none at all)."""
    if spaces:
        text = (_sentence(1, 1000)[:-1] + " ") * (size // 1000)
        text = text[: size - 1] + "."
    else:
        text = "x" * size
    return build("line.txt", [[text]])


def million_lines(lines: int = 1_000_000) -> Document:
    """A log: one short sentence per line, lines as paragraphs separated by newlines."""
    return build("log.txt", [[f"Line {i} of a long log."] for i in range(lines)], "\n")
