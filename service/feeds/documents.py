"""Rendered documents (feeds, the calendar) stored as bytes with their variants and validators.

The database holds the truth: the bytes, a strong ETag, ``Last-Modified``, the gzip and
brotli variants (compressed once, here, never per request) and a version that grows by
one whenever the bytes change. API processes keep what they serve in memory and compare
:func:`documents_generation` with what they saw (``service/api/document_cache.py``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import event, func, or_, select, text, update
from sqlalchemy.orm import Session, defer, with_expression

from config.settings import get_settings
from service.db.models import FeedDocument
from service.feeds.render import FILENAMES
from service.feeds.scopes import CALENDAR
from service.feeds.urls import feed_path
from service.feeds.variants import compress_brotli, compress_gzip, variant_etag

CALENDAR_FORMAT = "ics"
# PostgreSQL channel notified, on commit, of every change to a stored document.
CHANGES_CHANNEL = "bantin_documents"
# Files the export writes next to each document, by content coding.
EXPORT_SUFFIXES = {None: "", "gzip": ".gz", "br": ".br"}


@dataclass(frozen=True)
class StoredDocument:
    """One stored document: identity bytes and the compressed variants (None: not made)."""

    body: bytes
    etag: str
    last_modified: datetime
    body_gzip: bytes | None = None
    body_br: bytes | None = None
    version: int = 1

    def variants(self) -> dict[str | None, tuple[bytes, str]]:
        """Content coding (None for identity) → (bytes, strong ETag)."""
        found: dict[str | None, tuple[bytes, str]] = {None: (self.body, self.etag)}
        if self.body_gzip is not None:
            found["gzip"] = (self.body_gzip, variant_etag(self.etag, "gzip"))
        if self.body_br is not None:
            found["br"] = (self.body_br, variant_etag(self.etag, "br"))
        return found


def public_path(scope: str, fmt: str) -> str:
    """The URL path a document is served at: ``/feeds/atom.xml``, ``/calendar.ics`` …"""
    if scope == CALENDAR:
        return "/calendar.ics"
    return f"{feed_path(scope)}/{FILENAMES[fmt]}"


def etag_for(body: bytes) -> str:
    """The strong ETag of a body: the first 128 bits of its SHA-256 in hex, quoted (RFC 9110 §8.8.3)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def next_last_modified(previous: datetime | None, now: datetime) -> datetime:
    """``Last-Modified`` for new bytes: ``now`` in whole seconds, and at least one second
    after the previous value. HTTP dates have one-second resolution (RFC 9110 §5.6.7), so
    a change within the same second would otherwise look unchanged to a client that
    sends only ``If-Modified-Since``.
    """
    candidate = now.replace(microsecond=0)
    if previous is not None:
        floor = previous.replace(microsecond=0) + timedelta(seconds=1)
        candidate = max(candidate, floor)
    return candidate


def store_document(
    session: Session,
    scope: str,
    fmt: str,
    body: bytes,
    now: datetime,
    known: dict[str, FeedDocument] | None = None,
    *,
    compress: bool = True,
) -> bool:
    """Store ``body`` as the document (scope, fmt) unless it is unchanged; True if it changed.

    The caller holds the scope's render lock, so versions and Last-Modified grow in
    commit order, and calls :func:`announce_changes` once it has stored what changed.
    With ``BANTIN_FEED_EXPORT_DIR`` set, the files are written after commit. ``known``:
    the scope's documents by format, from :func:`scope_documents` (saves a query each).

    ``compress=False`` stores the identity bytes alone, without variants (served to every
    client until :func:`store_variants` adds them), and exports nothing yet; bytes already
    stored count as unchanged whether or not their variants are there.
    """
    doc = known.get(fmt) if known is not None else session.get(FeedDocument, (scope, fmt))
    etag = etag_for(body)
    if doc is not None and doc.etag == etag and (not compress or has_variants(doc)):
        doc.rendered_at = now
        return False
    if doc is None:
        doc = FeedDocument(scope=scope, format=fmt, version=0)
        session.add(doc)
        previous = None
    else:
        previous = doc.last_modified
    doc.body, doc.etag, doc.rendered_at = body, etag, now
    doc.body_gzip, doc.body_br = (compress_gzip(body), compress_brotli(body)) if compress else (None, None)
    doc.last_modified = next_last_modified(previous, now)
    doc.version = (doc.version or 0) + 1
    if compress and get_settings().feed_export_dir is not None:
        _export_after_commit(session, scope, fmt, stored(doc))
    return True


@dataclass(frozen=True)
class Compressed:
    """Identity bytes with their gzip and brotli variants, made outside any transaction."""

    body: bytes
    gzip: bytes
    br: bytes

    @classmethod
    def of(cls, body: bytes) -> Compressed:
        """Compress ``body`` both ways (tens of milliseconds for a feed of article text)."""
        return cls(body, compress_gzip(body), compress_brotli(body))


def store_variants(session: Session, scope: str, fmt: str, compressed: Compressed) -> bool:
    """Add the gzip and brotli variants to the document (scope, fmt) if it still holds
    exactly ``compressed.body`` without them; True if they were added.

    The caller holds the scope's render lock (the same rows, updated in another order by
    a concurrent render, deadlocked). If a newer render stored other bytes meanwhile,
    nothing is written, so a variant never decodes to anything but the identity bytes it
    is served beside (their ETags differ only by the coding suffix). The version grows, so
    API processes reload and start serving the variants; Last-Modified stays, the
    representation's content being the same. The caller announces the change.
    """
    body, gzipped, brotlied = compressed.body, compressed.gzip, compressed.br
    etag = etag_for(body)
    statement = (
        update(FeedDocument)
        .where(
            FeedDocument.scope == scope,
            FeedDocument.format == fmt,
            FeedDocument.etag == etag,
            or_(FeedDocument.body_gzip.is_(None), FeedDocument.body_br.is_(None)),
        )
        .values(body_gzip=gzipped, body_br=brotlied, version=FeedDocument.version + 1)
        .returning(FeedDocument.last_modified, FeedDocument.version)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(statement).one_or_none()
    if row is None:
        return False
    if get_settings().feed_export_dir is not None:
        document = StoredDocument(body, etag, row.last_modified, gzipped, brotlied, row.version)
        _export_after_commit(session, scope, fmt, document)
    return True


def scope_documents(session: Session, scope: str) -> dict[str, FeedDocument]:
    """A scope's stored documents by format, in one query, without their bytes.

    A render needs only the validators and whether the variants exist: the bytes (three
    formats × identity, gzip and brotli, hundreds of kB) are replaced, never read, and
    reading them cost a scope's render ~4 ms on PostgreSQL. Setting the unloaded byte
    attributes writes them without loading them first.
    """
    query = (
        select(FeedDocument)
        .where(FeedDocument.scope == scope)
        .options(
            defer(FeedDocument.body),
            defer(FeedDocument.body_gzip),
            defer(FeedDocument.body_br),
            with_expression(
                FeedDocument.has_variants,
                FeedDocument.body_gzip.is_not(None) & FeedDocument.body_br.is_not(None),
            ),
        )
    )
    return {doc.format: doc for doc in session.scalars(query)}


def has_variants(doc: FeedDocument) -> bool:
    """Whether both compressed variants of ``doc`` are stored (from the query's flag when it has one)."""
    if doc.has_variants is not None:
        return doc.has_variants
    return doc.body_gzip is not None and doc.body_br is not None


def announce_changes(session: Session) -> None:
    """Write the stored changes and tell listening API processes, on commit (PostgreSQL
    NOTIFY is delivered only if and when the transaction commits); they then check at once
    instead of at their next periodic check."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANGES_CHANNEL})


def stored(doc: FeedDocument) -> StoredDocument:
    """The served fields of a document row as a StoredDocument, detached from the session."""
    return StoredDocument(doc.body, doc.etag, doc.last_modified, doc.body_gzip, doc.body_br, doc.version)


def load_document(session: Session, scope: str, fmt: str) -> StoredDocument | None:
    """The stored document (scope, fmt), or None when it has not been rendered yet."""
    doc = session.get(FeedDocument, (scope, fmt))
    return None if doc is None else stored(doc)


def documents_generation(session: Session) -> int:
    """A number that grows whenever any stored document's bytes change (sum of versions).

    Each change adds one to its row's version in the transaction that stores the bytes,
    so the sum read in any snapshot counts every committed change, whatever the order
    in which concurrent renders committed.
    """
    return int(session.scalar(select(func.coalesce(func.sum(FeedDocument.version), 0))) or 0)


# ---- the optional file export (served by nginx: deploy/nginx/) -----------------------------

_PENDING_KEY = "bantin_pending_exports"


def _export_after_commit(session: Session, scope: str, fmt: str, document: StoredDocument) -> None:
    pending: dict[tuple[str, str], StoredDocument] = session.info.setdefault(_PENDING_KEY, {})
    pending[(scope, fmt)] = document
    if not event.contains(session, "after_commit", _write_pending):
        event.listen(session, "after_commit", _write_pending)
        event.listen(session, "after_rollback", _drop_pending)


def _write_pending(session: Session) -> None:
    pending: dict[tuple[str, str], StoredDocument] = session.info.pop(_PENDING_KEY, {})
    withdrawn: set[str] = session.info.pop(_WITHDRAWN_KEY, set())
    folder = get_settings().feed_export_dir
    if folder is None:
        return
    for (scope, fmt), document in pending.items():
        export_document(folder, public_path(scope, fmt), document)
    for scope in withdrawn:
        for fmt in FILENAMES:
            remove_export(folder, public_path(scope, fmt))


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
    session.info.pop(_WITHDRAWN_KEY, None)


_WITHDRAWN_KEY = "bantin_withdrawn_exports"


def unexport_after_commit(session: Session, scope: str) -> None:
    """Once the session commits, remove the exported files of ``scope``'s documents, if any
    (a category that stopped being public): nginx then passes the request to the API, whose
    answer is a 404. Nothing happens without ``BANTIN_FEED_EXPORT_DIR``."""
    if get_settings().feed_export_dir is None:
        return
    session.info.setdefault(_WITHDRAWN_KEY, set()).add(scope)
    if not event.contains(session, "after_commit", _write_pending):
        event.listen(session, "after_commit", _write_pending)
        event.listen(session, "after_rollback", _drop_pending)


def remove_export(folder: Path, path: str) -> None:
    """Remove the files :func:`export_document` wrote for ``path`` (under the same lock)."""
    target = folder / path.lstrip("/")
    if not target.parent.is_dir():
        return
    with open(target.parent / f".{target.name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for suffix in EXPORT_SUFFIXES.values():
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        (target.parent / f".{target.name}.version").unlink(missing_ok=True)


def export_document(folder: Path, path: str, document: StoredDocument) -> None:
    """Write ``document`` and its compressed variants under ``folder`` at ``path``.

    Each file is written to a temporary name and renamed into place (atomic on POSIX),
    so a web server never reads half a file; its mtime is the document's Last-Modified.
    Two processes exporting one document at once hold a lock on it, and an older version
    never replaces a newer one (the version is kept next to the files).
    """
    target = folder / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = document.last_modified.timestamp()
    with open(target.parent / f".{target.name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        version_file = target.parent / f".{target.name}.version"
        try:
            written = int(version_file.read_text())
        except (FileNotFoundError, ValueError):
            written = 0
        if document.version < written:
            return
        for coding, (body, _etag) in document.variants().items():
            _write_atomically(target.with_name(target.name + EXPORT_SUFFIXES[coding]), body, stamp)
        _write_atomically(version_file, str(document.version).encode(), stamp)


def _write_atomically(target: Path, body: bytes, mtime: float) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as out:
        out.write(body)
        out.flush()
        os.fsync(out.fileno())
    os.utime(temporary, (mtime, mtime))
    os.replace(temporary, target)
