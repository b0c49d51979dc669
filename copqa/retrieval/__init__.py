"""Retrieval: dense, keyword and hybrid search over the store, and the re-ranker."""

from copqa.retrieval.reranking import Reranker, asker_only, reranker_path
from copqa.retrieval.retrievers import DenseRetriever, HybridRetriever, KeywordRetriever, Retriever

__all__ = [
    "DenseRetriever",
    "HybridRetriever",
    "KeywordRetriever",
    "Reranker",
    "Retriever",
    "asker_only",
    "reranker_path",
]
