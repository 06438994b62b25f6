"""Cross-language search's in-process memos (installed models, parsed sub-queries, `via` of
hits found through a translation) never serve stale answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from support.tiny_argos import build

from reader.cli import main
from reader.core.search import cross, search, update_index
from reader.core.search.whoosh import crossrank
from reader.core.translation.models import install_model_file, remove_model
from reader.core.workspace import Workspace

EN_FR = {"refund": "remboursement", "Hello": "Bonjour"}
FR_EN = {"journaux": "newspapers", "Bonjour": "Hello", "monde": "world"}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("memo_models")
    return {
        "en_fr": build(out / "translate-en_fr-0_1.argosmodel", "en", "fr", lexicon=EN_FR),
        "fr_en": build(out / "translate-fr_en-0_1.argosmodel", "fr", "en", lexicon=FR_EN),
        "en_de": build(out / "translate-en_de-0_1.argosmodel", "en", "de", lexicon={}),
    }


@pytest.fixture(autouse=True)
def fresh_memo():
    cross.forget_memo()
    yield
    cross.forget_memo()


def test_a_model_installed_or_removed_is_seen_by_the_next_query(workspace: Workspace, models):
    first = search(workspace, "refund", cross=True)
    assert ("en", "fr") in first.missing_models and len(first.queries) == 1
    install_model_file(workspace, models["en_fr"])  # no forget_memo: the folder changed
    second = search(workspace, "refund", cross=True)
    assert {"lang": "fr", "text": "remboursement", "source": "translated"} in second.queries
    assert ("en", "fr") not in second.missing_models
    remove_model(workspace, "en", "fr")
    third = search(workspace, "refund", cross=True)
    assert ("en", "fr") in third.missing_models and len(third.queries) == 1


def test_the_same_query_twice_gives_the_same_hits(workspace: Workspace, models):
    install_model_file(workspace, models["en_fr"])
    first = search(workspace, "refund OR tesla", cross=True).to_json()
    again = search(workspace, "refund OR tesla", cross=True).to_json()
    assert first == again and first["total"] > 0
    assert crossrank._parsed_memo  # the second search parsed nothing


def test_via_follows_a_changed_translation(capsys, workspace: Workspace, models):
    install_model_file(workspace, models["fr_en"])
    path = workspace.corpus_root / "fr_extra.txt"
    path.write_text("Les journaux publient des articles sur la ville.\n", encoding="utf-8")
    args = ["--corpus", str(workspace.corpus_root)]
    assert main(["translate", "--all", *args]) == 0

    def via() -> dict:
        hits = search(workspace, "newspapers", cross=True, update_first=True).hits
        hit = next(h for h in hits if h.id == "fr_extra.txt")
        assert hit.snippets[0].text.startswith(path.read_text(encoding="utf-8")[:20])
        hit.snippets[0].text = "changed by a caller"  # a caller's change is not remembered
        return hit.via

    assert via()["text"].startswith("Les newspapers publient")
    assert via()["text"].startswith("Les newspapers publient")  # from the memo
    path.write_text("Bonjour, les journaux du monde.\n", encoding="utf-8")
    assert main(["translate", "--all", *args]) == 0
    capsys.readouterr()
    changed = via()
    assert "newspapers" in changed["text"] and "publient" not in changed["text"]
    hit = next(h for h in search(workspace, "newspapers", cross=True).hits if h.id == path.name)
    assert hit.snippets[0].text.startswith("Bonjour, les journaux")


def test_one_cache_connection_per_search(workspace: Workspace, models, monkeypatch):
    from reader.core.translation.cache import TranslationCache

    for name in ("en_fr", "en_de"):
        install_model_file(workspace, models[name])
    opened: list[Path] = []
    real = TranslationCache.__init__

    def counting(self: TranslationCache, path: Path) -> None:
        opened.append(path)
        real(self, path)

    monkeypatch.setattr(TranslationCache, "__init__", counting)
    result = search(workspace, "Hello refund", cross=True)
    assert [q["lang"] for q in result.queries] == ["en", "de", "fr"] and len(opened) == 1
    opened.clear()
    search(workspace, "Hello refund", cross=True)  # memoised: the cache is not even opened
    assert opened == []


def test_retyping_a_query_translates_nothing(workspace: Workspace, models, monkeypatch):
    install_model_file(workspace, models["en_fr"])
    first = search(workspace, "refund Hello", cross=True).to_json()
    asked: list[tuple] = []
    real = cross.translate_texts

    def counting(*args, **kwargs):
        asked.append(args[1:4])
        return real(*args, **kwargs)

    monkeypatch.setattr(cross, "translate_texts", counting)
    again = search(workspace, "refund Hello", cross=True).to_json()
    assert again == first and asked == []  # the whole query's translations are remembered
    search(workspace, "refund Hello", cross=True, from_lang="fr")  # another source: asked
    assert asked and asked[0][0] == "fr"


def test_a_changed_query_language_setting_is_seen(workspace: Workspace, models):
    install_model_file(workspace, models["en_fr"])
    assert search(workspace, "refund", cross=True).queries[0]["lang"] == "en"
    workspace.settings = replace(workspace.settings, query_lang="de")
    assert search(workspace, "refund", cross=True).queries[0]["lang"] == "de"


def test_a_language_new_to_the_index_is_searched_at_once(workspace: Workspace, models):
    german = workspace.corpus_root / "003_4151a8d78787628b.txt"
    text = german.read_text(encoding="utf-8")
    german.unlink()
    install_model_file(workspace, models["en_de"])
    before = search(workspace, "refund", cross=True)
    assert "de" not in {q["lang"] for q in before.queries} and before.total
    german.write_text(text, encoding="utf-8")
    update_index(workspace)
    after = search(workspace, "refund", cross=True)  # the languages of the last search: stale
    assert {"lang": "de", "text": "refund", "source": "translated"} in after.queries
