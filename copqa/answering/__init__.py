"""Answering: quoting and LLM answerers, citations and their checks, confidence, who to ask."""

from copqa.answering.answerers import (
    Answerer,
    CitationChecker,
    ExtractiveAnswerer,
    StreamingAnswerer,
)
from copqa.answering.confidence import Calibration, Signals, Vocabulary
from copqa.answering.experts import ExpertFinder
from copqa.answering.llm import LLMAnswerer, build_llm
from copqa.answering.small_talk import without_small_talk

__all__ = [
    "Answerer",
    "Calibration",
    "CitationChecker",
    "ExpertFinder",
    "ExtractiveAnswerer",
    "LLMAnswerer",
    "Signals",
    "StreamingAnswerer",
    "Vocabulary",
    "build_llm",
    "without_small_talk",
]
