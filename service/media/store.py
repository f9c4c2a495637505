"""Uploaded images on disk and in the ``media`` table, named by the SHA-256 of the stored bytes.

The file is ``BANTIN_MEDIA_DIR/<sha256>.<ext>``, the address ``/media/<sha256>.<ext>``.
Content addressing makes a file immutable (a changed image is another name), so it can
be cached for a year, and the same picture uploaded twice is stored once. The file is
written (to a temporary name, fsynced, renamed) before its row is added, so a row never
names a missing file; a file whose transaction then fails is an orphan nobody links to.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from service.db.models import MediaFile
from service.media.decoder import CleanImage
from service.media.images import EXTENSIONS

URL_PREFIX = "/media/"
# The only names /media/ answers for: a lower-case SHA-256 and one of our extensions.
NAME = re.compile(r"^([0-9a-f]{64})\.(jpg|png|webp|gif)$")


def file_name(media: MediaFile) -> str:
    """``<sha256>.<ext>``: the file's name on disk and the last part of its address."""
    return f"{media.sha256}.{content_extension(media.content_type)}"


def content_extension(content_type: str) -> str:
    """The file extension of one of our Content-Types (image/jpeg → jpg); KeyError for another."""
    return {value: key for key, value in EXTENSIONS.items()}[content_type]


def media_url(media: MediaFile, base_url: str) -> str:
    """The absolute public address: ``{BANTIN_BASE_URL}/media/<sha256>.<ext>``."""
    return f"{base_url}{URL_PREFIX}{file_name(media)}"


def store_image(
    session: Session, image: CleanImage, uploaded_by: str | None, now: datetime, settings: Settings
) -> MediaFile:
    """Write ``image`` under BANTIN_MEDIA_DIR (atomically, once) and add its row (once); the row.

    Uploading bytes already stored returns the existing row. OSError when the directory
    cannot be written.
    """
    digest = hashlib.sha256(image.body).hexdigest()
    directory = settings.effective_media_dir
    target = directory / f"{digest}.{image.extension}"
    if not target.is_file():
        _write_atomically(directory, target, image.body)
    existing = session.get(MediaFile, digest)
    if existing is not None:
        return existing
    media = MediaFile(
        sha256=digest,
        content_type=image.content_type,
        width=image.width,
        height=image.height,
        bytes=len(image.body),
        uploaded_by=uploaded_by,
        created_at=now,
    )
    session.add(media)
    session.flush()
    return media


def _write_atomically(directory: Path, target: Path, body: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(body)
            out.flush()
            os.fsync(out.fileno())
        # Readable by the web server that may serve /media/ (deploy/nginx/); mkstemp makes 0600.
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def stored_path(name: str, settings: Settings) -> Path | None:
    """The file ``/media/<name>`` serves, or None when the name is not one we give or no such file exists.

    Only ``<64 hex>.<jpg|png|webp|gif>`` is looked up, so no name can leave the directory.
    """
    if not NAME.match(name):
        return None
    path = settings.effective_media_dir / name
    return path if path.is_file() else None


def recent_media(session: Session, limit: int) -> list[MediaFile]:
    """The ``limit`` latest uploads, newest first: what the cover-image chooser offers."""
    return list(session.scalars(select(MediaFile).order_by(MediaFile.created_at.desc()).limit(limit)))


def hash_of_url(url: str, base_url: str) -> str | None:
    """The SHA-256 named by one of our media addresses (absolute under ``base_url`` or a path), else None."""
    parts = urlsplit(url)
    if (parts.scheme or parts.netloc) and not url.startswith(f"{base_url}{URL_PREFIX}"):
        return None
    path = parts.path
    if not path.startswith(URL_PREFIX):
        return None
    match = NAME.match(path.removeprefix(URL_PREFIX))
    return match.group(1) if match else None


def media_for_urls(session: Session, urls: Iterable[str | None], base_url: str) -> dict[str, MediaFile]:
    """The stored images that ``urls`` name, keyed by the URL given; one query for all of them.

    An external image (or one of ours whose row is gone) has no entry: its size and type
    are not known without fetching it.
    """
    hashes = {url: digest for url in urls if url and (digest := hash_of_url(url, base_url))}
    if not hashes:
        return {}
    query = select(MediaFile).where(MediaFile.sha256.in_(set(hashes.values())))
    rows = {media.sha256: media for media in session.scalars(query)}
    return {url: rows[digest] for url, digest in hashes.items() if digest in rows}
