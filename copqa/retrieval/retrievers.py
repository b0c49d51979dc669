"""Finding the passages that answer a question: dense, keyword (BM25) and their fusion.

Dense retrieval matches meaning ("my print peels off the bed" finds "first-layer
adhesion"); BM25 matches exact terms (`R_CheckUserInterrupt`, `E0425`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from copqa.embedding import Embedder
from copqa.models import NO_FILTER, Chunk, ScoredChunk, SearchFilter
from copqa.retrieval.reranking import Reranker, asker_only, features
from copqa.sentences import POST_HEADER
from copqa.store import KeywordIndex

RRF_K = 60  # the constant of Cormack et al.; dampens the weight of the very top ranks


class SearchableStore(Protocol):
    """What retrieval needs of the store (`copqa.store.Store` is one)."""

    def search(
        self, vector: np.ndarray, k: int, where: SearchFilter = NO_FILTER
    ) -> list[ScoredChunk]: ...

    def similarities(self, vector: np.ndarray, ids: Sequence[str]) -> dict[str, float]: ...

    def chunks(self, hits: Sequence[tuple[str, float]]) -> list[ScoredChunk]: ...

    def keyword_index(self) -> KeywordIndex: ...


FOLLOWING = 3  # reply windows after a thread's opening one that may hold its answer


@dataclass(frozen=True)
class Candidates:
    """What fusion found for a question: chunks in the fused order and their scores."""

    ordered: list[Chunk]
    similarity: dict[str, float]  # cosine to the question
    keyword: dict[str, float]  # BM25 relative to the question's best match
    vector: np.ndarray


class Retriever(Protocol):
    def retrieve(
        self, question: str, k: int, where: SearchFilter = NO_FILTER
    ) -> list[ScoredChunk]: ...


class DenseRetriever:
    """Nearest chunks by cosine similarity of the question's embedding."""

    def __init__(self, store: SearchableStore, embedder: Embedder) -> None:
        self._store = store
        self._embedder = embedder

    def retrieve(self, question: str, k: int, where: SearchFilter = NO_FILTER) -> list[ScoredChunk]:
        return self._store.search(self._embedder.embed_query(question), k, where)


class KeywordRetriever:
    """Best BM25 matches of the levels the asker may read (the index filters by level itself);
    the other filters are applied to a larger pool."""

    def __init__(self, store: SearchableStore) -> None:
        self._store = store

    def retrieve(self, question: str, k: int, where: SearchFilter = NO_FILTER) -> list[ScoredChunk]:
        pool = k * 10 if where.narrows() else k
        found = self._store.keyword_index().search(question, pool, where.levels)
        return [h for h in self._store.chunks(found) if where.admits(h.chunk)][:k]


class HybridRetriever:
    """Dense and keyword results fused: by score (default) or by weighted reciprocal rank.

    Score fusion adds to each candidate's cosine similarity a small share of its BM25
    score relative to the query's best: exact terms break near-ties between passages
    that mean much the same. On StackFAQ and ClapNQ it beat both retrievers alone,
    where reciprocal rank fusion fell below dense retrieval (see the README's table).

    The fused list keeps at most `per_document` chunks of one thread or file, so one long
    discussion cannot crowd out the rest, and of two near-identical passages keeps the
    newer one, except that a member's upload never displaces another's source (`_displaces`).
    Scores are cosine similarities to the question (comparable across questions, which
    abstention needs); the order is the fused one.
    """

    def __init__(
        self,
        store: SearchableStore,
        embedder: Embedder,
        dense_weight: float = 1.0,
        keyword_weight: float = 0.1,
        pool: int = 30,
        per_document: int = 2,
        fusion: Literal["score", "rrf"] = "score",
        thread_answers: bool = True,
        asker_weight: float = 0.1,
        reranker: Reranker | None = None,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._keyword = KeywordRetriever(store)
        self.fusion = fusion
        self.dense_weight = dense_weight
        self.keyword_weight = keyword_weight
        self.pool = pool
        self.per_document = per_document
        self.thread_answers = thread_answers
        self.asker_weight = asker_weight
        self.reranker = reranker

    def retrieve(self, question: str, k: int, where: SearchFilter = NO_FILTER) -> list[ScoredChunk]:
        found = self.candidates(question, k, where)
        ordered = found.ordered
        if self.reranker is not None:
            ordered = self._reranked(question, found)
        if self.thread_answers:
            ordered = self._with_answers(ordered, k, found.vector, found.similarity, where)
        selected = _diverse(ordered, k, self.per_document)
        return [ScoredChunk(c, found.similarity.get(c.id, 0.0)) for c in selected]

    def candidates(self, question: str, k: int, where: SearchFilter = NO_FILTER) -> Candidates:
        """Both retrievers' finds in the fused order (before re-ranking), with their scores."""
        depth = max(self.pool, k * 3)
        vector = self._embedder.embed_query(question)
        dense = self._store.search(vector, depth, where)
        keyword = self._keyword.retrieve(question, depth, where)
        chunks = {h.chunk.id: h.chunk for h in [*dense, *keyword]}
        similarity = {h.chunk.id: h.score for h in dense}
        similarity.update(
            self._store.similarities(vector, [cid for cid in chunks if cid not in similarity])
        )
        best = max((h.score for h in keyword), default=0.0) or 1.0
        relative = {h.chunk.id: h.score / best for h in keyword}
        fused = self._fuse(dense, keyword, similarity, relative)
        if self.asker_weight:
            for cid in fused:
                if asker_only(chunks[cid]):
                    fused[cid] -= self.asker_weight
        ordered = sorted(fused, key=lambda cid: (-fused[cid], -(chunks[cid].created_at or 0)))
        return Candidates([chunks[cid] for cid in ordered], similarity, relative, vector)

    def features(self, question: str, found: Candidates) -> np.ndarray:
        """The re-ranker's features of each candidate (copqa/retrieval/reranking.py)."""
        return features(
            question, found.ordered, found.similarity, found.keyword, self._store.keyword_index()
        )

    def _reranked(self, question: str, found: Candidates) -> list[Chunk]:
        assert self.reranker is not None
        scores = self.reranker.scores(self.features(question, found))
        order = sorted(range(len(found.ordered)), key=lambda i: -scores[i])  # stable on ties
        return [found.ordered[i] for i in order]

    def _with_answers(
        self,
        candidates: list[Chunk],
        k: int,
        vector: np.ndarray,
        similarity: dict[str, float],
        where: SearchFilter,
    ) -> list[Chunk]:
        """A thread's question found brings its best reply window along, right after it.

        The question post matches a question best, but the knowledge is in the replies: of
        the windows that follow the opening one, the one holding the accepted answer, else
        the one nearest the question.
        """
        openers = [c for c in candidates[:k] if c.thread_id and c.id.endswith(":0")]
        following = [f"{c.document_id}:{n}" for c in openers for n in range(1, 1 + FOLLOWING)]
        fetched = {
            h.chunk.id: h.chunk
            for h in self._store.chunks([(i, 0.0) for i in following])
            if where.admits(h.chunk)
        }
        fetched.update({c.id: c for c in candidates if c.id in following})
        similarity.update(
            self._store.similarities(vector, [i for i in fetched if i not in similarity])
        )
        rank = {c.id: n for n, c in enumerate(candidates)}
        answer_for: dict[str, Chunk] = {}
        for opener in openers:
            replies = [fetched[i] for i in following if i.startswith(f"{opener.document_id}:")
                       and i in fetched]  # fmt: skip
            if not replies:
                continue
            best = max(
                replies, key=lambda c: (any(p.accepted for p in c.posts), similarity.get(c.id, 0.0))
            )
            # Only ever brought up: a reply already found above its question stays where it is.
            if rank.get(best.id, len(candidates)) > rank[opener.id]:
                answer_for[opener.id] = best
        if not answer_for:
            return candidates
        moved = {a.id for a in answer_for.values()}
        result: list[Chunk] = []
        for chunk in candidates:
            if chunk.id in moved:
                continue
            result.append(chunk)
            if chunk.id in answer_for:
                result.append(answer_for[chunk.id])
        return result

    def _fuse(
        self,
        dense: list[ScoredChunk],
        keyword: list[ScoredChunk],
        similarity: dict[str, float],
        relative: dict[str, float],
    ) -> dict[str, float]:
        if self.fusion == "rrf":
            fused: dict[str, float] = {}
            for weight, ranking in ((self.dense_weight, dense), (self.keyword_weight, keyword)):
                for rank, hit in enumerate(ranking):
                    fused[hit.chunk.id] = fused.get(hit.chunk.id, 0.0) + weight / (RRF_K + rank + 1)
            return fused
        # Score fusion: cosine similarity, nudged by BM25 relative to the query's best match.
        return {
            cid: self.dense_weight * sim + self.keyword_weight * relative.get(cid, 0.0)
            for cid, sim in similarity.items()
        }


def _diverse(candidates: Sequence[Chunk], k: int, per_document: int) -> list[Chunk]:
    candidates = _without_shadowed_uploads(candidates)
    chosen: list[Chunk] = []
    per_doc: dict[str, int] = {}
    for chunk in candidates:
        if per_doc.get(chunk.document_id, 0) >= per_document:
            continue
        twin = next((c for c in chosen if _near_duplicate(c, chunk)), None)
        if twin is not None:
            if _displaces(chunk, twin):
                chosen[chosen.index(twin)] = chunk
                per_doc[twin.document_id] -= 1
                per_doc[chunk.document_id] = per_doc.get(chunk.document_id, 0) + 1
            continue
        chosen.append(chunk)
        per_doc[chunk.document_id] = per_doc.get(chunk.document_id, 0) + 1
        if len(chosen) == k:
            break
    return chosen


def _without_shadowed_uploads(candidates: Sequence[Chunk]) -> list[Chunk]:
    """The candidates less every upload that copies one of the community's candidates.

    Checked over all candidates, not only the chosen ones: a copy must not take the
    place of an original that `per_document` keeps out of the list.
    """
    community = [c for c in candidates if not c.uploader]
    return [
        c for c in candidates if not c.uploader or not any(_near_duplicate(o, c) for o in community)
    ]


def _displaces(copy: Chunk, kept: Chunk) -> bool:
    """Whether `copy` replaces its near-duplicate `kept`: the newer wins, within one voice.

    A member's upload never displaces another person's words or the community's own
    sources (ingested by the maintainers, without an uploader): an edited copy of an
    official guide must not stand in for it. The community's source displaces an upload.
    """
    if copy.uploader != kept.uploader:
        return not copy.uploader if kept.uploader else False
    return (copy.created_at or 0) > (kept.created_at or 0)


_WORD = re.compile(r"\w+")


def _words(chunk: Chunk) -> frozenset[str]:
    return _text_words(chunk.text)


@functools.lru_cache(maxsize=4096)  # each candidate is compared with every chosen one
def _text_words(text: str) -> frozenset[str]:
    lines = (POST_HEADER.sub("", line) for line in text.lower().splitlines())
    return frozenset(word for line in lines for word in _WORD.findall(line))


SAME_WORDS = 0.85  # Jaccard of two passages' words: a cross-post, a re-uploaded file
EDITED_COPY = 0.7  # between an upload and another's source: a copy with a sentence changed


def _near_duplicate(a: Chunk, b: Chunk) -> bool:
    """The same words, whoever posted them when; from different uploaders, most of them.

    A member's edited copy of a guide changes a sentence or two: in a short passage that
    is well under `SAME_WORDS` (a one-sentence edit of a 40-word passage measured 0.83).
    """
    words_a, words_b = _words(a), _words(b)
    if not words_a or not words_b:
        return False
    enough = SAME_WORDS if a.uploader == b.uploader else EDITED_COPY
    return len(words_a & words_b) / len(words_a | words_b) >= enough
