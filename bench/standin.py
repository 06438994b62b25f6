"""A real-size stand-in for an Argos translation package, built offline (no torch).

Real Argos packages are CTranslate2 int8 "transformer base" models (argos-train's config):
6 encoder + 6 decoder layers, d_model 512, 8 heads, FFN 2048, one shared ~50k SentencePiece
vocabulary. This builds a model of exactly that shape with random weights, named as an
OpenNMT-py checkpoint names them and fed through CTranslate2's own OpenNMT-py converter with
int8 quantisation, so CTranslate2 runs the same amount of work per token as a real package.
Its output is noise and it never emits the end token: callers must cap decoding.

Its tokenizer decides how many tokens a sentence is, and so (decoding runs to the cap, twice
the source plus ten) every cost. A real Argos package's 50k vocabulary is trained on millions
of sentences; the stand-in's is trained with the same size on French and English word
frequencies of large corpora (the `wordfreq` wheel's lists, read from the wheel, nothing
installed): 1.46 pieces per word on the bundled French article, 1.45 on English news. The
first stand-in's (4,000 pieces from the four bundled articles) gave 2.18 and 2.98.

Usage: python bench/standin.py [OUT_DIR]   (the package folder; default bench/.cache/standin2)
"""

from __future__ import annotations

import gzip
import io
import json
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

LAYERS, D_MODEL, HEADS, FFN, VOCAB, MAX_POS = 6, 512, 8, 2048, 50_000, 1024
REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "bench" / ".cache" / "standin2" / "translate-fr_en-standin"  # wordfreq tokenizer
FIRST = REPO / "bench" / ".cache" / "standin" / "translate-fr_en-standin"  # the first, "corpus"


WORDFREQ = "wordfreq==3.1.1"  # frequency lists of words from large corpora, one per language
CACHE = REPO / "bench" / ".cache"
CAPITALISED = 0.2  # share of each word's occurrences written Capitalised (wordfreq lowercases)


def _wordfreq_wheel() -> Path:
    """The wordfreq wheel, fetched with `pip download --no-deps` into bench/.cache (its data
    files are read straight from the wheel: nothing is installed)."""
    found = sorted(CACHE.glob("wordfreq-3.1.1-*.whl"))
    if not found:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(CACHE),
             WORDFREQ],
            check=True,
        )  # fmt: skip
        found = sorted(CACHE.glob("wordfreq-3.1.1-*.whl"))
    return found[0]


def _msgpack(data: bytes) -> Any:
    """A minimal MessagePack reader (maps, arrays, strings, small ints): wordfreq's format."""
    pos = 0

    def text(size: int) -> str:
        nonlocal pos
        pos += size
        return data[pos - size : pos].decode("utf-8")

    def number(fmt: str) -> int:
        nonlocal pos
        (value,) = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return value

    def read() -> Any:
        nonlocal pos
        tag = data[pos]
        pos += 1
        if tag <= 0x7F:
            return tag
        if tag >= 0xE0:
            return tag - 256
        if 0x80 <= tag <= 0x8F:
            return {read(): read() for _ in range(tag & 0x0F)}
        if 0x90 <= tag <= 0x9F:
            return [read() for _ in range(tag & 0x0F)]
        if 0xA0 <= tag <= 0xBF:
            return text(tag & 0x1F)
        sizes = {0xD9: ">B", 0xDA: ">H", 0xDB: ">I", 0xCC: ">B", 0xCD: ">H", 0xDC: ">H",
                 0xDD: ">I"}  # fmt: skip
        if tag in (0xD9, 0xDA, 0xDB):
            return text(number(sizes[tag]))
        if tag in (0xCC, 0xCD):
            return number(sizes[tag])
        if tag in (0xDC, 0xDD):
            return [read() for _ in range(number(sizes[tag]))]
        if tag in (0xC0, 0xC2, 0xC3):
            return {0xC0: None, 0xC2: False, 0xC3: True}[tag]
        raise ValueError(f"unexpected MessagePack tag {tag:#x}")

    return read()


def word_counts(lang: str, words: int = 200_000) -> dict[str, int]:
    """The `words` most frequent words of `lang` (wordfreq's "large" list: Wikipedia,
    subtitles, news, books, web text, ...) with counts per billion words; a Capitalised form
    takes CAPITALISED of each count. wordfreq writes multi-digit numbers as zeros: those are
    left out (a number's digits are split into pieces by any vocabulary)."""
    with zipfile.ZipFile(_wordfreq_wheel()) as wheel:
        raw = gzip.decompress(wheel.read(f"wordfreq/data/large_{lang}.msgpack.gz"))
    buckets = _msgpack(raw)[1:]  # after the header; bucket i: frequency 10 ** (-i / 100)
    out: dict[str, int] = {}
    for centibels, bucket in enumerate(buckets):
        count = 1e9 * 10 ** (-centibels / 100)
        for word in bucket:
            if len(out) >= 2 * words:
                return out
            if any(c.isdigit() for c in word) and len(word) > 1:
                continue
            upper = word[:1].upper() + word[1:]
            out[word] = out.get(word, 0) + max(1, round(count * (1 - CAPITALISED)))
            if upper != word:
                out[upper] = out.get(upper, 0) + max(1, round(count * CAPITALISED))
    return out


def _word_text(size: int = 2_000_000) -> str:
    """Running text with French and English words in their measured proportions: `size`
    words of each language (every listed word at least once), shuffled with a fixed seed, 20
    words a line, with punctuation and digits at news-like rates (per thousand words).

    (SentencePiece's "tsv" input, word and count, is not used: its EM training weighed every
    word alike, which left even "avec" out of a 50k vocabulary.)
    """
    words: list[str] = []
    for lang in ("fr", "en"):
        for word, count in word_counts(lang).items():  # count: per billion words
            words += [word] * max(1, round(count * size / 1e9))
    per_thousand = {".": 40, ",": 50, "'": 10, "’": 10, "-": 5, ":": 3, "(": 2, ")": 2, "«": 1,
                    "»": 1, '"': 3, "?": 1, "%": 1, "/": 1}  # fmt: skip
    per_thousand |= {str(digit): 3 for digit in range(10)}
    words += [m for m, rate in per_thousand.items() for _ in range(rate * 2 * size // 1000)]
    random.Random(0).shuffle(words)
    return "".join(" ".join(words[i : i + 20]) + "\n" for i in range(0, len(words), 20))


def _corpus_text() -> list[str]:
    """Sentences of the bundled corpus (the first stand-in's tokenizer text: too little)."""
    lines = []
    for path in sorted((REPO / "corpus").glob("*.txt")):
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines


def _sentencepiece(path: Path, tokenizer: str = "wordfreq") -> list[str]:
    """A unigram SentencePiece model, its vocabulary VOCAB pieces (padded if short).

    "wordfreq" (the default): trained with VOCAB pieces on French and English word counts
    (both sides of a shared vocabulary, as argos-train's is), like a real Argos package's
    tokenizer trained on millions of sentences: about 1.3 pieces per word of French news.
    "corpus": the first stand-in's, 4,000 pieces trained on the four bundled articles, which
    split news into about 2.2 pieces per word and so doubled every decoding cost.
    """
    import sentencepiece as spm

    buf = io.BytesIO()
    options: dict[str, Any] = {
        "model_writer": buf,
        "model_type": "unigram",
        "character_coverage": 1.0,
        "minloglevel": 2,
    }
    if tokenizer == "corpus":
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(_corpus_text() * 5), vocab_size=4000, hard_vocab_limit=False,
            **options,
        )  # fmt: skip
    else:
        with tempfile.TemporaryDirectory() as tmp:
            text = Path(tmp) / "words.txt"
            text.write_text(_word_text(), encoding="utf-8")
            spm.SentencePieceTrainer.train(
                input=str(text), vocab_size=VOCAB, hard_vocab_limit=False, input_sentence_size=0,
                num_threads=2, **options,
            )  # fmt: skip
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


def build(
    out_dir: Path = DEFAULT, from_code: str = "fr", to_code: str = "en", tokenizer: str = ""
) -> Path:
    """Write the package folder (metadata.json, sentencepiece.model, model/); return it.
    `tokenizer`: "wordfreq" or "corpus" (see _sentencepiece); by default "corpus" for the
    first stand-in's folder (FIRST), else "wordfreq"."""
    import sentencepiece as spm
    from ctranslate2.converters import opennmt_py

    if (out_dir / "model" / "model.bin").exists():
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = tokenizer or ("corpus" if out_dir == FIRST else "wordfreq")
    trained = DEFAULT / "sentencepiece.model"
    if tokenizer == "wordfreq" and out_dir != DEFAULT and trained.exists():  # the same one
        shutil.copyfile(trained, out_dir / "sentencepiece.model")
        sp = spm.SentencePieceProcessor(model_file=str(out_dir / "sentencepiece.model"))
        vocab = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    else:
        vocab = _sentencepiece(out_dir / "sentencepiece.model", tokenizer)
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
