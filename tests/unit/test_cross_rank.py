"""Cross-language ranking (`crossrank.run`) against its definition, written out plainly here:
each sub-query evaluated alone over its own fields, cut to its language, normalised per
document language (the best match of each language scores 1.0), a document's score its best
normalised score with the first sub-query winning ties. `run` evaluates sub-queries with the
same text once and skips translations equal to the query as typed; it must not show."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from reader.core.documents import corpus_of
from reader.core.search import update_index
from reader.core.search.whoosh import crossrank, ranking
from reader.core.search.whoosh.crossrank import Sub
from reader.core.search.whoosh.index import STEM_LANGS, forget_index, searching
from reader.core.workspace import Workspace

VOCAB = {
    "en": ["refund", "company", "market", "police", "court", "water", "school", "Tesla"],
    "fr": ["remboursement", "entreprise", "marché", "police", "tribunal", "eau", "Tesla"],
    "de": ["Rückerstattung", "Unternehmen", "Markt", "Polizei", "Gericht", "Wasser", "Tesla"],
}
ALL_WORDS = sorted({w for words in VOCAB.values() for w in words})


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """60 documents in en/fr/de (and 3 without a language mark the detector could read), the
    non-English ones with an English "machine translation" in `mt_en`."""
    from reader.core.translation.cache import TranslationCache

    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    corpus.mkdir()
    rng = random.Random(7)
    for i in range(60):
        lang = ("en", "fr", "de")[i % 3]
        words = VOCAB[lang] + ALL_WORDS[:3]  # a few words of other languages too
        sentences = [
            " ".join(rng.choice(words) for _ in range(rng.randint(3, 9))).capitalize() + "."
            for _ in range(rng.randint(1, 5))
        ]
        title = " ".join(rng.sample(words, 2))
        (corpus / f"d{i:02}.md").write_text(
            f"---\nlang: {lang}\ntitle: {title}\n---\n\n{' '.join(sentences)}\n", encoding="utf-8"
        )
    ws = Workspace.open(corpus, root / "data")
    update_index(ws)
    english = dict(zip(VOCAB["fr"] + VOCAB["de"], VOCAB["en"] * 2, strict=False))
    with TranslationCache(ws.translations_path) as cache:
        for info in corpus_of(ws).infos():
            if info.lang == "en":
                continue
            doc = corpus_of(ws).load(info.id)
            inputs = [" ".join(doc.text[s.start : s.end].split()) for s in doc.sentences]
            pairs = [(s, " ".join(english.get(w, w) for w in s.split())) for s in inputs]
            cache.put_many(f"synthetic-{info.lang}_en 0", "en", pairs)
    forget_index(ws)
    update_index(ws, rebuild=True)
    return ws


def reference(ws: Workspace, subs: list[Sub]) -> tuple[int, dict, list[tuple]]:
    """(total, language facets, [(id, score, best sub-query, matched by the first)])."""
    with searching(ws) as searcher:
        ctx = ranking.context(searcher)
        present = [lang for lang in sorted(ctx.langs) if lang in STEM_LANGS]
        masks, normalised = [], []
        for sub in subs:
            if sub.mt is not None:
                fields = [f"mt_{sub.mt}"]
            else:
                langs = present if sub.lang is None else [sub.lang] if sub.lang in present else []
                fields = ["title", "body", *(f"body_{lang}" for lang in langs)]
            q, _problem = crossrank._parsed(sub.query, fields, searcher.schema)
            found = ranking.evaluate(ctx, q)
            mask = found.mask.copy()
            if sub.lang is not None:
                mask &= np.array([ctx.lang_of[d] >= 0 and ctx.langs[ctx.lang_of[d]] == sub.lang
                                  for d in range(ctx.size)])  # fmt: skip
            if sub.mt is not None:
                mask &= np.array([ctx.lang_of[d] < 0 or ctx.langs[ctx.lang_of[d]] != sub.mt
                                  for d in range(ctx.size)])  # fmt: skip
            norm = np.full(ctx.size, -np.inf)
            for d in np.flatnonzero(mask):
                group = [e for e in np.flatnonzero(mask) if ctx.lang_of[e] == ctx.lang_of[d]]
                top = max(found.score[e] for e in group)
                norm[d] = found.score[d] / top if top > 0 else 1.0
            masks.append(mask)
            normalised.append(norm)
        matched = np.logical_or.reduce(masks)
        stacked = np.vstack(normalised)
        best, combined = stacked.argmax(axis=0), stacked.max(axis=0)
        docs = sorted(np.flatnonzero(matched), key=lambda d: (-combined[d], d))
        rows = [
            (searcher.stored_fields(d)["id"], float(combined[d]), int(best[d]), bool(masks[0][d]))
            for d in docs
        ]
        return int(matched.sum()), ctx.facets(matched), rows


def word_query(rng: random.Random) -> str:
    a, b, c = rng.sample(ALL_WORDS, 3)
    return rng.choice(
        [a, f"{a} {b}", f"{a} OR {b}", f"{a} -{b}", f'"{a} {b}"', f"{a[:4]}*", f"title:{a}",
         f"{a} lang:fr", f"({a} OR {b}) {c}", f"{a} OR {b} OR {c}", "-lang:en " + a]
    )  # fmt: skip


def random_subs(rng: random.Random) -> list[Sub]:
    query = word_query(rng)
    subs = [Sub(query)]
    shared = word_query(rng)
    for lang in ("de", "fr"):  # translations: new, equal to the query, or equal to each other
        subs.append(Sub(rng.choice([word_query(rng), query, shared]), lang=lang))
    subs.append(Sub(query, mt="en"))
    return subs


def test_run_is_its_definition(mixed: Workspace):
    rng = random.Random(11)
    kinds = {"same as typed": 0, "same as another": 0}
    for _ in range(120):
        subs = random_subs(rng)
        kinds["same as typed"] += any(s.query == subs[0].query for s in subs[1:3])
        kinds["same as another"] += subs[1].query == subs[2].query
        total, facets, rows = reference(mixed, subs)
        got = crossrank.run(mixed, subs, limit=1000, tag_docs=dict)
        assert (got.total, got.facets) == (total, facets), subs
        mine = [(f.id, f.score, b, o) for f, b, o in
                zip(got.found, got.best, got.original, strict=True)]  # fmt: skip
        assert mine == rows, subs
    assert min(kinds.values()) >= 10  # both shortcuts were exercised


def test_run_pages_like_the_whole_ranking(mixed: Workspace):
    subs = [Sub("company OR market"), Sub("entreprise", lang="fr"), Sub("Markt", lang="de"),
            Sub("company OR market", mt="en")]  # fmt: skip
    whole = crossrank.run(mixed, subs, limit=1000, tag_docs=dict)
    assert whole.total > 20
    page = crossrank.run(mixed, subs, limit=7, offset=5, tag_docs=dict)
    assert [f.id for f in page.found] == [f.id for f in whole.found[5:12]]
    assert page.best == whole.best[5:12] and page.original == whole.original[5:12]


def test_mt_field_reaches_other_languages_only(mixed: Workspace):
    found = crossrank.run(mixed, [Sub("zzz"), Sub("refund", mt="en")], limit=100, tag_docs=dict)
    assert found.total and {f.lang for f in found.found} <= {"fr", "de"}
    assert set(found.best) == {1} and not any(found.original)


def test_languages_seen_by_the_last_search(mixed: Workspace, tmp_path: Path):
    assert crossrank.languages(mixed) == ["de", "en", "fr"]
    assert crossrank.languages(mixed, seen=True) == ["de", "en", "fr"]
    found = crossrank.run(mixed, [Sub("refund")], limit=1, tag_docs=dict)
    assert found.langs == ["de", "en", "fr"]
    fresh = Workspace.open(mixed.corpus_root, tmp_path / "other-data")
    update_index(fresh)
    assert crossrank.languages(fresh, seen=True) == ["de", "en", "fr"]  # read, not guessed
