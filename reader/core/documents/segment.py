"""Paragraphs and sentences, with code-point offsets into the clean text.

Sentences come from sentencex, which never splits inside quotation marks. So a paragraph
with quotation marks goes to sentencex with them masked (replaced by spaces, offsets kept),
and a boundary is kept only where a sentence-final mark ends the text before it, the text
after it does not start in lower case (`"Why?" he asked` stays one sentence) and it does
not follow an initial (`M. Dupont`). An opening quote goes with the sentence it opens.
One sentencex call per paragraph, as before. `bench/sentences.py` compares this with
sentencex alone and syntok on a hand-checked reference in five languages.
"""

from __future__ import annotations

import itertools
import re

from reader.core.documents.model import Paragraph, Sentence

PARAGRAPH_SEPARATOR = "\n\n"
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
_STRUCTURAL_LINE = re.compile(r"^(#{1,6}\s|[-*+>]\s|\d{1,3}[.)]\s|\|)")
# A wire story's byline ("By JANE DOE", "Von Anna Schmidt"): a line of its own, never the
# end of the headline above it nor the start of the paragraph below.
_BYLINE_LINE = re.compile(
    r"^(?i:by|von|par|por|di|door)\s+(?:(?:[A-ZÀ-Þ][\w.'’-]*|and|und|et|y|e)\s*){1,7}(?<=\w)$"
)
_WRAP_MIN, _WRAP_MAX = 55, 100  # hard-wrapped text has lines of about this width
_WRAP_FILL = 0.6  # and each line but the last fills at least this share of the width
_SENTENCE_END = re.compile(r"[.!?…:;\"»”’)]\s*$")
_HYPHENATED = re.compile(r"\w-$")

# Quotation marks masked for the second pass (apostrophes are left alone: they are letters
# inside words far more often than quotes).
QUOTES = '"«»„“”‟‹›「」『』〝〞＂'
_QUOTE_RE = re.compile(f"[{QUOTES}]")
_OPENERS = set('"«»„“‟‹›「『〝＂([¿¡')  # » and › open quotations in Danish and German
_SPACED_OPENERS = set("«‹")  # French and others put a (no-break) space after these
_SPACES = " \u00a0\u202f"
_LEADING = "".join(_OPENERS) + _SPACES + "—–-"
_JA_QUOTATIVE = re.compile("[\u3041-\u309f]")  # hiragana: a particle, not a new sentence
_INITIAL = re.compile(r"(?:^|[\s(])\w\.\s*\Z")  # `M. `, `J. ` (a letter, a dot, spaces)
# A sentence-final mark, then closing quotes or brackets, then spaces: the end of the text
# before a boundary.
_FINAL = re.compile(f"[.!?…。！？؟।][{QUOTES})\\]’'\\s\u00a0\u202f]*\\Z")


def _width(line: str) -> int:
    return len(line.expandtabs(8).rstrip())


def _wrap_width(lines: list[str]) -> int | None:
    """The column a block's lines were wrapped at, or None when it is not hard-wrapped.

    Hard-wrapped: the widest line is 55-100 columns, at least half the lines fill 60% of it,
    most of those full lines end inside a sentence (a text with one paragraph per line ends
    nearly every line with a full stop), and in mixed-case text a quarter of the lines go on
    in lower case (a list of headlines starts every line in upper case).
    """
    if len(lines) < 2:
        return None
    width = max(_width(line) for line in lines)
    if not _WRAP_MIN <= width <= _WRAP_MAX:
        return None
    full = [line for line in lines[:-1] if _width(line) >= _WRAP_FILL * width]
    if len(full) < max(1, (len(lines) - 1) / 2):
        return None
    ends = sum(1 for line in full if _SENTENCE_END.search(line))
    if ends > len(full) / 2:
        return None
    firsts = [c for line in lines[1:] if (c := line.lstrip()[:1]).isupper() or c.islower()]
    lower = sum(1 for c in firsts if c.islower())
    if len(firsts) >= 3 and lower < len(firsts) / 4 and any(c.islower() for c in lines[0]):
        return None
    return width


def _join(lines: list[str]) -> str:
    """Wrapped lines as one line: joined by a space; a word hyphenated at a line end
    (`well-` + `known`) is joined without one."""
    out = lines[0]
    for line in lines[1:]:
        if _HYPHENATED.search(out) and line[:1].islower():
            out += line
        else:
            out += " " + line
    return out


def _unwrap(lines: list[str], width: int) -> list[str]:
    """The paragraphs of a hard-wrapped block: a paragraph starts at an indented line, after
    a short line (its last line) unless the line goes on in lower case, and at a heading or
    list line."""
    indent = min(len(line) - len(line.lstrip()) for line in lines)
    paragraphs: list[list[str]] = []
    previous = ""
    for raw in lines:
        line = raw.strip()
        indented = len(raw) - len(raw.lstrip()) > indent
        structural = bool(_STRUCTURAL_LINE.match(line) or _BYLINE_LINE.match(line))
        if (
            not paragraphs
            or indented
            or structural
            or _STRUCTURAL_LINE.match(previous)
            or _BYLINE_LINE.match(previous.strip())
            or (_width(previous) < _WRAP_FILL * width and not line[:1].islower())
        ):
            paragraphs.append([line])
        else:
            paragraphs[-1].append(line)
        previous = raw
    return [_join(group) for group in paragraphs]


def layout_paragraphs(text: str) -> list[str]:
    """Split clean text into paragraph strings, one line each.

    Blocks are separated by blank lines. A hard-wrapped block (wire copy wrapped at about 60
    columns) is unwrapped: its paragraphs are marked by an indented first line or a short last
    line, and a line break inside a paragraph becomes a space, so no sentence ends at it.
    In any other block each line is a paragraph (texts with one line per paragraph).
    """
    paragraphs: list[str] = []
    for block in _BLANK_LINES.split(text):
        lines = [line.rstrip() for line in block.split("\n") if line.strip()]
        width = _wrap_width(lines)
        if width:
            paragraphs.extend(_unwrap(lines, width))
        else:
            paragraphs.extend(line.strip() for line in lines)
    return paragraphs


def _sentencex_lang(lang: str) -> str:
    return lang if lang and lang != "und" else "en"


def _starts(text: str, lang: str) -> list[int]:
    """Where sentencex starts a sentence in `text`, after the first one (offsets into `text`)."""
    import sentencex

    pieces = sentencex.segment(_sentencex_lang(lang), text)
    starts: list[int] = []
    if sum(map(len, pieces)) == len(text):  # the pieces cover the text, as they do
        offset = 0
        for piece in pieces:
            lead = len(piece) - len(piece.lstrip())
            if offset and lead < len(piece):
                starts.append(offset + lead)
            offset += len(piece)
        return starts
    cursor = 0
    for piece in pieces:
        stripped = piece.strip()
        start = text.find(stripped, cursor) if stripped else -1
        if start < 0:  # the splitter changed the text: keep the rest as one sentence
            break
        if start > 0 and text[:start].strip():
            starts.append(start)
        cursor = start + len(stripped)
    return starts


def _own_start(text: str, start: int) -> int:
    """`start` moved back over the opening quotes (and the space after `«`) before it: an
    opening quote belongs to the sentence it opens."""
    i = start
    while i > 0:
        if text[i - 1] in _OPENERS:
            i -= 1
            start = i
        elif text[i - 1] in _SPACES and i > 1 and text[i - 2] in _SPACED_OPENERS:
            i -= 1
        else:
            break
    return start


def _keep(text: str, start: int) -> bool:
    """False for a boundary that no sentence starts at: before a lower-case letter (`"Why?"
    he asked`) or a Japanese particle after a quote, or after an initial or a one-letter
    abbreviation (`M. Dupont`, `J. Smith`)."""
    first = text[start : start + 16].lstrip(_LEADING)[:1]
    if first.islower():
        return False
    if _JA_QUOTATIVE.match(first) and text[:start].rstrip().endswith(("」", "』")):
        return False  # 「…。」と述べた: a Japanese particle after the quote goes on
    return not _INITIAL.search(text, max(0, start - 16), start)


def split_sentences(paragraph: str, lang: str) -> list[tuple[int, int]]:
    """Sentence spans `[start, end)` within `paragraph`, stripped of surrounding spaces.

    With quotation marks in the paragraph, sentencex sees them masked (so it also splits
    inside quotations) and a boundary is kept only after a sentence-final mark.
    """
    if not paragraph.strip():
        return []
    quoted = _QUOTE_RE.search(paragraph) is not None
    text = _QUOTE_RE.sub(" ", paragraph) if quoted else paragraph
    starts = {0}
    for start in _starts(text, lang):
        if quoted and not _FINAL.search(paragraph, max(0, start - 40), start):
            continue
        if _keep(paragraph, start):
            starts.add(_own_start(paragraph, start))
    cuts = [*sorted(starts), len(paragraph)]
    spans: list[tuple[int, int]] = []
    for a, b in itertools.pairwise(cuts):
        piece = paragraph[a:b]
        lead = len(piece) - len(piece.lstrip())
        end = a + len(piece.rstrip())
        if a + lead < end:
            spans.append((a + lead, end))
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
