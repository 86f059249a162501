"""The retrieval index: chunks of the ladder, their embeddings in FAISS, and level-aware search.

An index lives in ``index/builds/<name>/`` (``manifest.json``, ``chunks.jsonl``, ``vectors.faiss`` and,
when exported, the ONNX model files). ``index/current`` is a symlink to the live build. A build is
written into a temporary directory, renamed into ``builds/`` and only then is ``current`` swapped
(``os.replace`` of a symlink is atomic), so a reader never sees half an index and a crash leaves the
old one in place.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from bot.core.knowledge import Knowledge, Level
from bot.search.embedders import MODEL_ID, Embedder

log = logging.getLogger(__name__)

INDEX_FORMAT = 3   # 2: chunks that state a threshold spell out what it measures
                   # 3: skills.npy / skills.json, every skill's "name: description" embedded at build time


class IndexUnavailable(RuntimeError):
    """The index is missing, corrupt or was built from other knowledge."""


@dataclass(frozen=True)
class Chunk:
    doc_id: str              # "call-center/senior-agent#skills-6", "reference/kpi-glossary#fcr"
    level_id: str | None     # None for background notes
    track: str | None
    title: str               # level title, or the background note's title
    section: str             # title | experience | responsibilities | skills | background
    text: str                # what is shown to people
    embed_text: str          # what is embedded: carries the title so title questions find it

    @property
    def is_background(self) -> bool:
        return self.level_id is None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def level_chunks(kb: Knowledge, level: Level) -> list[Chunk]:
    track = kb.tracks[level.track]
    head = f"{level.title} (L{level.number}, {track.title})"
    base = f"{level.track}/{level.id}"

    def chunk(section: str, i: int | None, text: str, embed: str) -> Chunk:
        suffix = section if i is None else f"{section}-{i}"
        return Chunk(f"{base}#{suffix}", level.id, level.track, level.title, section, text, embed)

    aliases = f" Also called: {', '.join(level.aliases)}." if level.aliases else ""

    def stated(section: str, text: str, skill: str | None = None) -> str:
        """What a number in this line measures, in words people use ("95% of target", "a team of 12")."""
        notes = [f"{t.meaning}: {t.describe()}" for t in level.thresholds
                 if t.section == section and (t.skill == skill if skill else t.text == text or section == "experience")]
        return f" ({'; '.join(notes)})" if notes else ""

    exp = level.experience.text
    out = [
        chunk("title", None, f"{level.label}.{aliases}", f"{head}.{aliases}"),
        chunk("experience", None, exp, f"{head} experience required: {exp}{stated('experience', exp)}"),
    ]
    out += [chunk("responsibilities", i, r, f"{head} is responsible for: {r}{stated('responsibilities', r)}")
            for i, r in enumerate(level.responsibilities, start=1)]
    out += [chunk("skills", i, f"{s.name}: {s.description}",
                  f"{head} skill {s.name}: {s.description}{stated('skills', s.description, s.name)}")
            for i, s in enumerate(level.skills, start=1)]
    return out


def build_chunks(kb: Knowledge) -> list[Chunk]:
    chunks = [c for level in kb.levels() for c in level_chunks(kb, level)]
    for note in kb.references:
        for section in note.sections:
            text = f"{section.heading}: {section.text}"
            chunks.append(Chunk(f"{note.doc_id}#{_slug(section.heading.split('—')[0])}", None, None, note.title,
                                "background", text, f"{note.title}. {text}"))
    return chunks


# -- index files ----------------------------------------------------------------------------------

@dataclass
class Index:
    path: Path
    manifest: dict
    chunks: list[Chunk]
    vectors: "object"        # faiss.Index
    skill_vectors: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)   # (name, description) -> vector

    @property
    def knowledge_version(self) -> str:
        return self.manifest["knowledge_version"]

    def search(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine similarity of the query to every chunk, in chunk order."""
        n = len(self.chunks)
        flat = self._flat_vectors()
        if flat is not None:
            # every score, in chunk order: faiss's own inner-product kernel (the one its search uses, so the same
            # bits) without the search's heap over all n and the scatter back into chunk order
            import faiss

            q = np.ascontiguousarray(query_vector.reshape(-1), dtype=np.float32)
            if q.shape[0] == flat.shape[1]:
                out = np.empty(n, dtype=np.float32)
                faiss.fvec_inner_products_ny(faiss.swig_ptr(out), faiss.swig_ptr(q), faiss.swig_ptr(flat), flat.shape[1], n)
                return out
        scores, ids = self.vectors.search(query_vector.reshape(1, -1).astype(np.float32), n)
        out = np.zeros(n, dtype=np.float32)
        out[ids[0]] = scores[0]
        return out


    def _flat_vectors(self) -> np.ndarray | None:
        """The chunk vectors of a flat inner-product index, as an array over faiss's own memory (None otherwise)."""
        if "_flat" not in self.__dict__:
            flat = None
            try:
                import faiss

                v = self.vectors
                if type(v) is faiss.IndexFlatIP and v.ntotal == len(self.chunks) and v.ntotal > 0:
                    flat = faiss.rev_swig_ptr(v.get_xb(), v.ntotal * v.d).reshape(v.ntotal, v.d)
            except (ImportError, AttributeError):
                flat = None
            self.__dict__["_flat"] = flat
        return self.__dict__["_flat"]


def skill_texts(kb: Knowledge) -> list[tuple[str, str]]:
    """Every distinct skill as (name, description): what answers relate across levels by meaning."""
    return list(dict.fromkeys((s.name, s.description) for level in kb.levels() for s in level.skills))


def current_build(index_dir: Path) -> Path | None:
    link = Path(index_dir) / "current"
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def load_index(index_dir: Path) -> Index:
    build = current_build(index_dir)
    if build is None:
        raise IndexUnavailable(f"no index in {index_dir} (build it with: python -m bot index)")
    return load_build(build)


def good_builds(index_dir: Path) -> Iterator[Index]:
    """Every complete, readable build in ``builds/``, newest first."""
    builds = Path(index_dir) / "builds"
    for build in sorted(builds.iterdir() if builds.is_dir() else (), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            yield load_build(build)
        except IndexUnavailable:
            continue


def discard_unfinished(index_dir: Path) -> None:
    """Remove what a process killed mid-build left behind (never loaded: ``current`` moves only after a
    complete build); under the build lock, so nobody is building right now."""
    index_dir = Path(index_dir)

    def leftovers() -> list[Path]:
        return [*index_dir.glob(".build-*"), *index_dir.glob(".current-*")] if index_dir.is_dir() else []

    if not leftovers():   # the usual case: no lock taken (a read-only index directory is fine)
        return
    with _build_lock(index_dir):
        for stale in leftovers():
            log.info("discarding %s: a build that never finished", stale)
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)


def load_build(build: Path) -> Index:
    import faiss

    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        chunks = [Chunk(**json.loads(line)) for line in (build / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        skill_keys = [tuple(k) for k in json.loads((build / "skills.json").read_text(encoding="utf-8"))]
        skill_vecs = np.load(build / "skills.npy", allow_pickle=False)
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        raise IndexUnavailable(f"the index in {build} is unreadable ({exc}); rebuild it with: python -m bot index") from None
    if manifest.get("format") != INDEX_FORMAT or manifest.get("chunks") != len(chunks) or vectors.ntotal != len(chunks) \
            or vectors.d != manifest.get("dimension") or manifest.get("skills") != len(skill_keys) \
            or skill_vecs.shape != (len(skill_keys), vectors.d):
        raise IndexUnavailable(f"the index in {build} is inconsistent; rebuild it with: python -m bot index")
    return Index(build, manifest, chunks, vectors, dict(zip(skill_keys, skill_vecs.astype(np.float32))))


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_index(
    kb: Knowledge, index_dir: Path, embedder: Embedder,
    progress: Callable[[int, int], None] | None = None,
    extra: Callable[[Path, dict, np.ndarray, list[str]], None] | None = None,
    reuse: Callable[[Index], bool] | None = None,
) -> Index:
    """Embed every chunk, write a complete build beside the live one, then swap it in. With ``reuse``,
    a live index it accepts (checked once the build lock is held) is returned instead: workers that
    start together build once, not one after another."""
    import faiss

    index_dir = Path(index_dir)
    with _build_lock(index_dir):
        if reuse is not None:
            try:
                live = load_index(index_dir)
            except IndexUnavailable:
                live = None
            if live is not None and reuse(live):
                return live
        started = time.perf_counter()
        chunks = build_chunks(kb)
        (index_dir / "builds").mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir))
        tmp.chmod(0o755)  # mkdtemp's 0700 would hide the build from a server running as another user
        try:
            vectors = np.zeros((len(chunks), embedder.dimension), dtype=np.float32)
            batch = 32
            for start in range(0, len(chunks), batch):
                part = chunks[start: start + batch]
                vectors[start: start + len(part)] = embedder.encode([c.embed_text for c in part])
                if progress:
                    progress(start + len(part), len(chunks))
            flat = faiss.IndexFlatIP(embedder.dimension)
            flat.add(vectors)
            faiss.write_index(flat, str(tmp / "vectors.faiss"))
            # skills by meaning ("Complex Problem Solving" builds on "Problem Solving"): here, not at every start
            skills = skill_texts(kb)
            skill_vecs = embedder.encode([f"{n}: {d}" for n, d in skills]) if skills else np.zeros((0, embedder.dimension))
            np.save(tmp / "skills.npy", np.asarray(skill_vecs, dtype=np.float32), allow_pickle=False)
            (tmp / "skills.json").write_text(json.dumps([list(k) for k in skills], ensure_ascii=False), encoding="utf-8")
            with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as fh:
                for c in chunks:
                    fh.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")
            manifest = {
                "format": INDEX_FORMAT,
                "model": getattr(embedder, "model_id", MODEL_ID),
                "dimension": embedder.dimension,
                "chunks": len(chunks),
                "skills": len(skills),
                "knowledge_version": kb.version,
                "built_with": embedder.name,
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
            if extra:  # e.g. the ONNX export, checked against these vectors
                extra(tmp, manifest, vectors, [c.embed_text for c in chunks])
            manifest["build_seconds"] = round(time.perf_counter() - started, 2)
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            # microseconds: two builds in one second (a small index, a test) must not share a name
            name = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{kb.version}-{os.getpid()}"
            final = index_dir / "builds" / name
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        link_tmp = index_dir / f".current-{os.getpid()}"
        link_tmp.unlink(missing_ok=True)
        link_tmp.symlink_to(Path("builds") / name)
        os.replace(link_tmp, index_dir / "current")
        _prune(index_dir, keep=final)
    return load_index(index_dir)


def _prune(index_dir: Path, keep: Path, spare: int = 2) -> None:
    """Keep the live build and a couple of older ones (a reader may still hold them open)."""
    builds = sorted((p for p in (index_dir / "builds").iterdir() if p.is_dir() and p != keep), key=lambda p: p.stat().st_mtime)
    for old in builds[:-spare] if spare else builds:
        shutil.rmtree(old, ignore_errors=True)
    # half-written builds of a process killed mid-build (about 150 MB each); safe under the build lock
    for stale in index_dir.glob(".build-*"):
        shutil.rmtree(stale, ignore_errors=True)


def index_status(index_dir: Path, kb: Knowledge) -> dict:
    try:
        index = load_index(index_dir)
    except IndexUnavailable as exc:
        return {"status": "missing", "detail": str(exc)}
    fresh = index.knowledge_version == kb.version
    return {"status": "ready" if fresh else "stale", "knowledge_version": index.knowledge_version,
            "chunks": len(index.chunks), "built_at": index.manifest.get("built_at")}


# -- lexical scores -------------------------------------------------------------------------------

# Function words and the words every question about a ladder uses: they carry no evidence about
# which chunk answers it ("where applicable" must not match "where do people come from").
_STOP = set("""a about above after again all also am an and any are as at be been before being below both but by
can could did do does doing don done during each either else ever few for from further had has have having he her
here hers him his how however i i'm if im in into is isn it its itself just let like may me might more most much must
my myself nah no nor not now of off ok okay on once one only or other our ours out over own per please pls quite
rather really s same she should so some such t than that that's the their theirs them then there these they this
those through thus to too u under until up upon us very vs was way we were what whats when where whether which while
who whom whose why will with within without would yeah yes yet you your yours
lol basically actually kinda kind sort stuff thing things someone somebody anyone people person guy
get gets getting got need needs level levels role roles
re ve ll d m don didn doesn isn aren wasn won wouldn couldn shouldn""".split())   # what apostrophes leave behind


def lexical_tokens(text: str) -> list[str]:
    """Stop words out, Snowball-stemmed: "escalations"/"escalated" -> "escal".

    An acronym written in capitals ("IT", "QA", "HR") is a name, never a stop word; single letters
    left by apostrophes ("can't" -> "t") are dropped.
    """
    words = _WORD.findall(text.replace("&", " and "))
    shouted = not any(ch.islower() for ch in text)   # "WHAT DO I NEED": capitals mark no acronym
    seen = _TOKENS[shouted]
    out = []
    for w in words:
        token = seen.get(w, _UNSEEN)
        if token is _UNSEEN:
            token = _token(w, shouted)
            if len(seen) < 50_000:
                seen[w] = token
        if token is not None:
            out.append(token)
    return out


def _token(w: str, shouted: bool) -> str | None:
    """One word's stem, or None when it is dropped."""
    if len(w) == 1 and not w.isdigit():
        return None
    if w.lower() not in _STOP or (not shouted and w.isupper() and len(w) <= 4):
        return _stem_word(w.lower())
    return None


_WORD = re.compile(r"[A-Za-z0-9]+")
_UNSEEN = object()
# a word's token as written (case decides acronyms), in a shouted text and in any other: no per-word work twice
_TOKENS: dict[bool, dict[str, str | None]] = {False: {}, True: {}}


def stem(words: list[str]) -> list[str]:
    """Snowball stems, as BM25 indexes words (the retrieval evaluation's baseline stems with it too)."""
    return [_stem_word(w) for w in words]


@lru_cache(maxsize=20_000)
def _stem_word(word: str) -> str:
    global _STEMMER
    if _STEMMER is None:
        import snowballstemmer  # the Snowball English stemmer, as used by Sphinx's search

        _STEMMER = snowballstemmer.stemmer("english")
    return _STEMMER.stemWord(word)


_STEMMER = None


class Lexical:
    """BM25 over the chunks (rank-bm25: the standard Okapi formula, tested upstream)."""

    def __init__(self, chunks: Sequence[Chunk]):
        from rank_bm25 import BM25Okapi

        # Lexical evidence is the chunk's own words: a title repeated in every chunk of a level would
        # let "call centre" in any question pull toward "Call Center Manager". Titles and aliases are
        # in the title chunk, and named levels are found by query understanding anyway.
        self.bm25 = BM25Okapi([lexical_tokens(c.text) or ["_"] for c in chunks])
        # Every corpus word's BM25 contribution to every chunk, computed once with rank-bm25's own formula
        # (elementwise, so the same bits as its get_scores): a question is then a sum of rows, and a word seen
        # for the first time costs no pure-Python loop over the chunks. A word in no chunk contributes nothing.
        bm = self.bm25
        words = list(bm.idf)
        self._row = {w: i for i, w in enumerate(words)}
        freq = np.zeros((len(words), bm.corpus_size), dtype=np.int64)
        for d, found in enumerate(bm.doc_freqs):
            for w, f in found.items():
                freq[self._row[w], d] = f
        doc_len = np.array(bm.doc_len)
        idf = np.array([bm.idf[w] or 0 for w in words], dtype=np.float64)
        self._table = (idf[:, None] * (freq * (bm.k1 + 1) / (freq + bm.k1 * (1 - bm.b + bm.b * doc_len / bm.avgdl)))
                       ).astype(np.float32)

    def scores(self, text: str) -> np.ndarray:
        out = np.zeros(len(self.bm25.doc_len), dtype=np.float32)
        for token in lexical_tokens(text):
            row = self._row.get(token)
            if row is not None:     # a word in no chunk adds zeros
                out += self._table[row]
        return out
