"""The story map: every claim, oldest first appearance first, with the passages that answer or
frame it, from any document and language. Shared by the app's story map, the `memo` and
`claimreview` exports and `reader tags cite`.

Grouping (what goes under a claim):
- a rebuttal or context passage **linked** to the claim (either way round: the rebuttal's link
  to the claim, or a link from the claim to it);
- a rebuttal or context passage linked to **no** claim that **shares a label** with the claim
  (relation "label"): labels group passages beyond the links. Such a passage goes under the
  first claim (in the order below) that carries one of its labels, once, not under every
  claim of a big label;
- a linked passage sits under each claim it is linked to (a rebuttal answering two claims).
Rebuttals come before context; each by its document's date, then when it was tagged.
Passages tied to no claim are `loose`; orphaned tags (their passage is gone) are never placed
under a claim and are listed in `orphaned`, with their old quotes.

Ordering of claims: by the date of their document (undated documents last), then by when the
claim was tagged. Filters (`StoryFilter`): the verdict filters on the claim's verdict; the
language, document, label and text filters keep a claim when the claim or any passage under it
matches, and show the whole group (a rebuttal in French keeps its English claim in view).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from reader.core.documents import corpus_of
from reader.core.errors import ReaderError
from reader.core.tags.model import CLAIM, CONTEXT, ORPHANED, REBUTTAL

if TYPE_CHECKING:
    from reader.core.exchange.records import Record
    from reader.core.workspace import Workspace

LINKED = "linked"
SAME_LABEL = "label"

VERDICT_NAMES: dict[str, str] = {
    "true": "True",
    "mostly-true": "Mostly true",
    "mixed": "Mixed",
    "mostly-false": "Mostly false",
    "false": "False",
    "unproven": "Unproven",
    "not-rated": "Not rated",
}


def verdict_name(verdict: str | None) -> str:
    """`mostly-false` -> `Mostly false` (readers' words for a verdict)."""
    return VERDICT_NAMES.get(verdict or "not-rated", str(verdict))


@dataclass(frozen=True)
class Passage:
    """A passage under a claim, and why it is there (`linked` or `label`)."""

    record: Record
    relation: str = LINKED


@dataclass(frozen=True)
class ClaimGroup:
    """A claim with its rebuttals and context passages."""

    claim: Record
    rebuttals: tuple[Passage, ...] = ()
    context: tuple[Passage, ...] = ()

    @property
    def passages(self) -> tuple[Passage, ...]:
        return self.rebuttals + self.context

    def records(self) -> list[Record]:
        return [self.claim, *(p.record for p in self.passages)]


@dataclass
class Story:
    """The claims in order, the passages tied to no claim, and the orphaned tags."""

    claims: list[ClaimGroup] = field(default_factory=list)
    loose: list[Record] = field(default_factory=list)
    orphaned: list[Record] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.claims or self.loose or self.orphaned)


@dataclass(frozen=True)
class StoryFilter:
    """What the story map shows; None (or "") means no filter on that field."""

    verdict: str | None = None
    lang: str | None = None
    doc_id: str | None = None
    label: str | None = None
    text: str | None = None

    def __bool__(self) -> bool:
        return any((self.verdict, self.lang, self.doc_id, self.label, self.text))

    def matches(self, record: Record) -> bool:
        """Whether one passage passes the language, document, label and text filters."""
        ann = record.ann
        if self.lang and record.lang != self.lang:
            return False
        if self.doc_id and record.doc_id != self.doc_id:
            return False
        if self.label and self.label.lstrip("#").lower() not in (ann.labels or ()):
            return False
        if self.text:
            needle = self.text.casefold()
            haystack = (
                ann.exact,
                ann.note or "",
                record.translation or "",
                record.title or "",
                record.site or "",
                " ".join(ann.labels or ()),
            )
            if not any(needle in part.casefold() for part in haystack):
                return False
        return True


def _order(record: Record) -> tuple[bool, str, str, int]:
    """Oldest first appearance first: the document's date (undated last), then tag time."""
    return (not record.date, record.date or "", record.ann.created, record.ann.start)


def build(records: Iterable[Record]) -> Story:
    """Group `records` (exchange.records.Record) into the story map (see the module doc)."""
    records = list(records)
    live = [r for r in records if r.ann.status != ORPHANED]
    story = Story(orphaned=sorted((r for r in records if r.ann.status == ORPHANED), key=_order))
    claims = sorted((r for r in live if r.ann.tag == CLAIM), key=_order)
    claim_ids = {r.ann.id for r in claims}
    others = [r for r in live if r.ann.tag != CLAIM]
    # Links either way round: what each claim is tied to.
    tied: dict[str, set[str]] = {cid: set() for cid in claim_ids}
    for record in others:
        for target in record.ann.links:
            if target in tied:
                tied[target].add(record.ann.id)
    for claim in claims:
        tied[claim.ann.id].update(claim.ann.links)
    linked_somewhere = {rid for ids in tied.values() for rid in ids}
    # Unlinked passages with labels: under the first claim carrying one of their labels.
    first_with: dict[str, str] = {}
    rank = {c.ann.id: i for i, c in enumerate(claims)}
    for claim in claims:
        for label in claim.ann.labels or ():
            first_with.setdefault(label, claim.ann.id)
    by_label: dict[str, list[Record]] = {}
    for record in others:
        if record.ann.id in linked_somewhere:
            continue
        homes = [first_with[x] for x in record.ann.labels or () if x in first_with]
        if homes:
            home = min(homes, key=rank.__getitem__)
            by_label.setdefault(home, []).append(record)
    placed: set[str] = set()
    for claim in claims:
        under = [Passage(r, LINKED) for r in others if r.ann.id in tied[claim.ann.id]]
        under += [Passage(r, SAME_LABEL) for r in by_label.get(claim.ann.id, ())]
        under.sort(key=lambda p: _order(p.record))
        placed.update(p.record.ann.id for p in under)
        story.claims.append(
            ClaimGroup(
                claim,
                rebuttals=tuple(p for p in under if p.record.ann.tag == REBUTTAL),
                context=tuple(p for p in under if p.record.ann.tag != REBUTTAL),
            )
        )
    story.loose = sorted((r for r in others if r.ann.id not in placed), key=_order)
    return story


def apply(story: Story, flt: StoryFilter) -> Story:
    """The part of `story` that `flt` keeps (see the module doc)."""
    if not flt:
        return story
    passage_filter = StoryFilter(flt.verdict, flt.lang, flt.doc_id, flt.label, flt.text)
    claims = [
        group
        for group in story.claims
        if (not flt.verdict or group.claim.ann.verdict == flt.verdict)
        and any(passage_filter.matches(r) for r in group.records())
    ]

    def single(record: Record) -> bool:
        return (not flt.verdict or record.ann.verdict == flt.verdict) and passage_filter.matches(
            record
        )

    return Story(
        claims=claims,
        loose=[r for r in story.loose if single(r)],
        orphaned=[r for r in story.orphaned if single(r)],
    )


def labels_in(records: Iterable[Record]) -> list[str]:
    """Every label used, sorted."""
    return sorted({label for r in records for label in (r.ann.labels or ())})


def outlet(record: Record) -> str | None:
    """The outlet: the document's site, else its URL's host (without `www.`)."""
    if record.site:
        return record.site
    if record.url:
        host = urlsplit(record.url).hostname or ""
        return host.removeprefix("www.") or None
    return None


# Records for the tags the caller already holds (the app's store) -------------------------
def records_for(
    ws: Workspace, tags: Sequence[Any], *, cache: dict[str, Any] | None = None
) -> list[Record]:
    """`Record`s (as exports read them) for `tags`: each with its document's metadata, its
    place in the current text (re-anchored in memory) and the cached translation. `cache`
    keeps the documents read between calls (a screen that refreshes); a document whose
    catalog entry changed is read again."""
    from reader.core.exchange.records import Record, current_view
    from reader.core.translation.service import passage_translation

    docs: dict[str, Any] = {}
    infos: dict[str, Any] = {}
    kept = cache if cache is not None else {}
    out: list[Record] = []
    for tag in tags:
        if tag.doc_id not in docs:
            infos[tag.doc_id] = info = corpus_of(ws).info(tag.doc_id)
            known = kept.get(tag.doc_id)
            if info is not None and known is not None and known.sha256 == info.sha256:
                docs[tag.doc_id] = known
            else:
                try:
                    docs[tag.doc_id] = corpus_of(ws).load(tag.doc_id) if info else None
                except ReaderError:
                    docs[tag.doc_id] = None
                if docs[tag.doc_id] is not None:
                    kept[tag.doc_id] = docs[tag.doc_id]
        doc, info = docs[tag.doc_id], infos[tag.doc_id]
        view = current_view(tag, doc)
        translation = None
        if doc is not None and view.status != ORPHANED:
            try:
                translation = passage_translation(ws, doc, view.start, view.end)
            except ReaderError:
                translation = None
        out.append(
            Record(
                ann=view,
                doc_id=tag.doc_id,
                title=(doc.title if doc else None) or (info.title if info else tag.doc_id),
                lang=(doc.lang if doc else None) or (info.lang if info else tag.lang),
                date=doc.date if doc else (info.date if info else None),
                path=str(info.path) if info else str(ws.corpus_root / tag.doc_id),
                url=doc.url if doc else (info.url if info else None),
                site=doc.site if doc else (info.site if info else None),
                translation=translation,
                translation_lang=ws.target_lang,
                text=doc.text if doc is not None else None,
                doc_sha256=doc.sha256 if doc is not None else None,
            )
        )
    return out


def story_of(ws: Workspace, tags: Sequence[Any]) -> Story:
    """The story map of `tags` in `ws`."""
    return build(records_for(ws, tags))


__all__ = [
    "CONTEXT",
    "LINKED",
    "SAME_LABEL",
    "VERDICT_NAMES",
    "ClaimGroup",
    "Passage",
    "Story",
    "StoryFilter",
    "apply",
    "build",
    "labels_in",
    "outlet",
    "records_for",
    "story_of",
    "verdict_name",
]
