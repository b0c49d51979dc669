"""The keyword index: BM25 over every chunk (bm25s, through llama-index's BM25 retriever).

It catches what embeddings miss: exact terms, error codes, function and package names.
Derived from the catalog and rebuilt whole when the catalog changes (bm25s has no
incremental update); each build records the catalog generation it reflects, and each
chunk's access level: a query gives a score only to the chunks the asker may read (a
weight mask inside bm25s's own scoring), and `rarity` counts their words alone. BM25's word
weights are the whole index's, private chunks included: how public passages rank may shift
with words only private ones hold (no private text is returned). A save is
written beside the index under a name holding the writer's process id, so what a killed
save leaves is known for a leftover (`remove_scratch`) and a live one is never touched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from copqa.access import PUBLIC, known
from copqa.models import Chunk

_GENERATION_FILE = "copqa_generation.json"  # the generation, and each chunk's level
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern
# `.keyword-<pid>-<random>` while a save writes; `.retired-<pid>-<name>` while it swaps.
_SCRATCH = re.compile(r"\.(?:keyword|retired)-(?:(\d+)-)?")


class KeywordIndex:
    """BM25 scores of chunks for a query; empty when the store holds nothing."""

    def __init__(
        self, retriever: object | None, generation: int, levels: Sequence[str] = ()
    ) -> None:
        """`levels`: each indexed chunk's access level, in the index's order."""
        self._retriever = retriever
        self.generation = generation
        self._levels = np.asarray([known(level) for level in levels], dtype=object)
        self._masks: dict[tuple[str, ...], np.ndarray] = {}

    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str, str]], generation: int) -> KeywordIndex:
        """Index (chunk id, text, access level) triples."""
        import Stemmer
        from llama_index.core.schema import BaseNode, TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes: list[BaseNode] = []
        levels: list[str] = []
        for chunk_id, text, level in chunks:
            nodes.append(TextNode(id_=chunk_id, text=text))
            levels.append(level)
        if not nodes:
            return cls(None, generation)
        # bm25s warns through logging when k exceeds the corpus; k is capped per query instead.
        logging.getLogger("llama_index.retrievers.bm25").setLevel(logging.ERROR)
        retriever = BM25Retriever.from_defaults(
            nodes=nodes, stemmer=Stemmer.Stemmer("english"), language="en"
        )
        return cls(retriever, generation, levels)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The index saved in `folder`, or None when there is none (or it is unreadable)."""
        marker = folder / _GENERATION_FILE
        if not marker.is_file():
            return None
        saved = json.loads(marker.read_text())
        generation = int(saved["generation"])
        if not (folder / "params.index.json").is_file():
            return cls(None, generation)
        if "levels" not in saved:
            return None  # an older copqa's: rebuilt with the chunks' levels
        from llama_index.retrievers.bm25 import BM25Retriever

        logging.getLogger("llama_index.retrievers.bm25").setLevel(logging.ERROR)
        try:
            retriever = BM25Retriever.from_persist_dir(str(folder), show_progress=False)
        except (OSError, ValueError, KeyError):
            return None
        # The marker and the index are read one after the other: a save by another process
        # may swap the folder between them. The ids tell whether the levels are this index's.
        ids = [entry["node_id"] for entry in retriever.corpus]
        if saved.get("ids") != _digest(ids):
            return None
        return cls(retriever, generation, saved["levels"])

    def save(self, folder: Path) -> None:
        """Write to a new folder, then swap it in, so a reader never sees half an index."""
        staging = staging_folder(folder.parent)
        if self._retriever is not None:
            self._retriever.persist(str(staging), show_progress=False)  # type: ignore[attr-defined]
        marker = {"generation": self.generation, "levels": self._levels.tolist()}
        if self._retriever is not None:
            corpus = self._retriever.corpus  # type: ignore[attr-defined]
            marker["ids"] = _digest([entry["node_id"] for entry in corpus])
        (staging / _GENERATION_FILE).write_text(json.dumps(marker))
        retired = folder.with_name(f".retired-{os.getpid()}-{folder.name}")
        if folder.exists():
            folder.rename(retired)
        staging.rename(folder)
        shutil.rmtree(retired, ignore_errors=True)

    def search(
        self, query: str, k: int, levels: Sequence[str] | None = (PUBLIC,)
    ) -> list[tuple[str, float]]:
        """Up to k chunk ids with a positive BM25 score, best first, of these access levels.

        `levels`: what the asker may read (None: every level). The others weigh nothing in
        the scoring itself, so they are never among the k.
        """
        if self._retriever is None or k <= 0:
            return []
        import bm25s

        retriever: Any = self._retriever
        bm25 = retriever.bm25
        tokens = bm25s.tokenize(
            query, stemmer=retriever.stemmer, token_pattern=_TOKEN.pattern, show_progress=False
        )
        if not tokens.vocab:
            return []
        size = int(bm25.scores.get("num_docs", 0))
        indexes, scores = bm25.retrieve(
            tokens, k=min(k, size), show_progress=False, weight_mask=self._mask(levels)
        )
        # bm25s hands back the corpus entries themselves when it holds the corpus.
        entries = (i if isinstance(i, dict) else retriever.corpus[int(i)] for i in indexes[0])
        return [
            (entry["node_id"], float(score))
            for entry, score in zip(entries, scores[0], strict=True)
            if score > 0
        ]

    def _mask(self, levels: Sequence[str] | None) -> np.ndarray | None:
        """1 for each chunk of these levels, 0 for the others; None for every level."""
        if levels is None:
            return None
        key = tuple(sorted(levels))
        mask = self._masks.get(key)
        if mask is None:
            mask = np.isin(self._levels, key).astype(np.float32)
            self._masks[key] = mask
        return mask

    def terms(self, text: str) -> set[str]:
        """The keywords of a text as the index spells them: lower case, no stopwords, stemmed."""
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        stemmer = Stemmer.Stemmer("english")  # one per call: a stemmer is not thread-safe
        words = {w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS_EN}
        return set(stemmer.stemWords(sorted(words)))

    def rarity(self, text: str, levels: Sequence[str] | None = (PUBLIC,)) -> dict[str, float]:
        """Each keyword of a text with its inverse document frequency over the chunks.

        A word no chunk holds gets the highest rarity: the community never wrote it.
        Counted over the chunks of `levels` only, so how rare a word is tells an asker
        nothing of what they may not read.
        """
        terms = self.terms(text)
        if self._retriever is None:
            return dict.fromkeys(terms, 1.0)
        bm25 = self._retriever.bm25  # type: ignore[attr-defined]
        mask = self._mask(levels)
        size = int(bm25.scores["num_docs"]) if mask is None else int(mask.sum())
        starts, rows = bm25.scores["indptr"], bm25.scores["indices"]
        rarity = {}
        for term in terms:
            column = bm25.vocab_dict.get(term)
            if column is None:
                holding = 0
            elif mask is None:
                holding = int(starts[column + 1] - starts[column])
            else:
                holding = int(mask[rows[starts[column] : starts[column + 1]]].sum())
            rarity[term] = math.log((size + 1) / (holding + 0.5))
        return rarity


def _digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def staging_folder(parent: Path) -> Path:
    """A new, empty folder in `parent` for a save by this process to write into."""
    parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".keyword-{os.getpid()}-", dir=parent))


def remove_scratch(parent: Path) -> list[Path]:
    """Remove what saves killed midway left in `parent`; returns the folders removed.

    A folder whose writer still runs is kept: another process on this home (the page while
    `copqa ingest` runs) may be saving right now. One without a process id in its name was
    left by an older copqa, which named none.
    """
    removed = []
    for path in parent.glob(".*-*"):
        match = _SCRATCH.match(path.name)
        if match is None or not path.is_dir():
            continue
        if match.group(1) is not None and _running(int(match.group(1))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, run by another user
        return True
    return True


def keyword_text(chunk: Chunk) -> str:
    """What BM25 indexes for a chunk: title (often the question itself), section, the thread's
    question for a reply window, and text."""
    parts = (chunk.title, chunk.heading, chunk.context, chunk.text)
    return "\n".join(part for part in parts if part)
