"""Ingest throughput against the model's own speed and llama-index's default path, in one run.

1. copqa ingests a corpus into a fresh store (model already loaded);
2. the plain sentence-transformers model, at copqa's precision, encodes exactly the texts
   copqa embedded ("raw": the ceiling for any ingest);
3. llama-index's default path indexes the same documents: `HuggingFaceEmbedding` over the
   same local model, `VectorStoreIndex.from_documents` into a `ChromaVectorStore` on disk,
   at its default fp32 and, when copqa runs at bf16, at bf16 too;
4. copqa ingests the unchanged corpus again.

llama-index is given the text copqa's loaders extract (its `SimpleDirectoryReader` without
`llama-index-readers-file`, which is not installed, would read the PDF's bytes and the HTML's
markup as text), and its time includes that loading, measured once. Its nodes are cut at
1024 tokens, which the model truncates at 256, so it embeds fewer, longer-than-read texts:
per-chunk rates differ in meaning, and whole-corpus seconds are the fair comparison.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from copqa.embedding import Embedder, embedding_text
from copqa.models import Document
from copqa.settings import Settings
from copqa.store import Store
from ingest.factory import build_pipeline
from ingest.loaders import all_loaders
from ingest.sources import FoundSource, SourceFinder

Figures = dict[str, float | str]


class _Clock:
    """Wall and CPU seconds of a block. This machine is shared: when others load it, wall
    time stretches and CPU time (all threads of this process) barely moves, so ratios
    are given on both."""

    def __enter__(self) -> _Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_: object) -> None:
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def run(corpus: Path) -> Figures:
    with tempfile.TemporaryDirectory(prefix="copqa-bench-") as home:
        settings = Settings(home=Path(home))
        embedder = Embedder.from_settings(settings)
        embedder.embed(["warm up the model once"])
        store = Store(settings.home, embedder.identity, embedder.dimension)
        pipeline = build_pipeline(settings, store, embedder)

        with _Clock() as copqa:
            first = pipeline.ingest([corpus])
        texts = [embedding_text(c) for batch in store.iter_chunks() for c in batch]
        raw_precision = embedder.precision if embedder.precision in ("fp32", "bf16") else "fp32"
        raw = _raw_encode(settings, raw_precision, texts)

        with _Clock() as loading:
            documents = _load_documents(settings, corpus)
        llama = {"fp32": _llama_index_default(settings, documents, "fp32", Path(home))}
        if embedder.precision == "bf16":
            llama["bf16"] = _llama_index_default(settings, documents, "bf16", Path(home))

        with _Clock() as reingest:
            again = pipeline.ingest([corpus])
        store.close()
    if again.added or again.updated:
        raise RuntimeError(f"re-ingest changed the store: {again.to_json()}")

    figures: Figures = {
        "precision": embedder.precision,
        "raw_precision": raw_precision,
        "documents": float(first.added),
        "chunks": float(first.chunks),
        "tokens_read": float(sum(_tokens_read(embedder, t) for t in texts)),
        "raw_s": raw.wall,
        "raw_cpu_s": raw.cpu,
        "copqa_s": copqa.wall,
        "copqa_cpu_s": copqa.cpu,
        "reingest_s": reingest.wall,
        "load_s": loading.wall,
        "load_cpu_s": loading.cpu,
    }
    figures["ingest_vs_raw"] = raw.wall / copqa.wall  # same texts: a ratio of chunks/s
    figures["ingest_vs_raw_cpu"] = raw.cpu / copqa.cpu
    figures["reingest_speedup"] = copqa.wall / reingest.wall
    for precision, (node_texts, clock) in llama.items():
        figures[f"llama_{precision}_nodes"] = float(len(node_texts))
        figures[f"llama_{precision}_s"] = loading.wall + clock.wall
        figures[f"llama_{precision}_cpu_s"] = loading.cpu + clock.cpu
        figures[f"llama_{precision}_vs_copqa"] = (loading.wall + clock.wall) / copqa.wall
        figures[f"llama_{precision}_vs_copqa_cpu"] = (loading.cpu + clock.cpu) / copqa.cpu
    tokens = [len(embedder.tokenize(text)) for text in llama["fp32"][0]]
    figures["llama_tokens"] = float(sum(tokens))
    figures["llama_tokens_read"] = float(sum(min(n + 2, embedder.max_tokens) for n in tokens))
    return figures


def _tokens_read(embedder: Embedder, text: str) -> int:
    """Word pieces the model reads of `text`: its own two special ones, and 256 at most."""
    return min(len(embedder.tokenize(text)) + 2, embedder.max_tokens)


def _raw_encode(settings: Settings, precision: str, texts: list[str]) -> _Clock:
    """The time the plain sentence-transformers model takes to encode `texts`.

    The model is cast to bfloat16 the way `Embedder` does it, so the raw figure is the
    ceiling for copqa at the same precision.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    model_path = settings.embedding.resolved_model_path()
    model = SentenceTransformer(str(model_path), device="cpu", local_files_only=True)
    if precision == "bf16":
        model.to(torch.bfloat16)
    batch_size = settings.embedding.batch_size
    model.encode(["warm up the model once"], batch_size=batch_size, normalize_embeddings=True)
    with _Clock() as clock:
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
    return clock


def _load_documents(settings: Settings, corpus: Path) -> list[Document]:
    """Every document copqa's loaders read from `corpus` (nothing chunked or embedded)."""
    documents: list[Document] = []
    for found in SourceFinder(all_loaders(settings.sources)).find(corpus):
        if isinstance(found, FoundSource):
            documents += [d for d in found.loader.load(found.path) if isinstance(d, Document)]
    return documents


def _llama_index_default(
    settings: Settings, documents: list[Document], precision: str, home: Path
) -> tuple[list[str], _Clock]:
    """The node texts and the time of llama-index's documented default path.

    `HuggingFaceEmbedding` loads the same local model (fp32 by default; bf16 through the
    `torch_dtype` it passes on to sentence-transformers), `VectorStoreIndex.from_documents`
    splits with its default `SentenceSplitter` (1024 tokens), embeds in its default batches
    of 10 and writes to Chroma on disk. `MockLLM` keeps any LLM call off the network.
    """
    import chromadb
    import torch
    from llama_index.core import Document as LlamaDocument
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.llms import MockLLM
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    LlamaSettings.llm = MockLLM()
    model_kwargs = {"torch_dtype": torch.bfloat16} if precision == "bf16" else {}
    embed_model = HuggingFaceEmbedding(
        model_name=str(settings.embedding.resolved_model_path()),
        device="cpu",
        model_kwargs={"local_files_only": True, **model_kwargs},
    )
    embed_model.get_text_embedding("warm up the model once")
    llama_documents = [
        LlamaDocument(text=_plain_text(d), metadata={"file_path": d.path}) for d in documents
    ]
    client = chromadb.PersistentClient(path=str(home / f"llama-{precision}"))
    collection = client.get_or_create_collection("bench")
    with _Clock() as clock:
        storage = StorageContext.from_defaults(
            vector_store=ChromaVectorStore(chroma_collection=collection)
        )
        VectorStoreIndex.from_documents(
            llama_documents, storage_context=storage, embed_model=embed_model
        )
    node_texts = collection.get(include=["documents"])["documents"] or []
    return node_texts, clock


def _plain_text(document: Document) -> str:
    """A document's text as one string: its sections, or its posts, in order."""
    parts = [s.text for s in document.sections] + [p.text for p in document.posts]
    return "\n\n".join(parts)


def report(corpus: Path, figures: Figures) -> str:
    chunks, copqa_s = float(figures["chunks"]), float(figures["copqa_s"])
    lines = [
        f"ingest benchmark on {corpus} (embedding precision {figures['precision']}); "
        "seconds are wall (CPU)",
        f"  documents {figures['documents']:.0f}, chunks {chunks:.0f}, "
        f"{figures['tokens_read']:.0f} word pieces read by the model",
        f"  raw sentence-transformers encode : {chunks / float(figures['raw_s']):7.1f} chunks/s, "
        f"{figures['raw_s']:.1f} s ({figures['raw_cpu_s']:.1f}), "
        f"{figures['raw_precision']}, copqa's chunk texts",
        f"  copqa end-to-end ingest          : {chunks / copqa_s:7.1f} chunks/s, "
        f"{copqa_s:.1f} s ({figures['copqa_cpu_s']:.1f})",
        f"  ratio ingest / raw encode        : {figures['ingest_vs_raw']:7.2f} "
        f"({figures['ingest_vs_raw_cpu']:.2f})   (target >= 0.85)",
    ]
    for precision, label in (("fp32", "its default fp32"), ("bf16", "bf16 as copqa")):
        if f"llama_{precision}_s" not in figures:
            continue
        nodes, seconds = float(figures[f"llama_{precision}_nodes"]), figures[f"llama_{precision}_s"]
        lines += [
            f"  llama-index default path, {label}: {nodes:.0f} nodes, {nodes / float(seconds):.1f} "
            f"nodes/s, {seconds:.1f} s ({figures[f'llama_{precision}_cpu_s']:.1f}) "
            f"of which loading {figures['load_s']:.1f} s ({figures['load_cpu_s']:.1f})",
            f"    copqa / llama-index on the corpus : {figures[f'llama_{precision}_vs_copqa']:.2f}x "
            f"({figures[f'llama_{precision}_vs_copqa_cpu']:.2f}x) faster   (target >= 2x)",
        ]
    lines += [
        f"  llama-index nodes hold {figures['llama_tokens']:.0f} word pieces; the model reads "
        f"{figures['llama_tokens_read']:.0f} of them ({figures['llama_tokens_read'] / figures['llama_tokens']:.0%}), "
        "the rest of each 1024-token node is cut at 256",
        f"  re-ingest unchanged corpus       : {figures['reingest_s']:7.2f} s, "
        f"{figures['reingest_speedup']:.0f}x faster   (target >= 20x)",
    ]
    return "\n".join(lines)
