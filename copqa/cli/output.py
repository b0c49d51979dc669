"""An answer as `copqa ask` prints it: JSON, the machine interface, and text for people."""

from __future__ import annotations

from copqa.models import Answer, Chunk, Citation, ScoredChunk, iso_day


def answer_json(answer: Answer) -> dict[str, object]:
    """The machine interface of an answer; evaluations depend on these keys."""
    return {
        "question": answer.question,
        "answer": answer.answer,
        "answered": answer.answered,
        "confidence": round(answer.confidence, 4),
        "citations": [_citation_json(c) for c in answer.citations],
        "retrieved": [_passage_json(p.chunk, p.score) for p in answer.retrieved],
        "experts": [{"name": e.name, "score": e.score, "why": e.why} for e in answer.experts],
        "unsupported": list(answer.unsupported),
    }


def _citation_json(citation: Citation) -> dict[str, object]:
    return {
        "n": citation.n,
        **_passage_json(citation.chunk, citation.score),
        "supported": citation.supported,
        "quotes": [
            {"text": q.text, "author": q.author, "post_id": q.post_id} for q in citation.quotes
        ],
    }


def _passage_json(chunk: Chunk, score: float) -> dict[str, object]:
    return {
        "id": chunk.id,
        "text": chunk.text,
        "score": round(score, 4),
        "title": chunk.title,
        "author": chunk.author,
        "uploader": chunk.uploader,
        "url": chunk.url,
        "path": chunk.path,
        "page": chunk.page,
        "created_at": chunk.created_at,
        "date": iso_day(chunk.created_at),
        "kind": chunk.kind,
        "channel": chunk.channel,
        "thread_id": chunk.thread_id,
        "heading": chunk.heading,
        "access": chunk.access,
        "posts": [
            {
                "id": p.id,
                "author": p.author_name,
                "url": p.url,
                "created_at": p.created_at,
                "date": iso_day(p.created_at),
            }
            for p in chunk.posts
        ],
    }


def answer_text(answer: Answer) -> str:
    lines = [answer.answer, ""]
    for citation in answer.citations:
        lines.append(f"[{citation.n}] {_source_line(ScoredChunk(citation.chunk, citation.score))}")
    if answer.experts:
        lines.append("Who to ask: " + "; ".join(f"{e.name} ({e.why})" for e in answer.experts))
    lines.append(f"confidence {answer.confidence:.2f}")
    return "\n".join(lines)


def _source_line(passage: ScoredChunk) -> str:
    chunk = passage.chunk
    where = chunk.url or chunk.path
    if chunk.page is not None:
        where += f" p. {chunk.page}"
    byline = f"uploaded by {chunk.uploader}" if chunk.uploader else chunk.author
    parts = [chunk.title, byline, chunk.channel, iso_day(chunk.created_at), where]
    return " · ".join(p for p in parts if p) + f"  (score {passage.score:.2f})"
