"""A small two-language story for the story map, memo, claimreview and citation tests: an
English claim (with a verdict and a label), a French rebuttal on another outlet linked to it
(with a cached English translation and a two-line note), and an English context passage."""

from __future__ import annotations

from pathlib import Path

from reader.core.documents import corpus_of
from reader.core.tags import open_tag_store
from reader.core.translation.cache import TranslationCache
from reader.core.workspace import Workspace

CLAIM = "Tesla refunded the deposit within 24 hours, the company said."
REBUTTAL = "Le client affirme n’avoir jamais reçu le remboursement."
CONTEXT = "Refunds usually take weeks."
TRANSLATION = "The customer says he never received the refund."
NOTE = "called the customer\nhe kept the e-mail"
EN = (
    "---\ntitle: Refund story\ndate: 2025-10-30\nauthor: Ann Writer\n"
    "url: https://news.example.com/refund\nsite: Example News\n---\n\n"
    f"{CLAIM} Nobody disputed it at first.\n\n{CONTEXT}\n"
)
FR = (
    "---\ntitle: Le remboursement\ndate: 2025-11-01\nurl: https://example.org/fr/remboursement\n"
    f"site: Le Journal\n---\n\n{REBUTTAL} Il a publié un e-mail.\n"
)


def make_story(root: Path) -> tuple[Workspace, dict[str, str]]:
    """The corpus in `root` (created), its workspace and the tag ids by kind."""
    root.mkdir(parents=True)
    (root / "en.md").write_text(EN, encoding="utf-8")
    (root / "fr.md").write_text(FR, encoding="utf-8")
    ws = Workspace.open(root)
    corpus_of(ws).scan()
    en, fr = corpus_of(ws).load("en.md"), corpus_of(ws).load("fr.md")
    with open_tag_store(ws) as store:

        def add(doc, quote, tag, **kw):
            start = doc.text.index(quote)
            return store.add(doc, start, start + len(quote), tag, **kw).id

        ids = {"claim": add(en, CLAIM, "claim", labels=["tesla-refund"])}
        store.set_verdict(ids["claim"], "mostly-false")
        ids["rebuttal"] = add(fr, REBUTTAL, "rebuttal", links=[ids["claim"]], note=NOTE)
        ids["context"] = add(en, CONTEXT, "context", labels=["tesla-refund"])
    sentence = next(s for s in fr.sentences if fr.text[s.start : s.end].startswith("Le client"))
    with TranslationCache(ws.translations_path) as cache:
        source = " ".join(fr.text[sentence.start : sentence.end].split())
        cache.put_many("test-model 1.0", "en", [(source, TRANSLATION)])
    return ws, ids
