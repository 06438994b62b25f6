"""Build a tiny but real `.argosmodel` offline (numpy, sentencepiece, ctranslate2; no torch).

The CTranslate2 model is hand-wired, not trained: a one-layer Transformer whose cross-attention
looks at source position t at decoder step t and copies that token through a small lexicon, so
its output is deterministic: with the default fr->en lexicon "Bonjour le monde." becomes
"Hello le world.". The package is a zip of one folder holding `metadata.json`,
`sentencepiece.model` and `model/` (the format argostranslate's `Package` loads).
Adapted from the project's shared tools; the project must not depend on them.

Usage: python tests/support/tiny_argos.py OUT.argosmodel [FROM TO]
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import ctranslate2
import numpy as np
import sentencepiece as spm
from ctranslate2.specs import transformer_spec

TEXT = """Bonjour le monde. Le chat dort sur la table. Les journaux publient des articles.
La ville est belle et le soleil brille. Nous lisons les nouvelles du matin.
Hello world. The cat sleeps on the table. The newspapers publish articles.
The city is beautiful and the sun is shining. We read the morning news.
Il giornale pubblica notizie. Die Zeitung veröffentlicht Nachrichten aus der Welt.""".splitlines()

LEXICONS: dict[tuple[str, str], dict[str, str]] = {
    ("fr", "en"): {"Bonjour": "Hello", "monde": "world", "chat": "cat", "journaux": "newspapers"},
    ("en", "de"): {"Hello": "Hallo", "world": "Welt", "cat": "Katze", "newspapers": "Zeitungen"},
    ("en", "fr"): {"Hello": "Bonjour", "world": "monde", "cat": "chat", "newspapers": "journaux"},
}
NAMES = {"de": "German", "en": "English", "fr": "French", "it": "Italian", "es": "Spanish"}
P, T, MAX_POS, SEED = 64, 64, 256, 0  # position dims, token dims, max positions, rng seed


def train_sentencepiece(path: Path, lexicon: dict[str, str]) -> list[str]:
    """Train a small unigram model on TEXT; lexicon words are whole pieces."""
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TEXT * 20),
        model_writer=buf,
        vocab_size=160,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        normalization_rule_name="identity",
        user_defined_symbols=sorted({*lexicon, *lexicon.values()}),
        minloglevel=2,
        num_threads=1,
    )
    path.write_bytes(buf.getvalue())
    sp = spm.SentencePieceProcessor(model_file=str(path))
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size())]  # <unk>=0 <s>=1 </s>=2


def _unit_rows(rng: np.random.Generator, n: int, dims: int) -> np.ndarray:
    """Zero-mean unit vectors, so LayerNorm only rescales them."""
    m = rng.standard_normal((n, dims)).astype(np.float32)
    m -= m.mean(axis=1, keepdims=True)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def _zeros(*shape: int) -> np.ndarray:
    return np.zeros(shape, np.float32)


def build_spec(vocab: list[str], lexicon: dict[str, str]) -> transformer_spec.TransformerSpec:
    """The hand-wired copy-through-lexicon transformer."""
    rng, n_vocab, d, ff = np.random.default_rng(SEED), len(vocab), P + T, 8
    pos = _zeros(MAX_POS, d)
    pos[:, :P] = _unit_rows(rng, MAX_POS, P)  # positions: first P dims
    tok = _unit_rows(rng, n_vocab, T)  # tokens: last T dims
    spec = transformer_spec.TransformerSpec.from_config((1, 1), num_heads=1)
    spec.config.add_source_eos = True  # source ends in </s>, so the copy emits </s> and stops
    enc, dec = spec.encoder, spec.decoder
    enc.scale_embeddings = dec.scale_embeddings = False
    enc.embeddings[0].weight = np.concatenate([_zeros(n_vocab, P), tok], axis=1)
    dec.embeddings.weight = _zeros(n_vocab, d)  # the decoder only looks at positions
    enc.position_encodings.encodings, dec.position_encodings.encodings = pos, pos.copy()

    def ln(s) -> None:
        s.gamma, s.beta = np.ones(d, np.float32), _zeros(d)

    def lin(s, w: np.ndarray) -> None:
        s.weight, s.bias = w.astype(np.float32), _zeros(w.shape[0])

    for layer in (enc.layer[0], dec.layer[0]):  # self-attention and FFN all zero (identity)
        ln(layer.self_attention.layer_norm)
        ln(layer.ffn.layer_norm)
        lin(layer.self_attention.linear[0], _zeros(3 * d, d))
        lin(layer.self_attention.linear[1], _zeros(d, d))
        lin(layer.ffn.linear_0, _zeros(ff, d))
        lin(layer.ffn.linear_1, _zeros(d, ff))
    ln(enc.layer_norm)
    ln(dec.layer_norm)
    att, eye_p, eye_t = dec.layer[0].attention, _zeros(d, d), _zeros(d, d)
    eye_p[:P, :P] = np.eye(P)
    eye_t[P:, P:] = np.eye(T)
    ln(att.layer_norm)
    lin(att.linear[0], 6.0 * eye_p)  # query: decoder position (sharpened)
    lin(att.linear[1], np.concatenate([eye_p, eye_t]))  # fused key (position) + value (token)
    lin(att.linear[2], eye_t)  # output: the copied token into the residual
    index, rows = {p: i for i, p in enumerate(vocab)}, list(range(n_vocab))
    for s, t in lexicon.items():  # swap output rows: s is emitted as t
        if s in index and t in index:
            rows[index[t]], rows[index[s]] = index[s], index[t]
    lin(dec.projection, np.concatenate([_zeros(n_vocab, P), 3.0 * tok[rows]], axis=1))
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    return spec


class _SpecConverter(ctranslate2.converters.Converter):
    def __init__(self, spec: transformer_spec.TransformerSpec) -> None:
        self.spec = spec

    def _load(self) -> transformer_spec.TransformerSpec:
        return self.spec


def build(
    out_path: str | Path,
    from_code: str = "fr",
    to_code: str = "en",
    *,
    version: str = "0.1",
    lexicon: dict[str, str] | None = None,
) -> Path:
    """Write a tiny `.argosmodel` for from_code -> to_code at out_path; return the path."""
    out = Path(out_path)
    lexicon = lexicon if lexicon is not None else LEXICONS.get((from_code, to_code), {})
    name = f"translate-{from_code}_{to_code}-{version.replace('.', '_')}"
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / name  # the zip holds one top-level package folder
        pkg.mkdir()
        vocab = train_sentencepiece(pkg / "sentencepiece.model", lexicon)
        _SpecConverter(build_spec(vocab, lexicon)).convert(str(pkg / "model"), quantization="int8")
        meta = {
            "package_version": version,
            "argos_version": "1.9.0",
            "from_code": from_code,
            "from_name": NAMES.get(from_code, from_code),
            "to_code": to_code,
            "to_name": NAMES.get(to_code, to_code),
            "code": f"translate-{from_code}_{to_code}",
            "type": "translate",
            "links": [],
        }
        (pkg / "metadata.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for file in sorted(p for p in pkg.rglob("*") if p.is_file()):
                zf.write(file, file.relative_to(tmp).as_posix())
    return out


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "translate-fr_en-0_1.argosmodel"
    codes = sys.argv[2:4] if len(sys.argv) > 3 else ["fr", "en"]
    path = build(target, codes[0], codes[1])
    print(f"built {path}: {path.stat().st_size / 1024:.1f} KiB")
