import unicodedata

import pytest

from service.text import clean_line, plain_text_from_html, remove_xml_forbidden, sanitize_html, slugify_vi

BASE = "https://bantin.example.vn"


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Xây dựng Đảng", "xay-dung-dang"),
        ("ĐẢNG BỘ THÀNH PHỐ ĐÀ NẴNG", "dang-bo-thanh-pho-da-nang"),
        ("đường Điện Biên Phủ", "duong-dien-bien-phu"),
        ("Kỷ niệm 93 năm (3/2/1930 – 3/2/2023)", "ky-niem-93-nam-3-2-1930-3-2-2023"),
        ("  Thời   sự  ", "thoi-su"),
        ("🎉🎉", ""),
    ],
)
def test_slugify_vi_transliterates_vietnamese(text: str, slug: str) -> None:
    assert slugify_vi(text) == slug


def test_slug_of_decomposed_text_equals_slug_of_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Xây dựng Đảng")
    assert decomposed != "Xây dựng Đảng"
    assert slugify_vi(decomposed) == "xay-dung-dang"


def test_clean_line_normalises_to_nfc_and_collapses_white_space() -> None:
    decomposed = unicodedata.normalize("NFD", "Kỷ niệm\n  93 năm ")
    assert clean_line(decomposed) == "Kỷ niệm 93 năm"
    assert unicodedata.is_normalized("NFC", clean_line(decomposed))


def test_xml_forbidden_characters_are_removed_and_allowed_ones_kept() -> None:
    assert remove_xml_forbidden("a\x00b\x08c\x0bd\x1fe\ufffff\tg\nh\ri😀") == "abcdef\tg\nh\ri😀"


def test_sanitize_removes_scripts_handlers_and_javascript_urls() -> None:
    dirty = (
        '<p onclick="steal()">Xin chào<script>alert(1)</script>'
        '<a href="javascript:alert(1)">x</a><style>p{}</style><iframe src="https://evil"></iframe></p>'
    )
    clean = sanitize_html(dirty, BASE)
    assert "script" not in clean
    assert "onclick" not in clean
    assert "javascript" not in clean
    assert "iframe" not in clean and "style" not in clean
    assert "Xin chào" in clean


def test_sanitize_keeps_article_markup() -> None:
    markup = (
        '<h2>Tiêu đề</h2><figure><img src="https://cdn.vn/a.jpg" alt="Ảnh"><figcaption>Chú thích</figcaption>'
        "</figure><table><thead><tr><th>Năm</th></tr></thead><tbody><tr><td>1930</td></tr></tbody></table>"
        "<blockquote>Trích dẫn</blockquote><ul><li>một</li></ul><ol><li>hai</li></ol>"
    )
    clean = sanitize_html(markup, BASE)
    for tag in ("<h2>", "<figure>", "<figcaption>", "<table>", "<th>", "<td>", "<blockquote>", "<ul>", "<ol>", "<img"):
        assert tag in clean, tag


def test_sanitize_makes_relative_links_absolute() -> None:
    clean = sanitize_html('<a href="/tin/1">x</a><img src="anh.jpg" srcset="a.jpg 1x, /b.jpg 2x">', BASE)
    assert 'href="https://bantin.example.vn/tin/1"' in clean
    assert 'src="https://bantin.example.vn/anh.jpg"' in clean
    assert 'srcset="https://bantin.example.vn/a.jpg 1x, https://bantin.example.vn/b.jpg 2x"' in clean


def test_plain_text_from_html_strips_tags_and_unescapes() -> None:
    assert plain_text_from_html("<b>Tóm &amp; tắt</b>\n<script>x</script> dòng") == "Tóm & tắt dòng"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Đảng Cộng sản Việt Nam", "dang cong san viet nam"),
        ("ĐẢNG", "dang"),
        ("năm tròn  Kỷ niệm", "nam tron ky niem"),
        ("Thừa Thiên\u2013Huế", "thua thien\u2013hue"),
        ("Ngày thành lập", "ngay thanh lap"),
    ],
)
def test_search_key_drops_diacritics_and_maps_d_stroke(text: str, key: str) -> None:
    from service.text import search_key

    assert search_key(text) == key
    # NFD input (e + combining marks, as some keyboards send it) gives the same key.
    assert search_key(unicodedata.normalize("NFD", text)) == key
