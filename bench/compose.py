"""Composing CPU per e-mail, in this process: a kind's words, the layout and the bytes.

    python -m bench.compose [--mails 500] [--runs 7]

A digest of eight articles (with images and summaries; the bench.digests shape) and an
article announcement, each to ``--mails`` readers (one in four English), rendered by the
registered kinds and written by ``build_email``; CPU time (``time.process_time``), so the
figure holds on a busy host. Decision 17: composing must stay small next to the SMTP
exchange; decision 0032: the words and the HTML come from the catalogue and templates.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

ARTICLES = [
    {
        "id": i,
        "title": f"Kỷ niệm {90 + i} năm Ngày thành lập Đảng Cộng sản Việt Nam",
        "summary": "Sáng nay tại Hà Nội, lễ kỷ niệm được tổ chức trọng thể với sự tham dự của lãnh đạo thành phố.",
        "url": f"https://bantin.example.vn/articles/{i}/ky-niem",
        "image_url": f"https://bantin.example.vn/media/{i:064x}.jpg",
        "published_at": None,
    }
    for i in range(8)
]
DIGEST = {
    "frequency": "daily",
    "period_start": "2026-11-29T23:30:00+00:00",
    "covers_from": "2026-11-28T23:30:00+00:00",
    "articles": ARTICLES,
}
ARTICLE: dict[str, Any] = {"article": {**ARTICLES[0], "guid": "urn:uuid:0", "categories": []}}


def per_mail(kind: str, payload: Mapping[str, Any], mails: int, runs: int) -> tuple[float, float, int]:
    """(median, min) µs of CPU per mail, and the size of one mail in bytes."""
    from config.settings import get_settings
    from service.channels.mail import build_email
    from tests.outbound import outbound

    settings, now = get_settings(), datetime.now(UTC)

    def batch() -> list[Any]:
        return [
            outbound(
                kind, payload, channel="email", target=f"r{n}@example.vn", subscription_id=n,
                unsubscribe_token="t" * 43, locale="en" if n % 4 == 0 else "vi", now=now,
            )
            for n in range(mails)
        ]  # fmt: skip

    size = len(build_email(settings, batch()[0], now))
    figures = []
    for _ in range(runs):
        messages = batch()
        started = time.process_time()
        for message in messages:
            build_email(settings, message, now)
        figures.append((time.process_time() - started) / mails * 1e6)
    return statistics.median(figures), min(figures), size


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mails", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    # A test environment with a fixed key: nothing is generated in var/, the links sign the same.
    os.environ.setdefault("BANTIN_ENVIRONMENT", "test")
    os.environ.setdefault("BANTIN_SECRET_KEY", "bench-compose-secret-key-0123456789abcdef")
    os.environ.setdefault("BANTIN_BASE_URL", "https://bantin.example.vn")
    os.environ.setdefault("BANTIN_SITE_TITLE", "Thành ủy Đà Nẵng")
    for kind, payload in (("reader.digest", DIGEST), ("article.published", ARTICLE)):
        median, least, size = per_mail(kind, payload, args.mails, args.runs)
        print(
            f"{kind}: {size:,} bytes; CPU per mail (words, layout, bytes): median {median:.0f} µs, min {least:.0f} µs"
        )


if __name__ == "__main__":
    main()
