"""The size budget, Last-Modified that always moves, compressed variants and the file export."""

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

import brotli
import pytest
from sqlalchemy import inspect, update

from config.settings import get_settings
from service.db.engine import session_scope
from service.db.models import FeedDocument
from service.feeds.documents import (
    Compressed,
    export_document,
    load_document,
    next_last_modified,
    scope_documents,
    store_document,
    store_variants,
)
from service.feeds.model import FeedItem
from service.feeds.render import render_within
from service.feeds.variants import variant_etag
from tests.feedcheck import assert_valid_atom, assert_valid_json_feed, assert_valid_rss
from tests.unit.feeds.test_render import SPEC, item

T0 = datetime(2027, 2, 3, 1, 0, 0, 250_000, tzinfo=UTC)
BIG = "<p>" + "Nội dung rất dài của bài viết. " * 2_000 + "</p>"  # ~70 KB each


def big_items(count: int) -> list[FeedItem]:
    return [item(n, content_html=f"<p>Bài {n}</p>{BIG}", summary=f"Tóm tắt bài {n}") for n in range(count)]


@pytest.mark.parametrize("fmt", ["rss", "atom", "json"])
def test_a_feed_over_budget_keeps_the_newest_items_full_and_summarises_the_oldest(fmt: str) -> None:
    items = big_items(16)
    budget = 500_000
    body = render_within(fmt, SPEC, items, budget)
    assert len(body) <= budget
    if fmt == "json":
        parsed = assert_valid_json_feed(body)["items"]
        full = [entry for entry in parsed if "content_html" in entry]
        summarised = [entry for entry in parsed if "content_html" not in entry]
        assert all(entry["content_text"].startswith("Tóm tắt bài") for entry in summarised)
        ids = [entry["id"] for entry in parsed]
    else:
        check = assert_valid_rss if fmt == "rss" else assert_valid_atom
        parsed = check(body).entries
        full = [entry for entry in parsed if "content" in entry]
        summarised = [entry for entry in parsed if "content" not in entry]
        assert all(entry.summary.startswith("Tóm tắt bài") for entry in summarised)
        ids = [entry.id for entry in parsed]
    # Every item is still there, the full ones are the newest, and as many as fit are full.
    assert ids == [i.guid for i in items]
    assert 1 <= len(full) < len(items)
    assert [i.guid for i in items[: len(full)]] == ids[: len(full)]
    assert len(render_within(fmt, SPEC, items[: len(full) + 1], 10**9)) > budget - 10_000 * len(summarised)


def test_a_feed_within_budget_is_rendered_whole() -> None:
    items = big_items(3)
    entries = assert_valid_atom(render_within("atom", SPEC, items, 10**9)).entries
    assert all(entry.content[0].value.startswith("<p>Bài") for entry in entries) and len(entries) == 3


def test_when_even_summaries_do_not_fit_the_oldest_items_are_left_out() -> None:
    items = [item(n, summary="Tóm tắt " * 500) for n in range(40)]
    body = render_within("rss", SPEC, items, 60_000)
    assert len(body) <= 60_000
    entries = assert_valid_rss(body).entries
    assert 0 < len(entries) < 40 and entries[0].id == items[0].guid


def test_last_modified_moves_forward_a_second_for_every_change_within_one() -> None:
    first = next_last_modified(None, T0)
    assert first == T0.replace(microsecond=0)
    second = next_last_modified(first, T0 + timedelta(milliseconds=100))
    third = next_last_modified(second, T0 + timedelta(milliseconds=200))
    assert second - first == timedelta(seconds=1) and third - second == timedelta(seconds=1)
    # Once the clock is ahead again, the clock wins.
    assert next_last_modified(third, T0 + timedelta(minutes=5)) == (T0 + timedelta(minutes=5)).replace(microsecond=0)


def test_stored_documents_carry_variants_that_decode_to_the_same_bytes() -> None:
    with session_scope() as session:
        assert store_document(session, "category:thu", "atom", b"<feed>1</feed>", T0)
        assert not store_document(session, "category:thu", "atom", b"<feed>1</feed>", T0 + timedelta(seconds=9))
        assert store_document(session, "category:thu", "atom", b"<feed>2</feed>", T0 + timedelta(milliseconds=10))
    with session_scope() as session:
        doc = load_document(session, "category:thu", "atom")
    assert doc is not None and doc.version == 2
    assert doc.last_modified == T0.replace(microsecond=0) + timedelta(seconds=1)
    variants = doc.variants()
    assert gzip.decompress(variants["gzip"][0]) == brotli.decompress(variants["br"][0]) == doc.body == b"<feed>2</feed>"
    etags = [etag for _body, etag in variants.values()]
    assert len(set(etags)) == 3 and all(e.startswith('"') and e.endswith('"') for e in etags)
    assert variants["br"][1] == variant_etag(doc.etag, "br") != doc.etag


def test_a_render_reads_the_validators_of_its_scope_but_not_the_bytes() -> None:
    with session_scope() as session:
        store_document(session, "category:vt", "rss", b"<rss>1</rss>", T0)
        store_document(session, "category:vt", "json", b"{}", T0)
    with session_scope() as session:
        session.execute(update(FeedDocument).where(FeedDocument.format == "json").values(body_br=None))
    with session_scope() as session:
        known = scope_documents(session, "category:vt")
        assert all({"body", "body_gzip", "body_br"} <= inspect(doc).unloaded for doc in known.values())
        assert not store_document(session, "category:vt", "rss", b"<rss>1</rss>", T0, known)
        # Variants missing (an older row): the same bytes are stored again, with them.
        assert store_document(session, "category:vt", "json", b"{}", T0, known)
        assert store_document(session, "category:vt", "rss", b"<rss>2</rss>", T0, known)
    with session_scope() as session:
        rss, json_feed = load_document(session, "category:vt", "rss"), load_document(session, "category:vt", "json")
    assert rss is not None and rss.body == b"<rss>2</rss>" and rss.version == 2
    assert rss.body_br is not None and brotli.decompress(rss.body_br) == rss.body
    assert json_feed is not None and json_feed.body_br is not None and json_feed.version == 2


def test_identity_first_then_variants_only_for_the_bytes_they_were_made_from() -> None:
    with session_scope() as session:
        assert store_document(session, "category:tp", "atom", b"<feed>1</feed>", T0, compress=False)
    with session_scope() as session:
        first = load_document(session, "category:tp", "atom")
    # Until the variants are stored, every client gets the identity bytes.
    assert first is not None and set(first.variants()) == {None} and first.version == 1
    with session_scope() as session:
        # The same bytes again are unchanged, variants or not.
        assert not store_document(session, "category:tp", "atom", b"<feed>1</feed>", T0, compress=False)
        assert store_variants(session, "category:tp", "atom", Compressed.of(b"<feed>1</feed>"))
        assert not store_variants(session, "category:tp", "atom", Compressed.of(b"<feed>1</feed>"))  # already there
    with session_scope() as session:
        done = load_document(session, "category:tp", "atom")
    assert done is not None and done.version == 2 and done.last_modified == first.last_modified
    assert done.body_gzip is not None and gzip.decompress(done.body_gzip) == done.body
    # Newer bytes stored meanwhile: the older bytes' variants are not written beside them.
    with session_scope() as session:
        assert store_document(session, "category:tp", "atom", b"<feed>2</feed>", T0, compress=False)
        assert not store_variants(session, "category:tp", "atom", Compressed.of(b"<feed>1</feed>"))
    with session_scope() as session:
        newer = load_document(session, "category:tp", "atom")
    assert newer is not None and newer.body == b"<feed>2</feed>" and set(newer.variants()) == {None}


def test_export_writes_every_variant_atomically_and_never_goes_back(tmp_path: Path) -> None:
    with session_scope() as session:
        store_document(session, "site", "atom", b"<feed>new</feed>", T0)
        newer = load_document(session, "site", "atom")
        store_document(session, "site", "atom", b"<feed>newer</feed>", T0 + timedelta(seconds=1))
        newest = load_document(session, "site", "atom")
    assert newer is not None and newest is not None
    export_document(tmp_path, "/feeds/atom.xml", newest)
    export_document(tmp_path, "/feeds/atom.xml", newer)  # late, older: must not win
    folder = tmp_path / "feeds"
    assert (folder / "atom.xml").read_bytes() == b"<feed>newer</feed>"
    assert gzip.decompress((folder / "atom.xml.gz").read_bytes()) == b"<feed>newer</feed>"
    assert brotli.decompress((folder / "atom.xml.br").read_bytes()) == b"<feed>newer</feed>"
    assert (folder / "atom.xml").stat().st_mtime == newest.last_modified.timestamp()
    assert not list(folder.glob("*.tmp")) and not list(folder.glob(".*.tmp"))


def test_export_happens_on_commit_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANTIN_FEED_EXPORT_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError), session_scope() as session:
            store_document(session, "category:bo", "rss", b"<rss>rolled back</rss>", T0)
            raise RuntimeError("the transaction fails after the render")
        assert not (tmp_path / "feeds/categories/bo/rss.xml").exists()
        with session_scope() as session:
            store_document(session, "category:bo", "rss", b"<rss>kept</rss>", T0)
            assert not (tmp_path / "feeds/categories/bo/rss.xml").exists()  # not before commit
        assert (tmp_path / "feeds/categories/bo/rss.xml").read_bytes() == b"<rss>kept</rss>"
        assert gzip.decompress((tmp_path / "feeds/categories/bo/rss.xml.gz").read_bytes()) == b"<rss>kept</rss>"
    finally:
        monkeypatch.delenv("BANTIN_FEED_EXPORT_DIR")
        get_settings.cache_clear()
