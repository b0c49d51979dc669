"""The keyword index: BM25 over every chunk (bm25s, through llama-index's BM25 retriever).

It catches what embeddings miss: exact terms, error codes, function and package names.
Derived from the catalog and rebuilt whole when the catalog changes (bm25s has no
incremental update); each build records the catalog generation it reflects. A save is
written beside the index under a name holding the writer's process id, so what a killed
save leaves is known for a leftover (`remove_scratch`) and a live one is never touched.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from copqa.models import Chunk

_GENERATION_FILE = "copqa_generation.json"
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern
# `.keyword-<pid>-<random>` while a save writes; `.retired-<pid>-<name>` while it swaps.
_SCRATCH = re.compile(r"\.(?:keyword|retired)-(?:(\d+)-)?")


class KeywordIndex:
    """BM25 scores of chunks for a query; empty when the store holds nothing."""

    def __init__(self, retriever: object | None, generation: int) -> None:
        self._retriever = retriever
        self.generation = generation

    @classmethod
    def build(cls, chunks: Iterable[tuple[str, str]], generation: int) -> KeywordIndex:
        """Index (chunk id, text) pairs."""
        import Stemmer
        from llama_index.core.schema import BaseNode, TextNode
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes: list[BaseNode] = [TextNode(id_=chunk_id, text=text) for chunk_id, text in chunks]
        if not nodes:
            return cls(None, generation)
        # bm25s warns through logging when k exceeds the corpus; k is capped per query instead.
        logging.getLogger("llama_index.retrievers.bm25").setLevel(logging.ERROR)
        retriever = BM25Retriever.from_defaults(
            nodes=nodes, stemmer=Stemmer.Stemmer("english"), language="en"
        )
        return cls(retriever, generation)

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex | None:
        """The index saved in `folder`, or None when there is none (or it is unreadable)."""
        marker = folder / _GENERATION_FILE
        if not marker.is_file():
            return None
        generation = int(json.loads(marker.read_text())["generation"])
        if not (folder / "params.index.json").is_file():
            return cls(None, generation)
        from llama_index.retrievers.bm25 import BM25Retriever

        logging.getLogger("llama_index.retrievers.bm25").setLevel(logging.ERROR)
        try:
            retriever = BM25Retriever.from_persist_dir(str(folder), show_progress=False)
        except (OSError, ValueError, KeyError):
            return None
        return cls(retriever, generation)

    def save(self, folder: Path) -> None:
        """Write to a new folder, then swap it in, so a reader never sees half an index."""
        staging = staging_folder(folder.parent)
        if self._retriever is not None:
            self._retriever.persist(str(staging), show_progress=False)  # type: ignore[attr-defined]
        (staging / _GENERATION_FILE).write_text(json.dumps({"generation": self.generation}))
        retired = folder.with_name(f".retired-{os.getpid()}-{folder.name}")
        if folder.exists():
            folder.rename(retired)
        staging.rename(folder)
        shutil.rmtree(retired, ignore_errors=True)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """Up to k chunk ids with a positive BM25 score, best first."""
        if self._retriever is None or k <= 0:
            return []
        from llama_index.core.schema import QueryBundle

        size = int(self._retriever.bm25.scores.get("num_docs", 0))  # type: ignore[attr-defined]
        self._retriever.similarity_top_k = min(k, size)  # type: ignore[attr-defined]
        hits = self._retriever.retrieve(QueryBundle(query))  # type: ignore[attr-defined]
        return [(hit.node.node_id, float(hit.score)) for hit in hits if (hit.score or 0) > 0]

    def terms(self, text: str) -> set[str]:
        """The keywords of a text as the index spells them: lower case, no stopwords, stemmed."""
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        stemmer = Stemmer.Stemmer("english")  # one per call: a stemmer is not thread-safe
        words = {w for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS_EN}
        return set(stemmer.stemWords(sorted(words)))

    def rarity(self, text: str) -> dict[str, float]:
        """Each keyword of a text with its inverse document frequency over the chunks.

        A word no chunk holds gets the highest rarity: the community never wrote it.
        """
        terms = self.terms(text)
        if self._retriever is None:
            return dict.fromkeys(terms, 1.0)
        bm25 = self._retriever.bm25  # type: ignore[attr-defined]
        size = int(bm25.scores["num_docs"])
        starts = bm25.scores["indptr"]
        rarity = {}
        for term in terms:
            column = bm25.vocab_dict.get(term)
            holding = 0 if column is None else int(starts[column + 1] - starts[column])
            rarity[term] = math.log((size + 1) / (holding + 0.5))
        return rarity


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
