"""Every header a mail carries reads back, in standard parsers, as the text it was made from.

Two parsers: ``email.parser`` with ``policy.default`` (what Python programs read mail
with) and ``email.header.decode_header`` + ``make_header`` (RFC 2047 decoding as such,
§6.2 included). Mails are composed by ``build_email`` itself, over generated Vietnamese
text of every length: spaces at the ends and repeated, punctuation, words longer than an
encoded-word, ASCII mixed in.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

from hypothesis import example, given, settings
from hypothesis import strategies as st

from config.settings import Settings, get_settings
from service.channels.mail import build_email
from tests.outbound import outbound

_LETTERS = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
VIETNAMESE = _LETTERS + _LETTERS.upper()
PUNCTUATION = "0123456789.,:;!?\"'()[]<>@\\/=_-–—“”…%&*+#"
ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

BODY = "Nội dung"

words = st.text(st.sampled_from(VIETNAMESE + PUNCTUATION + ASCII), min_size=1, max_size=120)
spaces = st.text(st.just(" "), min_size=1, max_size=3)


@st.composite
def vietnamese_text(draw: st.DrawFn) -> str:
    """Words (a few very long) joined by one to three spaces, with or without spaces at the ends."""
    parts = draw(st.lists(words, min_size=0, max_size=24))
    text = "".join(part + draw(spaces) for part in parts[:-1]) + (parts[-1] if parts else "")
    return draw(st.sampled_from(["", " ", "  "])) + text + draw(st.sampled_from(["", " ", "   "]))


def compose(subject: str, site_title: str, target: str = "ban.doc@example.vn") -> bytes:
    base: Settings = get_settings()
    changed = base.model_copy(update={"site_title": site_title, "smtp_from": "tin@bantin.example.vn"})
    message = outbound(
        "reminder.due",
        # A reminder carries its words as given: the subject is exactly ``subject``.
        {"text": {"vi": BODY}, "subject": {"vi": subject}},
        delivery_id="0b9d6c3e-5d2a-4d8e-9a51-3f0c2f6d7a10",
        channel="email",
        target=target,
        unsubscribe_token="token",
        settings=changed,
    )
    return build_email(changed, message)


def parsed(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=default_policy).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def raw_value(raw: bytes, name: str) -> str:
    """The header's value as sent, folded lines included (decode_header takes folded text)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    found = re.search(rf"^{name}: ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", head, re.MULTILINE)
    assert found is not None, f"no {name} header"
    return found.group(1)


def rfc2047(value: str) -> str:
    return str(make_header(decode_header(value)))


@settings(max_examples=300, deadline=None)
@given(subject=vietnamese_text(), title=vietnamese_text())
@example(
    subject="Còn 7 ngày: Kỷ niệm 93 năm Ngày thành lập Đảng Cộng sản Việt Nam (3/2/1930 – 3/2/2023)",
    title="Ban Tuyên giáo Thành ủy Thành phố Hồ Chí Minh",
)
@example(subject="  hai  khoảng   trắng  ", title="Đ" * 300)
@example(subject="plain =?utf-8?q?not_a_word?= ascii", title='Ban "Tin", Đảng <bộ>')
@example(subject="", title="")
def test_each_header_decodes_to_the_text_it_was_made_from(subject: str, title: str) -> None:
    raw = compose(subject, title)
    message = parsed(raw)
    subject = subject or BODY  # a reminder without a subject takes its first line
    # A display name is words: whitespace runs read as one space, none at the ends (RFC 5322 §3.2.2).
    name = " ".join(title.split())
    sender = "tin@bantin.example.vn"

    assert str(message["Subject"]) == subject
    assert rfc2047(raw_value(raw, "Subject")) == subject

    (address,) = message["From"].addresses
    assert (address.display_name, address.addr_spec) == (name, sender)
    assert rfc2047(raw_value(raw, "From")) == (f"{name} <{sender}>" if name else f"<{sender}>")

    list_id = f"{name} <announcements.bantin.example.vn>" if name else "<announcements.bantin.example.vn>"
    assert str(message["List-Id"]) == list_id
    assert rfc2047(raw_value(raw, "List-Id")) == list_id


@given(local=st.text(st.sampled_from(ASCII + "0123456789._-"), min_size=1, max_size=60))
def test_an_ascii_recipient_is_written_as_it_is(local: str) -> None:
    target = f"{local}@example.vn"
    message = parsed(compose("Tin mới", "Bantin", target))
    assert str(message["To"]) == target


def test_every_line_of_the_head_is_ascii_and_within_the_line_limit() -> None:
    raw = compose("Kỷ niệm " * 60, "Thành ủy " * 30)
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    assert max(len(line) for line in head.split(b"\r\n")) <= 998


def test_a_named_sender_and_a_non_ascii_host_read_back_as_configured() -> None:
    changed = get_settings().model_copy(
        update={"smtp_from": "Văn phòng  Thành ủy <vp@bản-tin.vn>", "base_url": "https://bản-tin.vn"}
    )
    message = outbound(
        "reminder.due", {"text": {"vi": BODY}}, delivery_id="d1", channel="email", target="a@example.vn",
        unsubscribe_token="t", settings=changed,
    )  # fmt: skip
    raw = build_email(changed, message)
    assert raw.split(b"\r\n\r\n", 1)[0].isascii()
    (address,) = parsed(raw)["From"].addresses
    # The domain in its IDNA form (RFC 5890), which a header carries without SMTPUTF8.
    assert (address.display_name, address.addr_spec) == ("Văn phòng Thành ủy", "vp@xn--bn-tin-bd8b.vn")
    assert str(parsed(raw)["List-Id"]) == "Thành ủy Đà Nẵng <announcements.xn--bn-tin-bd8b.vn>"
