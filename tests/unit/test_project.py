"""The project itself: ruff clean, the wheel ships the corpus, the corpus is the seeds."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_ruff_clean():
    for args in (["check", "."], ["format", "--check", "."]):
        out = subprocess.run(
            [sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stdout + out.stderr


def test_wheel_ships_the_corpus(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("source_reader-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    corpus = sorted(p.name for p in (REPO / "corpus").iterdir() if p.is_file())
    assert corpus and all(f"reader/_corpus/{name}" in names for name in corpus)
    assert not any("/.reader/" in n for n in names)


def test_corpus_matches_seeds_when_available():
    seeds = REPO.parent / "shared" / "seeds"
    corpus = {p.name: p for p in (REPO / "corpus").iterdir() if p.is_file()}
    assert len(corpus) == 4
    if seeds.is_dir():  # beside the repo in CI; the project itself never needs it
        seed_files = {p.name: p for p in seeds.iterdir()}
        assert set(seed_files) == set(corpus)
        for name, path in corpus.items():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert digest == hashlib.sha256(seed_files[name].read_bytes()).hexdigest(), name
