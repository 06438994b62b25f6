"""The document model: a clean text with paragraphs and sentences as code-point spans."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

LOW_CONFIDENCE = 0.5  # below this the detected language is shown as uncertain (`en?`)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence: `text[start:end]` of its document. `index` counts across the document."""

    start: int
    end: int
    index: int
    paragraph: int


@dataclass(frozen=True, slots=True)
class Paragraph:
    """A paragraph: `text[start:end]` of its document, with its sentences in order."""

    start: int
    end: int
    index: int
    sentences: tuple[Sentence, ...]


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the library list, the index and the exports need, without the text.

    `path` is a plain string: building 20,000 Path objects would slow every rescan.
    """

    id: str
    path: str
    title: str
    lang: str
    date: str | None
    author: str | None
    sha256: str
    paragraphs: int
    sentences: int
    url: str | None = None
    site: str | None = None
    lang_confidence: float | None = None

    @property
    def lang_uncertain(self) -> bool:
        """Whether the detected language is a guess (low confidence); see `language.py`."""
        return self.lang_confidence is not None and self.lang_confidence < LOW_CONFIDENCE

    def to_json(self) -> dict:
        """The `reader docs --json` shape of one document."""
        return {
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "lang": self.lang,
            "date": self.date,
            "author": self.author,
            "paragraphs": self.paragraphs,
            "sentences": self.sentences,
            "url": self.url,
            "site": self.site,
        }


@dataclass(frozen=True, slots=True)
class Document:
    """A clean document: NFC text with LF line ends, no control characters.

    `id` is the path relative to the corpus root, with forward slashes.
    Paragraphs are separated by a blank line in `text`.
    """

    id: str
    path: Path
    title: str
    lang: str
    date: str | None
    author: str | None
    text: str
    sha256: str
    paragraphs: tuple[Paragraph, ...]
    sentences: tuple[Sentence, ...] = field(repr=False)
    url: str | None = None  # the citation: canonical link, og:url or front matter `url`
    site: str | None = None  # the outlet: og:site_name, trafilatura's sitename or `site`
    lang_confidence: float | None = None  # the language detector's score; None when declared

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence holding `offset`, or the nearest one after it."""
        for sentence in self.sentences:
            if offset < sentence.end:
                return sentence
        return self.sentences[-1] if self.sentences else None

    @property
    def info(self) -> DocumentInfo:
        """The document's metadata, without the text."""
        return DocumentInfo(
            id=self.id,
            path=str(self.path),
            title=self.title,
            lang=self.lang,
            date=self.date,
            author=self.author,
            sha256=self.sha256,
            paragraphs=len(self.paragraphs),
            sentences=len(self.sentences),
            url=self.url,
            site=self.site,
            lang_confidence=self.lang_confidence,
        )


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file left out of the corpus, and why."""

    path: Path
    reason: str

    def to_json(self) -> dict:
        return {"path": str(self.path), "reason": self.reason}
