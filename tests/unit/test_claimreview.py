"""The `claimreview` export, field by field against schema.org/ClaimReview and Google's
fact-check structured data guide (required: claimReviewed, reviewRating.alternateName, url;
recommended: author, datePublished, itemReviewed (Claim: author, datePublished, appearance,
firstAppearance), ratingValue, bestRating, worstRating)."""

from __future__ import annotations

import io
import json

import pytest
from support.story import CLAIM, make_story

from reader.cli import main
from reader.core.exchange.claimreview import RATING_VALUES, rating
from reader.core.exchange.export import export
from reader.core.tags import open_tag_store
from reader.core.tags.model import VERDICTS


@pytest.fixture
def tagged(tmp_path):
    return make_story(tmp_path / "corpus")


def _reviews(ws) -> list[dict]:
    stream = io.StringIO()
    export(ws, "claimreview", stream=stream)
    return json.loads(stream.getvalue())


def test_one_review_per_claim_with_a_verdict_field_by_field(tagged) -> None:
    ws, ids = tagged
    ws.set_setting("organisation", "Fact Desk")
    ws.set_setting("author", "Ann Checker")
    ws.set_setting("factcheck_url", "https://desk.example/checks/tesla")
    (review,) = _reviews(ws)
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == CLAIM
    assert review["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 2,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "Mostly false",
    }
    assert review["url"] == f"https://desk.example/checks/tesla#claim-{ids['claim'][:8]}"
    assert review["author"] == [
        {"@type": "Organization", "name": "Fact Desk"},
        {"@type": "Person", "name": "Ann Checker"},
    ]
    with open_tag_store(ws) as store:
        assert review["datePublished"] == store.get(ids["claim"]).updated[:10]
    claim = review["itemReviewed"]
    assert claim["@type"] == "Claim"
    assert claim["author"] == {"@type": "Person", "name": "Ann Writer"}
    assert claim["datePublished"] == "2025-10-30"
    work = {
        "@type": "CreativeWork",
        "name": "Refund story",
        "url": "https://news.example.com/refund",
        "datePublished": "2025-10-30",
        "author": {"@type": "Person", "name": "Ann Writer"},
        "publisher": {"@type": "Organization", "name": "Example News"},
        "inLanguage": "en",
    }
    assert claim["firstAppearance"] == work
    assert claim["appearance"] == [work]


def test_not_rated_claims_are_left_out_and_url_only_when_set(tagged) -> None:
    ws, ids = tagged
    (review,) = _reviews(ws)
    assert "url" not in review
    assert review["author"]["@type"] == "Person"  # no organisation set: the person alone
    with open_tag_store(ws) as store:
        store.set_verdict(ids["claim"], "not-rated")
    assert _reviews(ws) == []


def test_the_scale() -> None:
    assert set(RATING_VALUES) == set(VERDICTS) - {"not-rated"}
    values = [
        rating(v)["ratingValue"] for v in ("false", "mostly-false", "mixed", "mostly-true", "true")
    ]
    assert values == [1, 2, 3, 4, 5]
    for verdict in ("false", "mixed", "true"):
        assert rating(verdict)["bestRating"] == 5 and rating(verdict)["worstRating"] == 1
    # unproven is not on a true/false scale: the textual rating only
    assert rating("unproven") == {"@type": "Rating", "alternateName": "Unproven"}


def test_cli(tagged, capsys) -> None:
    ws, _ = tagged
    assert main(["export", "--format", "claimreview", "--corpus", str(ws.corpus_root)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["@type"] == "ClaimReview"
