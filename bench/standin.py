"""A real-size stand-in for an Argos translation package, built offline (no torch).

Real Argos packages are CTranslate2 int8 "transformer base" models (argos-train's config):
6 encoder + 6 decoder layers, d_model 512, 8 heads, FFN 2048, one shared ~50k SentencePiece
vocabulary. This builds a model of exactly that shape with random weights, named as an
OpenNMT-py checkpoint names them and fed through CTranslate2's own OpenNMT-py converter with
int8 quantisation, so CTranslate2 runs the same amount of work per token as a real package.
Its output is noise and it never emits the end token: callers must cap decoding.

Usage: python bench/standin.py [OUT_DIR]   (the package folder; default bench/.cache/standin)
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np

LAYERS, D_MODEL, HEADS, FFN, VOCAB, MAX_POS = 6, 512, 8, 2048, 50_000, 1024
REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "bench" / ".cache" / "standin" / "translate-fr_en-standin"


def _text() -> list[str]:
    """Sentences to train the tokenizer on: the bundled corpus."""
    lines = []
    for path in sorted((REPO / "corpus").glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def _sentencepiece(path: Path) -> list[str]:
    """A unigram tokenizer trained on the corpus, its vocabulary padded to VOCAB pieces."""
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_text() * 5),
        model_writer=buf,
        vocab_size=4000,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    path.write_bytes(buf.getvalue())
    sp = spm.SentencePieceProcessor(model_file=str(path))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    return pieces + [f"▁x{i}" for i in range(VOCAB - len(pieces))]


def _variables(rng: np.random.Generator, vocab: int) -> dict[str, np.ndarray]:
    """Random weights under OpenNMT-py's checkpoint names."""
    out: dict[str, np.ndarray] = {}

    def lin(name: str, rows: int, cols: int) -> None:
        out[f"{name}.weight"] = rng.normal(0, 0.02, (rows, cols)).astype(np.float32)
        out[f"{name}.bias"] = np.zeros(rows, np.float32)

    def norm(name: str) -> None:
        out[f"{name}.weight"] = np.ones(D_MODEL, np.float32)
        out[f"{name}.bias"] = np.zeros(D_MODEL, np.float32)

    def attention(scope: str) -> None:
        for part in ("linear_query", "linear_keys", "linear_values", "final_linear"):
            lin(f"{scope}.{part}", D_MODEL, D_MODEL)

    def ffn(scope: str) -> None:
        norm(f"{scope}.layer_norm")
        lin(f"{scope}.w_1", FFN, D_MODEL)
        lin(f"{scope}.w_2", D_MODEL, FFN)

    position = np.arange(MAX_POS)[:, None] / np.power(10000, np.arange(0, D_MODEL, 2) / D_MODEL)
    pe = np.zeros((MAX_POS, 1, D_MODEL), np.float32)
    pe[:, 0, 0::2], pe[:, 0, 1::2] = np.sin(position), np.cos(position)
    for side in ("encoder", "decoder"):
        out[f"{side}.embeddings.make_embedding.pe.pe"] = pe
        out[f"{side}.embeddings.make_embedding.emb_luts.0.weight"] = rng.normal(
            0, 0.02, (vocab, D_MODEL)
        ).astype(np.float32)
        norm(f"{side}.layer_norm")
    for i in range(LAYERS):
        scope = f"encoder.transformer.{i}"
        attention(f"{scope}.self_attn")
        norm(f"{scope}.layer_norm")
        ffn(f"{scope}.feed_forward")
        scope = f"decoder.transformer_layers.{i}"
        attention(f"{scope}.self_attn")
        norm(f"{scope}.layer_norm_1")
        attention(f"{scope}.context_attn")
        norm(f"{scope}.layer_norm_2")
        ffn(f"{scope}.feed_forward")
    lin("generator", vocab, D_MODEL)
    return out


def build(out_dir: Path = DEFAULT, from_code: str = "fr", to_code: str = "en") -> Path:
    """Write the package folder (metadata.json, sentencepiece.model, model/); return it."""
    from ctranslate2.converters import opennmt_py

    if (out_dir / "model" / "model.bin").exists():
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    vocab = _sentencepiece(out_dir / "sentencepiece.model")
    opt = SimpleNamespace(
        enc_layers=LAYERS, dec_layers=LAYERS, heads=HEADS, encoder_type="transformer",
        decoder_type="transformer", position_encoding=True, max_relative_positions=0,
        pos_ffn_activation_fn="relu", self_attn_type="scaled-dot",
    )  # fmt: skip
    variables = _variables(np.random.default_rng(0), len(vocab))

    class Converter(opennmt_py.OpenNMTPyConverter):
        def _load(self):  # the checkpoint, already in memory: no torch.load
            opennmt_py.check_opt(opt, num_source_embeddings=1)
            return opennmt_py._get_model_spec_seq2seq(opt, variables, [vocab], [vocab], 1)

    Converter("standin.pt").convert(str(out_dir / "model"), quantization="int8", force=True)
    meta = {
        "package_version": "0.0",
        "argos_version": "1.9.0",
        "from_code": from_code,
        "to_code": to_code,
        "from_name": from_code,
        "to_name": to_code,
        "code": f"translate-{from_code}_{to_code}",
        "type": "translate",
        "links": [],
    }
    (out_dir / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    return out_dir


if __name__ == "__main__":
    path = build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    print(f"built {path}: {size / 1e6:.0f} MB")
