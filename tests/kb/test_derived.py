"""The derived-data cache (bot/kb/derived.py): an index read back from it ranks exactly as one
just built, a changed input rebuilds it, a damaged entry is rebuilt, and reading one needs no
scikit-learn."""

import importlib.metadata
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.config import settings
from bot.kb import derived
from bot.kb.card_classifier import char_grams
from bot.kb.card_index import INDEX_PACKAGES, CardIndex, index_key
from bot.kb.knowledge_base import ANALYSIS_PACKAGES, KnowledgeBase, _Analysis, analysis_key
from bot.understanding import normalize_text, understand
from bot.vocab import load_vocabulary

KB_DIR = Path(settings().policy_kb_dir)
SMALL_KB_CARDS = ("hotline.yml", "tekun.yml")  # two topics: a classifier fits in well under a second
EXTRA_QUESTIONS = ("低保怎么申请", "屋头莫得收入咋个吃低保", "特困人员的供氧标准谁来定", "救助站管些什么", "你好")


def questions() -> list[str]:
    """Our labelled and fresh held-out questions (policy_kb/eval/), and a few odd ones."""
    out = list(EXTRA_QUESTIONS)
    for name in ("answer_keys.jsonl", "answer_keys_fresh.jsonl"):
        lines = (KB_DIR / "eval" / name).read_text(encoding="utf-8").splitlines()
        out += [json.loads(line)["q"] for line in lines if line.strip()]
    return out


def ranking(kb: KnowledgeBase, question: str) -> tuple:
    """Everything an answer is chosen from, to the last bit: the cards and the provisions."""
    cards = kb.rank_cards(understand(question, kb.kb_dir), limit=10)
    hits = kb.search(question, limit=10)
    return ([(h.card.id, h.score, h.lexical, h.matched) for h in cards], [(h.provision["id"], h.score) for h in hits])


def entries(cache: Path) -> list[str]:
    return sorted(p.name for p in (cache / "index").glob("*.npz"))


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty cache of the test's own, so the user's (~/.cache/jiuzhu-assistant) is left alone."""
    path = tmp_path / "cache"
    monkeypatch.setenv("JZ_KB_CACHE", str(path))
    return path


@pytest.fixture
def builds(monkeypatch) -> list[str]:
    """The indexes built (rather than read back) from here on."""
    built: list[str] = []
    build_cards, analyse = CardIndex.__init__, _Analysis.of.__func__

    def card_index(self, *args, **kwargs):
        built.append("cards")
        build_cards(self, *args, **kwargs)

    def analysis(cls, *args):
        built.append("provisions")
        return analyse(cls, *args)

    monkeypatch.setattr(CardIndex, "__init__", card_index)
    monkeypatch.setattr(_Analysis, "of", classmethod(analysis))
    return built


@pytest.fixture
def small_kb(tmp_path) -> Path:
    """A copy of the knowledge base with the cards of two topics only."""
    kb_dir = tmp_path / "policy_kb"
    (kb_dir / "cards").mkdir(parents=True)
    shutil.copy(KB_DIR / "provisions.jsonl", kb_dir)
    shutil.copytree(KB_DIR / "vocab", kb_dir / "vocab")
    for name in SMALL_KB_CARDS:
        shutil.copy(KB_DIR / "cards" / name, kb_dir / "cards")
    return kb_dir


def load(kb_dir: Path) -> KnowledgeBase:
    kb = KnowledgeBase.from_dir(kb_dir)
    assert kb.card_index is not None
    return kb


def test_an_index_read_from_the_cache_ranks_exactly_as_one_built(cache, builds):
    cold = load(KB_DIR)
    assert builds == ["provisions", "cards"]
    assert [name.split("-")[0] for name in entries(cache)] == ["cards", "provisions"]
    warm = load(KB_DIR)
    assert builds == ["provisions", "cards"]  # nothing built the second time
    assert warm.card_index.cards == cold.card_index.cards
    assert warm.card_index._texts == cold.card_index._texts
    for q in questions():
        assert ranking(warm, q) == ranking(cold, q), q


def test_a_changed_card_file_changes_the_key_and_rebuilds(small_kb, cache, builds):
    vocab = KnowledgeBase.from_dir(small_kb).vocab
    first = CardIndex.load(small_kb, vocab)
    key, provisions_key = index_key(small_kb), analysis_key(small_kb)
    path = small_kb / "cards" / SMALL_KB_CARDS[0]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    card = data["cards"][0]
    new_variant = "半夜三更想找个能说话的地方到底该打哪一个"
    card["variants"].append(new_variant)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    assert index_key(small_kb) != key
    assert analysis_key(small_kb) == provisions_key  # the provisions' analysis reads no card
    builds.clear()
    second = CardIndex.load(small_kb, vocab)
    assert builds == ["cards"]
    assert len(entries(cache)) == 3  # provisions, the cards before and after the edit
    edited = next(c for c in second.cards if c.id == card["id"])
    assert (
        new_variant in edited.variants
        and new_variant not in next(c for c in first.cards if c.id == card["id"]).variants
    )
    top = second.rank(normalize_text(new_variant, vocab), limit=1)[0]
    assert top.card.id == card["id"] and top.matched == normalize_text(new_variant, vocab)
    CardIndex.load(small_kb, vocab)
    assert builds == ["cards"]  # and the new entry is read back


@pytest.mark.parametrize("name", ["vocab/synonyms.yml", "vocab/jieba/userdict.txt", "provisions.jsonl"])
def test_every_input_is_in_the_key_of_the_index_it_shapes(small_kb, name):
    keys = index_key(small_kb), analysis_key(small_kb)
    with open(small_kb / name, "a", encoding="utf-8") as fh:
        fh.write("\n")
    cards_changed = index_key(small_kb) != keys[0]
    provisions_changed = analysis_key(small_kb) != keys[1]
    assert provisions_changed
    assert cards_changed == name.startswith("vocab/")  # the cards are not built from the provisions


def test_the_vocabulary_files_in_the_key_are_all_there_is():
    """A file added under policy_kb/vocab/ (a second jieba dictionary…) must be added to the key too."""
    present = {p.relative_to(KB_DIR).as_posix() for p in (KB_DIR / "vocab").rglob("*") if p.is_file()}
    assert present == set(derived.VOCABULARY_FILES)


def test_the_library_versions_in_the_key_are_found():
    for package in {*INDEX_PACKAGES, *ANALYSIS_PACKAGES}:
        assert importlib.metadata.version(package)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not an npz file" * 100)


def _other_entry(path: Path) -> None:
    """A readable entry, but another key's."""
    other = next(p for p in path.parent.glob("other-*.npz"))
    shutil.copy(other, path)


def _wrong_shape(path: Path) -> None:
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["owner"] = arrays["owner"][:-1]
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("damage", [_truncate, _garbage, _other_entry, _wrong_shape])
def test_a_damaged_entry_is_rebuilt_with_a_warning(small_kb, cache, builds, caplog, damage):
    vocab = load_vocabulary(small_kb)
    derived.cached("other", lambda: "key", build=dict, save=lambda _: derived.Entry(), restore=lambda _: {})
    cold = CardIndex.load(small_kb, vocab)
    [path] = (cache / "index").glob("cards-*.npz")
    damage(path)
    builds.clear()
    with caplog.at_level(logging.WARNING, logger="bot.kb.derived"):
        rebuilt = CardIndex.load(small_kb, vocab)
    assert builds == ["cards"]
    assert any("unreadable" in r.getMessage() and path.name in r.getMessage() for r in caplog.records)
    for q in EXTRA_QUESTIONS:
        text = normalize_text(q, vocab)
        assert rebuilt.rank(text, limit=10) == cold.rank(text, limit=10)
    builds.clear()
    CardIndex.load(small_kb, vocab)
    assert builds == []  # the rebuilt entry replaced the damaged one


def test_no_cache_folder_is_a_warning_not_a_failure(small_kb, tmp_path, monkeypatch, builds, caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("JZ_KB_CACHE", str(blocked))
    with caplog.at_level(logging.WARNING, logger="bot.kb.derived"):
        kb = load(small_kb)
    assert builds == ["provisions", "cards"]
    assert kb.rank_cards(understand("低保怎么申请", kb.kb_dir))
    assert any("no knowledge-base cache" in r.getMessage() for r in caplog.records)


def test_an_index_read_from_the_cache_imports_no_scikit_learn(small_kb, cache):
    load(small_kb)
    script = (
        "import sys; from bot.kb import KnowledgeBase; from bot.understanding import understand\n"
        f"kb = KnowledgeBase.from_dir({str(small_kb)!r})\n"
        "assert kb.rank_cards(understand('特困人员有哪些条件', kb.kb_dir))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))\n"
    )
    env = dict(os.environ, JZ_KB_CACHE=str(cache))
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
    assert "unreadable" not in out.stderr


def test_the_cache_keeps_its_newest_entries_only(cache):
    for n in range(derived.KEEP + 2):
        value = derived.cached(
            "test",
            lambda n=n: f"key{n}",
            build=lambda n=n: np.arange(n),
            save=lambda a: derived.Entry({"a": a}, {"n": len(a)}),
            restore=lambda e: e.arrays["a"],
        )
        assert value.tolist() == list(range(n))
        os.utime(cache / "index" / f"test-key{n}.npz", (n, n))  # older files first, whatever the clock
    assert entries(cache) == [f"test-key{n}.npz" for n in range(2, derived.KEEP + 2)]


def test_the_character_view_is_scikit_learns_char_wb(kb):
    """The classifier was trained with scikit-learn's char_wb analyzer until it learnt without
    scikit-learn at scoring time: char_grams must cut every text as that analyzer did."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    sklearn_char_wb = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)).build_analyzer()
    texts = [*kb.card_index._texts, "", " ", "a", "ab  CD\te", "低保 Q1:怎么  申请 ", "一  二"]
    for text in texts:
        assert char_grams(text) == sklearn_char_wb(text), text
