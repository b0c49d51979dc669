"""Wires the stages together: `Assistant.from_settings(settings).ask(question)`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

from copqa.answering import (
    Answerer,
    Calibration,
    CitationChecker,
    ExpertFinder,
    ExtractiveAnswerer,
    Signals,
    StreamingAnswerer,
    without_small_talk,
)
from copqa.embedding import Embedder
from copqa.errors import QuestionTooLongError
from copqa.models import NO_FILTER, Answer, ScoredChunk, SearchFilter
from copqa.retrieval import (
    DenseRetriever,
    HybridRetriever,
    KeywordRetriever,
    Reranker,
    Retriever,
    reranker_path,
)
from copqa.settings import AnswerSettings, Settings
from copqa.store import Store
from copqa.tuning import calibration_path, train

FOLLOW_UP_WORDS = 8  # a question this short after another one leans on it ("and on Windows?")


class Assistant:
    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        store: Store,
        retriever: Retriever,
        answerer: Answerer,
        experts: ExpertFinder | None = None,
        extractive: ExtractiveAnswerer | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.retriever = retriever
        self.answerer = answerer
        self._experts = experts or ExpertFinder()
        # The quoting answerer (the answer itself, or the LLM's fallback): evaluation probes it.
        self.extractive = extractive or ExtractiveAnswerer(embedder)

    @classmethod
    def from_settings(cls, settings: Settings) -> Assistant:
        embedder = Embedder.from_settings(settings)
        store = Store.from_settings(settings, embedder.identity, embedder.dimension)
        try:
            store.check_vectors()
        except BaseException:
            store.close()
            raise
        return cls.on_store(settings, embedder, store)

    @classmethod
    def on_store(cls, settings: Settings, embedder: Embedder, store: Store) -> Assistant:
        """An assistant answering from an open store, with the retriever and answerer the settings name."""
        extractive = build_extractive(settings, embedder, store)
        return cls(
            settings,
            embedder,
            store,
            build_retriever(settings, store, embedder),
            build_answerer(settings, embedder, extractive),
            extractive=extractive,
        )

    def passages(self, question: str, where: SearchFilter = NO_FILTER) -> list[ScoredChunk]:
        """The passages `ask` would answer from."""
        return self._retrieve(question, None, (), where)

    def quoted(self, question: str, passages: list[ScoredChunk]) -> tuple[Signals, list[str]]:
        """The extractive answer's signals, and the documents of the passages it quotes."""
        signals, quoted = self.extractive.assess(question, passages)
        return signals, [passages[i].chunk.document_id for i in quoted]

    def ask(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[str] = (),
        where: SearchFilter = NO_FILTER,
    ) -> Answer:
        """Answer a question; `history` holds the conversation's earlier questions."""
        passages = self._retrieve(question, k, history, where)
        answer = self.answerer.answer(question, passages)
        return dataclasses.replace(answer, experts=self._experts.find(passages, quoted_by(answer)))

    def ask_streaming(
        self,
        question: str,
        k: int | None = None,
        history: Sequence[str] = (),
        where: SearchFilter = NO_FILTER,
    ) -> Iterator[str | Answer]:
        """Like `ask`, for a page: the answer's text as it grows, then the `Answer`.

        Each text holds only sentences that passed the citation check (an LLM's reply is
        shown sentence by sentence as each passes); the `Answer`, always the last item, is
        what to keep, and may differ (renumbered, or quoted when the LLM's reply failed).
        """
        passages = self._retrieve(question, k, history, where)
        if isinstance(self.answerer, StreamingAnswerer):
            for item in self.answerer.answer_streaming(question, passages):
                if isinstance(item, Answer):
                    answer = item
                else:
                    yield item
        else:
            answer = self.answerer.answer(question, passages)
        yield dataclasses.replace(answer, experts=self._experts.find(passages, quoted_by(answer)))

    def _retrieve(
        self, question: str, k: int | None, history: Sequence[str], where: SearchFilter
    ) -> list[ScoredChunk]:
        check_question(question, history, self.settings.answer)
        depth = self.settings.retrieval.top_k if k is None else k
        if depth <= 0:
            return []
        query = self._standalone(without_small_talk(question), history)
        return self.retriever.retrieve(query, depth, where)

    def retrain_reranker(self, on_question: Callable[[int], None] | None = None) -> Reranker | None:
        """Train, save and start using the re-ranker; None (the old one kept) when it cannot be.

        Only the hybrid retriever re-ranks; with too few solved threads nothing is learnt.
        """
        retriever = self.retriever
        if not isinstance(retriever, HybridRetriever):
            return None
        reranker = train(retriever, self.store, on_question=on_question)
        if reranker is not None:
            reranker.save(reranker_path(self.settings.home))
            if self.settings.retrieval.rerank:
                retriever.reranker = reranker
        return reranker

    def close(self) -> None:
        self.store.close()

    def _standalone(self, question: str, history: Sequence[str]) -> str:
        """A follow-up as a question of its own: condensed by the LLM if there is one."""
        if history and len(question.split()) <= FOLLOW_UP_WORDS:
            condense = getattr(self.answerer, "condense", None)
            if condense is not None:
                return str(condense(question, history))
        return retrieval_query(question, history)


def quoted_by(answer: Answer) -> set[str]:
    """The members whose words the answer quotes."""
    return {q.author for c in answer.citations for q in c.quotes if q.author}


def check_question(
    question: str, history: Sequence[str], limits: AnswerSettings, history_chars: int = 0
) -> None:
    """Refuse what is too big to answer, before it costs a search or a line in the log.

    `history_chars` is the size of the whole conversation a client sent back, answers
    included, when there is more of it than `history`'s questions.

    Raises:
        QuestionTooLongError: The question, or the conversation sent with it, is too long.
    """
    if len(question) > limits.max_question_chars:
        raise QuestionTooLongError(
            f"the question is {len(question):,} characters long; the limit is "
            f"{limits.max_question_chars:,}: ask it in fewer words"
        )
    if len(history) > limits.max_history_turns:
        raise QuestionTooLongError(
            f"the conversation has {len(history)} earlier questions; the limit is "
            f"{limits.max_history_turns}: clear the chat and ask again"
        )
    sent = max(history_chars, sum(len(q) for q in history))
    if sent > limits.max_history_chars:
        raise QuestionTooLongError(
            f"the conversation sent with the question is {sent:,} characters long; the limit "
            f"is {limits.max_history_chars:,}: clear the chat and ask again"
        )


def retrieval_query(question: str, history: Sequence[str]) -> str:
    """Without an LLM, a short follow-up is searched together with the question it follows."""
    if history and len(question.split()) <= FOLLOW_UP_WORDS:
        return f"{history[-1]} {question}"
    return question


def build_retriever(settings: Settings, store: Store, embedder: Embedder) -> Retriever:
    options = settings.retrieval
    if options.mode == "dense":
        return DenseRetriever(store, embedder)
    if options.mode == "keyword":
        return KeywordRetriever(store)
    return HybridRetriever(
        store,
        embedder,
        dense_weight=options.dense_weight,
        keyword_weight=options.keyword_weight,
        pool=options.pool,
        per_document=options.per_document,
        thread_answers=options.thread_answers,
        asker_weight=options.asker_weight,
        reranker=Reranker.load(reranker_path(settings.home)) if options.rerank else None,
        fusion=options.fusion,
    )


def build_extractive(settings: Settings, embedder: Embedder, store: Store) -> ExtractiveAnswerer:
    """The quoting answerer, calibrated for this community when `copqa tune` has run."""
    calibration = Calibration.load(calibration_path(settings.home)) or Calibration()
    if settings.answer.abstain_below is not None:
        calibration = dataclasses.replace(calibration, threshold=settings.answer.abstain_below)
    return ExtractiveAnswerer(
        embedder,
        calibration,
        max_sentences=settings.answer.max_sentences,
        per_passage=settings.answer.sentences_per_passage,
        vocabulary=CommunityVocabulary(store),
    )


def build_answerer(
    settings: Settings, embedder: Embedder, extractive: ExtractiveAnswerer
) -> Answerer:
    if settings.llm.provider == "none":
        return extractive
    from copqa.answering import LLMAnswerer, build_llm

    return LLMAnswerer(build_llm(settings.llm), CitationChecker(embedder), extractive)


class CommunityVocabulary:
    """The store's keyword index as the vocabulary confidence needs (it is rebuilt on change)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def terms(self, text: str) -> set[str]:
        return self._store.keyword_index().terms(text)

    def rarity(self, text: str) -> dict[str, float]:
        return self._store.keyword_index().rarity(text)
