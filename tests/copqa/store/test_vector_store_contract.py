"""The vector store contract: every backend (embedded Chroma, a Chroma server) passes the same tests.

Shaped like haystack's `haystack/testing/document_store.py`: `VectorStoreContract` holds the
behaviours, and each backend subclasses it with one fixture, `open_vectors`, which opens the
test's own collection, and opens it again when called again. The vectors are the real model's,
of the sample community's Slack threads and one of its Markdown files (a few tens of chunks),
stored with their real metadata (`flat_metadata`), so the filters are the ones retrieval builds.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from copqa.access import MAINTAINERS, MEMBERS, PUBLIC
from copqa.embedding import embedding_text
from copqa.errors import ModelMismatchError
from copqa.models import Chunk, Document, SearchFilter
from copqa.settings import Settings
from copqa.store.chroma import COLLECTION, ChromaVectors
from copqa.store.chunk_metadata import flat_metadata
from ingest.chunking import Chunker
from ingest.loaders.discussions.slack import SlackExportLoader
from ingest.loaders.documents.markdown import MarkdownLoader
from tests.support.chroma_server import running_chroma
from tests.support.paths import REPO, SAMPLE

OTHER_MODEL = "another-model@000"
QUESTION = "My print does not stick to the bed on the first layer"
# 2025-06-01 and 2025-09-01, 00:00 UTC: the sample's threads run through 2025.
SINCE, UNTIL = 1748736000, 1756684800

Opener = Callable[..., ChromaVectors]


@dataclass(frozen=True)
class Corpus:
    """Real chunks with their vectors (unit rows, in chunk order), and a question's vector."""

    chunks: list[Chunk]
    vectors: np.ndarray
    question: np.ndarray

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.chunks]

    @property
    def metadata(self) -> list[dict]:
        return [flat_metadata(c) for c in self.chunks]

    def vector(self, chunk_id: str) -> np.ndarray:
        return self.vectors[self.ids.index(chunk_id)]

    def ids_where(self, predicate: Callable[[Chunk], bool]) -> list[str]:
        return [c.id for c in self.chunks if predicate(c)]


@pytest.fixture(scope="module")
def corpus(embedder, tmp_path_factory) -> Corpus:
    ingest = Settings(home=tmp_path_factory.mktemp("unused-home")).ingest
    chunker = Chunker(
        embedder.tokenize, ingest.chunk_size, ingest.chunk_overlap, ingest.max_post_chars
    )
    loaded = [
        *SlackExportLoader("https://harbourside-makers.slack.com").load(SAMPLE / "slack"),
        *MarkdownLoader().load(SAMPLE / "docs" / "laser-cutter-safety.md"),
    ]
    documents = [d for d in loaded if isinstance(d, Document)]
    assert len(documents) == len(loaded), loaded
    chunks = [
        dataclasses.replace(c, access=PUBLIC)  # as ingestion stores a maintainer's sources
        for d in documents
        for c in chunker.chunk(d, source_id=d.kind)
    ]
    assert 20 <= len(chunks) <= 60  # tens of texts, some of them a file's, not a thread's
    vectors = embedder.embed([embedding_text(c) for c in chunks])
    return Corpus(chunks, vectors, embedder.embed_query(QUESTION))


@dataclass(frozen=True)
class Place:
    """Where a backend keeps the test's collection: a folder, or a collection on a server."""

    path: Path
    url: str = ""
    collection: str = COLLECTION

    def open(self, model_identity: str, dimension: int) -> ChromaVectors:
        return ChromaVectors.open(
            self.path, model_identity, dimension, url=self.url, collection=self.collection
        )


# Another process writing into the same place, as `copqa ingest` does beside a running page.
WRITER = """
import json, sys
from pathlib import Path
import numpy as np
from copqa.store.chroma import ChromaVectors
path, url, collection, model, dimension, written = sys.argv[1:]
rows = json.loads(Path(written).read_text())
vectors = ChromaVectors.open(Path(path), model, int(dimension), url=url, collection=collection)
vectors.upsert(rows["ids"], np.asarray(rows["vectors"], dtype=np.float32), rows["metadata"])
vectors.close()
"""


def write_from_another_process(
    place: Place, embedder, corpus: Corpus, rows: slice, scratch: Path
) -> None:
    written = scratch / "written.json"
    written.write_text(
        json.dumps(
            {
                "ids": corpus.ids[rows],
                "vectors": corpus.vectors[rows].tolist(),
                "metadata": corpus.metadata[rows],
            }
        )
    )
    where = [str(place.path), place.url, place.collection]
    model = [embedder.identity, str(embedder.dimension)]
    # This checkout's copqa, whichever one the virtualenv was installed from.
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", WRITER, *where, *model, str(written)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def unit(*weights: float) -> np.ndarray:
    """A 384-d unit vector with these first components (the rest zero)."""
    vector = np.zeros(384, dtype=np.float32)
    vector[: len(weights)] = weights
    return vector / np.linalg.norm(vector)


def hit_ids(hits: list[tuple[str, float]]) -> list[str]:
    return [cid for cid, _ in hits]


# --- the contract: the same tests for every backend --------------------------------------
class VectorStoreContract:
    """What every vector store backend must do. A backend subclasses this and provides
    `place`; `refusal_advice` is what its model-mismatch error tells people to do."""

    refusal_advice: str

    @pytest.fixture
    def place(self) -> Place:
        raise NotImplementedError("each backend provides the place of the test's collection")

    @pytest.fixture
    def open_vectors(self, place: Place, embedder) -> Iterator[Opener]:
        """`open_vectors(model_identity=..., dimension=...)` opens the test's collection, with
        the real model's identity and dimension by default; all are closed after the test."""
        opened: list[ChromaVectors] = []

        def open_vectors(model_identity: str = "", dimension: int = 0) -> ChromaVectors:
            vectors = place.open(
                model_identity or embedder.identity, dimension or embedder.dimension
            )
            opened.append(vectors)
            return vectors

        yield open_vectors
        for vectors in opened:
            vectors.close()

    @pytest.fixture
    def vectors(self, open_vectors: Opener) -> ChromaVectors:
        return open_vectors()

    @pytest.fixture
    def filled(self, vectors: ChromaVectors, corpus: Corpus) -> ChromaVectors:
        vectors.upsert(corpus.ids, corpus.vectors, corpus.metadata)
        return vectors

    def test_a_query_returns_the_nearest_first_with_their_cosine(
        self, filled: ChromaVectors, corpus: Corpus
    ) -> None:
        hits = filled.query(corpus.question, 5)
        cosines = corpus.vectors @ corpus.question
        nearest = [corpus.ids[i] for i in np.argsort(-cosines)[:5]]
        assert hit_ids(hits) == nearest
        for cid, score in hits:
            assert score == pytest.approx(float(corpus.vector(cid) @ corpus.question), abs=1e-4)
        top = next(c for c in corpus.chunks if c.id == hits[0][0])
        assert top.channel == "#3d-printing" and "first layer" in top.text

    def test_scores_are_cosine_similarities(self, vectors: ChromaVectors) -> None:
        ids = ["same", "between", "orthogonal", "opposite"]
        written = np.stack([unit(1), unit(1, 1), unit(0, 1), unit(-1)])
        vectors.upsert(ids, written, [{"kind": "text", "access": "public"}] * 4)
        for query in (unit(1), 3 * unit(1)):  # the length of the query does not count
            hits = vectors.query(query, 4)
            assert hit_ids(hits) == ids
            assert [s for _, s in hits] == pytest.approx([1.0, 0.5**0.5, 0.0, -1.0], abs=1e-5)

    def test_k_bounds_the_answer(self, filled: ChromaVectors, corpus: Corpus) -> None:
        assert filled.query(corpus.question, 0) == []
        assert len(filled.query(corpus.question, 3)) == 3
        assert sorted(hit_ids(filled.query(corpus.question, 1000))) == sorted(corpus.ids)

    def test_an_empty_store_answers_nothing(self, vectors: ChromaVectors, corpus: Corpus) -> None:
        assert vectors.count() == 0 and vectors.ids() == set()
        assert vectors.query(corpus.question, 5) == []
        assert list(vectors.pages()) == []
        assert vectors.vectors(corpus.ids[:3]) == {}

    def test_ids_and_count_agree_with_what_was_written(
        self, vectors: ChromaVectors, corpus: Corpus
    ) -> None:
        first = slice(0, 10)
        vectors.upsert(corpus.ids[first], corpus.vectors[first], corpus.metadata[first])
        assert vectors.ids() == set(corpus.ids[first]) and vectors.count() == 10
        vectors.upsert(corpus.ids, corpus.vectors, corpus.metadata)  # ten of them again
        assert vectors.ids() == set(corpus.ids)
        assert vectors.count() == len(corpus.ids)

    def test_an_upsert_replaces_the_vector_and_metadata_of_its_id(
        self, filled: ChromaVectors, corpus: Corpus
    ) -> None:
        moved, other = corpus.ids_where(lambda c: c.channel == "#general")[:2]
        old = corpus.vector(moved)
        metadata = flat_metadata(
            dataclasses.replace(corpus.chunks[corpus.ids.index(moved)], channel="#woodshop")
        )
        filled.upsert([moved], corpus.vector(other)[None, :], [metadata])

        assert filled.count() == len(corpus.ids) and filled.ids() == set(corpus.ids)
        np.testing.assert_allclose(filled.vectors([moved])[moved], corpus.vector(other), atol=1e-6)
        hits = dict(filled.query(corpus.vector(other), 2))
        assert set(hits) == {moved, other}
        assert hits[moved] == pytest.approx(1.0, abs=1e-4)
        was = dict(filled.query(old, len(corpus.ids)))[moved]
        assert was == pytest.approx(float(old @ corpus.vector(other)), abs=1e-4) and was < 0.99
        woodshop = SearchFilter(channels=("#woodshop",))
        assert hit_ids(filled.query(old, 5, woodshop)) == [moved]
        general = SearchFilter(channels=("#general",))
        assert moved not in hit_ids(filled.query(old, len(corpus.ids), general))

    def test_an_upsert_forgets_fields_the_new_metadata_leaves_out(
        self, vectors: ChromaVectors, corpus: Corpus
    ) -> None:
        document = corpus.ids_where(lambda c: c.kind == "markdown")[0]
        chunk = corpus.chunks[corpus.ids.index(document)]
        vector = corpus.vector(document)[None, :]
        # The file named its author; its new version no longer does.
        vectors.upsert(
            [document], vector, [flat_metadata(dataclasses.replace(chunk, author="cleo"))]
        )
        vectors.upsert([document], vector, [flat_metadata(dataclasses.replace(chunk, author=""))])
        by_cleo = SearchFilter(authors=("cleo",))
        assert vectors.query(vector[0], 5, by_cleo) == []

    def test_delete_removes_and_unknown_ids_are_harmless(
        self, filled: ChromaVectors, corpus: Corpus
    ) -> None:
        gone = corpus.ids_where(lambda c: c.channel == "#general")
        kept = set(corpus.ids) - set(gone)
        assert gone and kept
        filled.delete([*gone, "never-stored:0"])
        filled.delete([])
        filled.delete(gone)  # again: already gone
        assert filled.ids() == kept and filled.count() == len(kept)
        assert filled.vectors(gone) == {}
        for cid in gone[:3]:
            assert set(hit_ids(filled.query(corpus.vector(cid), len(corpus.ids)))) == kept

    def test_vectors_are_the_stored_ones_of_known_ids_only(
        self, filled: ChromaVectors, corpus: Corpus
    ) -> None:
        wanted = corpus.ids[:3]
        found = filled.vectors([*wanted, "never-stored:0"])
        assert sorted(found) == sorted(wanted)
        for cid, vector in found.items():
            assert vector.dtype == np.float32 and vector.shape == (384,)
            np.testing.assert_allclose(vector, corpus.vector(cid), atol=1e-6)
        assert filled.vectors([]) == {}

    def test_pages_walk_every_vector_exactly_once(
        self, filled: ChromaVectors, corpus: Corpus
    ) -> None:
        pages = list(filled.pages(size=7))
        sizes = [len(ids) for ids, _ in pages]
        assert sizes[:-1] == [7] * (len(pages) - 1) and 0 < sizes[-1] <= 7
        walked = [cid for ids, _ in pages for cid in ids]
        assert len(walked) == len(corpus.ids) and set(walked) == set(corpus.ids)
        for ids, page_vectors in pages:
            assert page_vectors.shape == (len(ids), 384)
            for cid, vector in zip(ids, page_vectors, strict=True):
                np.testing.assert_allclose(vector, corpus.vector(cid), atol=1e-6)

    @pytest.mark.parametrize(
        "search",
        [
            pytest.param(SearchFilter(channels=("#laser-cutter",)), id="channel"),
            pytest.param(SearchFilter(channels=("#general", "#electronics")), id="channels"),
            pytest.param(SearchFilter(kinds=("markdown",)), id="kind"),
            pytest.param(SearchFilter(authors=("Tobias Lindqvist",)), id="author"),
            pytest.param(SearchFilter(since=SINCE), id="since"),
            pytest.param(SearchFilter(since=SINCE, until=UNTIL), id="between"),
            pytest.param(
                SearchFilter(kinds=("slack",), channels=("#3d-printing",), until=UNTIL),
                id="kind-channel-until",
            ),
        ],
    )
    def test_a_filter_keeps_exactly_the_chunks_retrieval_admits(
        self, filled: ChromaVectors, corpus: Corpus, search: SearchFilter
    ) -> None:
        admitted = set(corpus.ids_where(search.admits))
        assert 0 < len(admitted) < len(corpus.ids)  # the filter restricts, to something
        hits = filled.query(corpus.question, len(corpus.ids), search)
        assert set(hit_ids(hits)) == admitted
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)

    @pytest.mark.parametrize(
        "levels",
        [(PUBLIC,), (PUBLIC, MEMBERS), (PUBLIC, MEMBERS, "group:core"), ("group:core",), None],
    )
    def test_the_access_levels_keep_exactly_the_readable_chunks_and_can_change(
        self, vectors: ChromaVectors, corpus: Corpus, levels: tuple[str, ...] | None
    ) -> None:
        cycle = (PUBLIC, MEMBERS, "group:core", MAINTAINERS, "")
        chunks = [dataclasses.replace(c, access=cycle[n % 5]) for n, c in enumerate(corpus.chunks)]
        vectors.upsert(corpus.ids, corpus.vectors, [flat_metadata(c) for c in chunks])
        search = SearchFilter(levels=levels)

        def found() -> set[str]:
            return set(hit_ids(vectors.query(corpus.question, len(corpus.ids), search)))

        assert found() == {c.id for c in chunks if search.admits(c)}
        opened = {c.id: PUBLIC for c in chunks if c.access in (MAINTAINERS, "")}
        vectors.set_levels(opened)  # only the level changes: the rest of the metadata stays
        assert found() == {c.id for c in chunks if search.admits(c) or (c.id in opened and (
            levels is None or PUBLIC in levels))}  # fmt: skip
        kinds = SearchFilter(levels=None, kinds=("markdown",))
        markdown = {c.id for c in chunks if c.kind == "markdown"}
        assert set(hit_ids(vectors.query(corpus.question, len(corpus.ids), kinds))) == markdown

    def test_a_filter_can_leave_a_thread_out(self, filled: ChromaVectors, corpus: Corpus) -> None:
        top = filled.query(corpus.question, 1)[0][0]
        thread = next(c.document_id for c in corpus.chunks if c.id == top)
        search = SearchFilter(exclude_documents=(thread,))
        hits = filled.query(corpus.question, len(corpus.ids), search)
        assert set(hit_ids(hits)) == set(corpus.ids_where(search.admits))
        assert not any(cid.startswith(f"{thread}:") for cid in hit_ids(hits))

    def test_reset_empties_and_keeps_the_model(
        self, filled: ChromaVectors, open_vectors: Opener, corpus: Corpus
    ) -> None:
        filled.reset()
        assert filled.count() == 0 and filled.ids() == set()
        assert filled.query(corpus.question, 5) == []
        assert list(filled.pages()) == [] and filled.vectors(corpus.ids) == {}
        filled.upsert(corpus.ids[:2], corpus.vectors[:2], corpus.metadata[:2])
        assert filled.ids() == set(corpus.ids[:2])
        with pytest.raises(ModelMismatchError):
            open_vectors(OTHER_MODEL)

    def test_a_second_open_sees_what_the_first_wrote(
        self, open_vectors: Opener, corpus: Corpus
    ) -> None:
        half = len(corpus.ids) // 2
        first = open_vectors()
        first.upsert(corpus.ids[:half], corpus.vectors[:half], corpus.metadata[:half])
        second = open_vectors()
        assert second.ids() == set(corpus.ids[:half])
        assert second.query(corpus.question, 3) == first.query(corpus.question, 3)
        second.upsert(corpus.ids[half:], corpus.vectors[half:], corpus.metadata[half:])
        first.refresh()
        assert first.ids() == set(corpus.ids) and first.count() == len(corpus.ids)
        assert first.query(corpus.question, 5) == second.query(corpus.question, 5)

    def test_what_another_process_writes_is_seen_after_a_refresh(
        self, place: Place, open_vectors: Opener, embedder, corpus: Corpus, tmp_path: Path
    ) -> None:
        half = len(corpus.ids) // 2
        mine = open_vectors()
        mine.upsert(corpus.ids[:half], corpus.vectors[:half], corpus.metadata[:half])
        assert mine.query(corpus.question, 3)  # this process has searched what it holds
        write_from_another_process(place, embedder, corpus, slice(half, None), tmp_path)
        mine.refresh()
        assert mine.ids() == set(corpus.ids) and mine.count() == len(corpus.ids)
        for cid in corpus.ids[half : half + 3]:
            assert mine.query(corpus.vector(cid), 1)[0][0] == cid

    def test_a_closed_store_opens_again_with_everything(
        self, open_vectors: Opener, corpus: Corpus
    ) -> None:
        first = open_vectors()
        first.upsert(corpus.ids, corpus.vectors, corpus.metadata)
        before = first.query(corpus.question, 5)
        first.close()
        again = open_vectors()
        assert again.ids() == set(corpus.ids)
        assert again.query(corpus.question, 5) == before
        stored = again.vectors(corpus.ids)
        np.testing.assert_allclose(
            np.stack([stored[c] for c in corpus.ids]), corpus.vectors, atol=1e-6
        )

    def test_another_model_is_refused(
        self, filled: ChromaVectors, open_vectors: Opener, embedder, corpus: Corpus
    ) -> None:
        with pytest.raises(ModelMismatchError) as refused:
            open_vectors(OTHER_MODEL)
        message = str(refused.value)
        assert f"built with the embedding model {embedder.identity!r}" in message
        assert f"not {OTHER_MODEL!r}" in message
        assert self.refusal_advice in message
        # The refusal leaves the store that is open as it was.
        nearest = [corpus.ids[i] for i in np.argsort(-(corpus.vectors @ corpus.question))[:3]]
        assert filled.count() == len(corpus.ids)
        assert hit_ids(filled.query(corpus.question, 3)) == nearest

    def test_another_dimension_is_refused(
        self, filled: ChromaVectors, open_vectors: Opener
    ) -> None:
        with pytest.raises(ModelMismatchError, match="holds 384-d vectors, not 256-d") as refused:
            open_vectors(dimension=256)
        assert self.refusal_advice in str(refused.value)


# --- the backends: one fixture each ------------------------------------------------------
class TestEmbeddedChroma(VectorStoreContract):
    refusal_advice = "or ingest into a new COPQA_HOME"

    @pytest.fixture
    def place(self, tmp_path: Path) -> Place:
        return Place(tmp_path / "chroma")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory) -> Iterator[str]:
    """One `chroma run` for the module; each test gets its own collection on it."""
    with running_chroma(tmp_path_factory.mktemp("chroma-server") / "db") as url:
        yield url


class TestChromaServer(VectorStoreContract):
    refusal_advice = "or ingest into another COPQA_CHROMA__COLLECTION"

    @pytest.fixture
    def place(self, chroma_url: str, tmp_path: Path) -> Iterator[Place]:
        place = Place(tmp_path / "not-used", chroma_url, f"contract-{uuid.uuid4().hex[:12]}")
        yield place
        assert not place.path.exists()  # a server's collection leaves nothing on this side
