"""E-mail composition in one process: ``build_email`` per message, and what a new header value costs.

Two figures, each the median of ``--rounds`` rounds:

- shared: ``--messages`` mails with one Vietnamese subject and one site title (a digest
  or an announcement: every header value but To and the ids repeats, so encoded values
  come from the per-value cache, ARCHITECTURE.md decision 17), µs per mail;
- distinct: as many mails, each with a subject of its own (every Subject is encoded
  anew: the cache's worst case), µs per mail.

    python -m bench.mail_headers [--messages 2000] [--rounds 7]

No database, broker or SMTP server: the reminder payload carries its subject as given.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid

from config.settings import get_settings
from service.channels.mail import build_email
from service.channels.messages import OutboundMessage
from tests.outbound import outbound

SUBJECT = "Còn 7 ngày: Kỷ niệm 97 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 - 3/2/2027)"
WORDS = SUBJECT.replace(":", "").replace("(", "").replace(")", "").split()


def message(subject: str, number: int) -> OutboundMessage:
    return outbound(
        "reminder.due",
        {"text": {"vi": "Nội dung nhắc việc."}, "subject": {"vi": subject}},
        delivery_id=str(uuid.UUID(int=number)),
        subscription_id=number,
        channel="email",
        target=f"ban.doc.{number}@example.vn",
        unsubscribe_token="t" * 43,
    )


def per_message_us(messages: list[OutboundMessage]) -> float:
    settings = get_settings()
    for item in messages:
        item.message  # noqa: B018 - rendered before the clock starts: this bench times build_email's writing
    started = time.perf_counter()
    for item in messages:
        build_email(settings, item)
    return (time.perf_counter() - started) / len(messages) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    settings = get_settings()
    settings.site_title = "Ban Tuyên giáo Thành ủy Thành phố Hồ Chí Minh"
    rng = random.Random(17)
    shared, distinct = [], []
    for _ in range(args.rounds):
        shared.append(per_message_us([message(SUBJECT, n) for n in range(args.messages)]))
        subjects = [" ".join(rng.choices(WORDS, k=rng.randint(6, 24))) for _ in range(args.messages)]
        distinct.append(per_message_us([message(s, n) for n, s in enumerate(subjects)]))
    print(f"build_email, {args.messages} mails × {args.rounds} rounds (median µs per mail)")
    print(f"  shared subject and title: {statistics.median(shared):.1f}")
    print(f"  a new subject each:       {statistics.median(distinct):.1f}")


if __name__ == "__main__":
    main()
