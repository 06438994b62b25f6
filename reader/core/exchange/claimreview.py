"""`claimreview`: schema.org ClaimReview (JSON-LD), one per claim that has a verdict, in a list.

Follows schema.org/ClaimReview and Google's fact-check structured data guide:
- required there: `claimReviewed` (the quote), `reviewRating` with `alternateName` (the verdict
  in words, the text search engines show), and `url` (the fact-check page): given when the
  `factcheck_url` setting is set, as that page plus an anchor per claim (`#claim-1a2b3c4d`;
  the guide allows only the page URL plus an anchor);
- recommended: `author` (the `organisation` setting as an Organization, and the `author`
  setting or user as a Person), `datePublished` (the day the claim's verdict was last
  changed), `itemReviewed` (a `Claim` with `author`, `datePublished`, `appearance` and
  `firstAppearance`: the document as a CreativeWork with its URL, title, date, author and
  outlet), `reviewRating`'s `ratingValue`, `bestRating` 5 and `worstRating` 1.
- The numeric scale is the guide's: 1 False, 2 Mostly false, 3 Half true (our `mixed`),
  4 Mostly true, 5 True. `unproven` has no place on a true/false scale: its Rating carries the
  textual `alternateName` only (the guide makes the number optional and shows only the text;
  a -1 seen in the wild is outside worstRating..bestRating). `not-rated` (the default) means
  no verdict yet: such claims are not exported.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from reader.core.documents import corpus_of
from reader.core.exchange.formats import ExportContext, Format
from reader.core.tags.model import CLAIM, DEFAULT_VERDICT, ORPHANED
from reader.core.tags.story import build, outlet, verdict_name

if TYPE_CHECKING:
    from reader.core.exchange.records import Record

CONTEXT = "https://schema.org"
BEST, WORST = 5, 1
RATING_VALUES: dict[str, int | None] = {
    "false": 1,
    "mostly-false": 2,
    "mixed": 3,
    "mostly-true": 4,
    "true": 5,
    "unproven": None,  # textual rating only
}


def rating(verdict: str) -> dict[str, Any]:
    """The schema.org Rating for a verdict (not `not-rated`)."""
    value = RATING_VALUES[verdict]
    out: dict[str, Any] = {"@type": "Rating"}
    if value is not None:
        out.update(ratingValue=value, bestRating=BEST, worstRating=WORST)
    out["alternateName"] = verdict_name(verdict)
    return out


def _appearance(record: Record, author: str | None) -> dict[str, Any]:
    work: dict[str, Any] = {"@type": "CreativeWork", "name": record.title}
    if record.url:
        work["url"] = record.url
    if record.date:
        work["datePublished"] = record.date
    if author:
        work["author"] = {"@type": "Person", "name": author}
    site = outlet(record)
    if site:
        work["publisher"] = {"@type": "Organization", "name": site}
    if record.lang:
        work["inLanguage"] = record.lang
    return work


def _reviewers(ctx: ExportContext) -> list[dict[str, Any]]:
    out = []
    organisation = ctx.ws.setting("organisation")
    if organisation:
        out.append({"@type": "Organization", "name": str(organisation)})
    person = ctx.ws.settings.effective_author
    if person:
        out.append({"@type": "Person", "name": person})
    return out


def claim_reviews(records: list[Record], ctx: ExportContext) -> list[dict[str, Any]]:
    """One ClaimReview per claim with a verdict, oldest first appearance first."""
    story = build(records)
    claims = [g.claim for g in story.claims]
    claims += [r for r in story.orphaned if r.ann.tag == CLAIM]
    base = ctx.ws.setting("factcheck_url")
    reviewers = _reviewers(ctx)
    out = []
    for record in claims:
        ann = record.ann
        if ann.verdict == DEFAULT_VERDICT or ann.verdict not in RATING_VALUES:
            continue
        info = corpus_of(ctx.ws).info(record.doc_id)
        author = getattr(info, "author", None) if info else None
        work = _appearance(record, author)
        claim: dict[str, Any] = {"@type": "Claim"}
        if author:
            claim["author"] = {"@type": "Person", "name": author}
        if record.date:
            claim["datePublished"] = record.date
        if ann.status != ORPHANED or record.url:
            claim["appearance"] = [work]
            claim["firstAppearance"] = work
        review: dict[str, Any] = {
            "@context": CONTEXT,
            "@type": "ClaimReview",
            "claimReviewed": " ".join(ann.exact.split()),
            "reviewRating": rating(ann.verdict),
            "itemReviewed": claim,
            "author": reviewers if len(reviewers) != 1 else reviewers[0],
            "datePublished": ann.updated[:10],
        }
        if base:
            review["url"] = f"{base}#claim-{ann.id[:8]}"
        out.append(review)
    return out


def render_claimreview(records: list[Record], ctx: ExportContext) -> str:
    return json.dumps(claim_reviews(records, ctx), ensure_ascii=False, indent=2) + "\n"


FORMATS = [
    Format(
        "claimreview",
        ".jsonld",
        "schema.org ClaimReview JSON-LD: one per claim with a verdict",
        render_claimreview,
    )
]
