"""Chroma: chunk vectors and their flat metadata, nothing else.

Embedded on disk under `COPQA_HOME/chroma` by default; with `COPQA_CHROMA__URL`, on a Chroma
server (`chroma run --path DIR --port PORT`). The client is chosen once, in `ChromaVectors.open`;
everything after that is the same code for both.

Chroma never embeds here: every write passes `embeddings=` and every query
`query_embeddings=` (its default embedder would try to download a model).

An embedded collection is searched through an index each process loads into memory once:
another process's writes reach the files but not that index, so `refresh` loads it again.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from copqa.errors import ConfigError, ModelMismatchError, StoreError
from copqa.models import NO_FILTER, SearchFilter

COLLECTION = "copqa_chunks"
# chromadb's HTTP client waits forever (httpx timeout=None); a server that accepts the
# connection but never answers is caught by this probe before the client is built.
HEARTBEAT_TIMEOUT = 5.0


class ChromaVectors:
    """One cosine-space collection that records which embedding model filled it."""

    def __init__(
        self,
        client: Any,
        model_identity: str,
        dimension: int,
        collection: str = COLLECTION,
        location: str = "",
        server_url: str = "",
    ) -> None:
        """Use `open`; this takes an already built chromadb client."""
        self._client = client
        self._server_url = server_url
        self._location = location or (server_url and f"the Chroma server at {server_url}")
        self._name, self._model_identity, self._dimension = collection, model_identity, dimension
        self._gate = _Gate()
        self._connect(collection, model_identity, dimension)

    def _connect(self, collection: str, model_identity: str, dimension: int) -> None:
        client, server_url = self._client, self._server_url
        try:
            with self._server_errors():
                self._collection = client.get_or_create_collection(
                    collection,
                    configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
                    metadata={"embedding_model": model_identity, "dimension": dimension},
                    embedding_function=None,
                )
                self._max_batch = client.get_max_batch_size()
        except StoreError:
            self.close()
            raise
        except Exception as exc:  # chromadb raises many unrelated types for a bad folder
            self.close()
            fix = (
                "the server's log says why"
                if server_url
                else "`copqa rebuild` makes the vectors again from the catalog"
            )
            raise StoreError(
                f"the collection {collection!r} at {self._location} cannot be opened ({exc}); {fix}"
            ) from exc
        fix = "another COPQA_CHROMA__COLLECTION" if server_url else "a new COPQA_HOME"
        built_with = (self._collection.metadata or {}).get("embedding_model")
        if built_with != model_identity:
            self.close()
            raise ModelMismatchError(
                f"the collection {collection!r} at {self._location} was built with the "
                f"embedding model {built_with!r}, not {model_identity!r}: use that model, "
                f"or ingest into {fix}"
            )
        built_for = (self._collection.metadata or {}).get("dimension")
        if built_for is not None and built_for != dimension:
            self.close()
            raise ModelMismatchError(
                f"the collection {collection!r} at {self._location} holds {built_for}-d vectors, "
                f"not {dimension}-d: use the model it was built with, or ingest into {fix}"
            )

    @classmethod
    def open(
        cls,
        path: Path,
        model_identity: str,
        dimension: int,
        url: str = "",
        collection: str = COLLECTION,
    ) -> ChromaVectors:
        """The collection on the Chroma server at `url`, or embedded under `path` without one.

        Raises:
            ConfigError: `url` is not an http(s) URL.
            StoreError: The server does not answer, or the folder cannot be opened.
            ModelMismatchError: Another embedding model filled the collection.
        """
        from chromadb.config import Settings as ClientSettings

        client_settings = ClientSettings(anonymized_telemetry=False)
        if not url:
            import chromadb

            try:
                client = chromadb.PersistentClient(path=str(path), settings=client_settings)
            except Exception as exc:
                # chromadb keeps the failed folder's stopped system in its per-path cache, so a
                # folder later made afresh at the same path would get it back: forget it.
                from chromadb.api.shared_system_client import SharedSystemClient

                SharedSystemClient._identifier_to_system.pop(str(path), None)
                raise StoreError(
                    f"the vector store at {path} cannot be opened ({exc}); "
                    "`copqa rebuild` makes the vectors again from the catalog"
                ) from exc
            return cls(client, model_identity, dimension, collection, location=str(path))
        return cls(
            _server_client(url, client_settings),
            model_identity,
            dimension,
            collection,
            server_url=url,
        )

    @property
    def location(self) -> str:
        """Where the collection is, for messages: a folder, or the server."""
        return self._location

    def refresh(self) -> None:
        """Load an embedded collection's index again, with what other processes wrote since.

        Waits for calls in flight; calls wait for it. A server's index needs no refresh.
        """
        if self._server_url:
            return
        import chromadb
        from chromadb.config import Settings as ClientSettings

        with self._gate.alone():
            # chromadb shares one index per folder in a process, released with its last client.
            self._client.close()
            self._client = chromadb.PersistentClient(
                path=self._location, settings=ClientSettings(anonymized_telemetry=False)
            )
            self._connect(self._name, self._model_identity, self._dimension)

    def close(self) -> None:
        """Release the client: a server client's connections, an embedded client's index."""
        self._client.close()
        if not self._server_url:
            return
        # chromadb 1.5 never closes the HTTP sessions of a client and of its admin client.
        for owner in (self._client, getattr(self._client, "_admin_client", None)):
            session = getattr(getattr(owner, "_server", None), "_session", None)
            if session is not None:
                session.close()

    @contextmanager
    def _calls(self) -> Iterator[None]:
        """One call to the collection: never during a refresh."""
        with self._gate.shared(), self._server_errors():
            yield

    @contextmanager
    def _server_errors(self) -> Iterator[None]:
        """A server that went away mid-run is a StoreError, like one that was never there."""
        if not self._server_url:
            yield
            return
        import httpx

        try:
            yield
        except httpx.TransportError as exc:
            raise _unreachable(self._server_url, exc) from exc

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict]) -> None:
        """Write these vectors with exactly this metadata, replacing what the ids held."""
        with self._calls():
            for start in range(0, len(ids), self._max_batch):
                end = start + self._max_batch
                batch = list(ids[start:end])
                self._collection.upsert(
                    ids=batch,
                    embeddings=vectors[start:end],
                    metadatas=self._replacing(batch, metadatas[start:end]),
                )

    def _replacing(self, ids: list[str], metadatas: Sequence[dict]) -> list[Any]:
        """The metadata with None for each key the ids' stored metadata has and it lacks.

        Chroma's upsert merges metadata; a None removes a key. Without it, a field a new
        version of a chunk no longer has (an author line removed) would still be filtered on.
        """
        stored = self._collection.get(ids=ids, include=["metadatas"])
        old = dict(zip(stored["ids"], stored["metadatas"] or [], strict=True))
        return [
            {**dict.fromkeys(old.get(cid) or {}), **metadata}
            for cid, metadata in zip(ids, metadatas, strict=True)
        ]

    def delete(self, ids: Iterable[str]) -> None:
        wanted = list(ids)
        with self._calls():
            for start in range(0, len(wanted), self._max_batch):
                self._collection.delete(ids=wanted[start : start + self._max_batch])

    def ids(self) -> set[str]:
        found: set[str] = set()
        offset, page = 0, 10_000
        with self._calls():
            while batch := self._collection.get(include=[], limit=page, offset=offset)["ids"]:
                found.update(batch)
                offset += page
        return found

    def pages(self, size: int = 5_000) -> Iterator[tuple[list[str], np.ndarray]]:
        """Every stored id with its vector, `size` at a time (for a backup)."""
        offset = 0
        while True:
            with self._calls():
                page = self._collection.get(include=["embeddings"], limit=size, offset=offset)
            if not page["ids"]:
                return
            yield list(page["ids"]), np.asarray(page["embeddings"], dtype=np.float32)
            offset += size

    def reset(self) -> None:
        """Drop the collection and make it again, empty (before a rebuild or a restore)."""
        with self._gate.alone():
            with self._server_errors():
                self._client.delete_collection(self._name)
            self._connect(self._name, self._model_identity, self._dimension)

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        with self._calls():
            found = self._collection.get(ids=list(ids), include=["embeddings"])
        embeddings = found["embeddings"] if found["embeddings"] is not None else []
        return {
            cid: np.asarray(v, dtype=np.float32)
            for cid, v in zip(found["ids"], embeddings, strict=True)
        }

    def set_levels(self, levels: dict[str, str], batch: int = 5_000) -> None:
        """Give stored vectors a new access level; their other metadata stays."""
        ids = list(levels)
        for start in range(0, len(ids), batch):
            part = ids[start : start + batch]
            with self._calls():
                self._collection.update(ids=part, metadatas=[{"access": levels[i]} for i in part])

    def count(self) -> int:
        with self._calls():
            return self._collection.count()

    def query(
        self, vector: np.ndarray, k: int, where: SearchFilter = NO_FILTER
    ) -> list[tuple[str, float]]:
        """The k nearest chunk ids the filter admits, with their cosine similarity, best first."""
        with self._calls():
            if k <= 0 or self._collection.count() == 0:
                return []
            result = self._collection.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=k,
                where=chroma_where(where),  # type: ignore[arg-type]
                include=["distances"],
            )
        distances = (result["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], distances, strict=True)]


def _server_client(url: str, client_settings: Any) -> Any:
    """A chromadb HttpClient for `url`, once the server has answered its heartbeat."""
    import chromadb

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"COPQA_CHROMA__URL={url!r} is not a Chroma server URL: "
            "write it as http://HOST:PORT (e.g. http://127.0.0.1:8000)"
        )
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    heartbeat = f"{parts.scheme}://{parts.netloc}/api/v2/heartbeat"
    try:
        with urllib.request.urlopen(heartbeat, timeout=HEARTBEAT_TIMEOUT) as reply:
            reply.read()
    except (OSError, urllib.error.URLError) as exc:  # refused, unresolvable, timed out, HTTP error
        raise _unreachable(url, exc) from exc
    try:
        return chromadb.HttpClient(
            host=parts.hostname, port=port, ssl=secure, settings=client_settings
        )
    except Exception as exc:  # chromadb reports a failed connection as a bare ValueError
        raise _unreachable(url, exc) from exc


def _unreachable(url: str, exc: BaseException) -> StoreError:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else OSError(exc.reason)
    reason = str(exc) or type(exc).__name__
    return StoreError(
        f"cannot reach the Chroma server at {url}: {reason}; start it with "
        "`chroma run --path DIR --port PORT` or unset COPQA_CHROMA__URL"
    )


class _Gate:
    """Calls run side by side; a refresh runs alone, once the calls in flight are done."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._calls = 0
        self._refreshing = False

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._refreshing)
            self._calls += 1
        try:
            yield
        finally:
            with self._changed:
                self._calls -= 1
                self._changed.notify_all()

    @contextmanager
    def alone(self) -> Iterator[None]:
        with self._changed:
            self._changed.wait_for(lambda: not self._refreshing)
            self._refreshing = True
            self._changed.wait_for(lambda: self._calls == 0)
        try:
            yield
        finally:
            with self._changed:
                self._refreshing = False
                self._changed.notify_all()


def chroma_where(where: SearchFilter) -> dict | None:
    """A search filter in Chroma's `where` language; None for no filter.

    The access levels are a clause of the query itself: Chroma returns only the passages
    the asker may read, and one without a level never matches (`$in` needs the key).
    """
    clauses: list[dict] = []
    if where.levels is not None:
        clauses.append({"access": {"$in": list(where.levels)}})
    if where.exclude_documents:
        clauses.append({"document_id": {"$nin": list(where.exclude_documents)}})
    for key, values in (
        ("kind", where.kinds),
        ("channel", where.channels),
        ("author", where.authors),
    ):
        if values:
            clauses.append({key: {"$in": list(values)}})
    if where.since is not None:
        clauses.append({"created_at": {"$gte": where.since}})
    if where.until is not None:
        clauses.append({"created_at": {"$lte": where.until}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
