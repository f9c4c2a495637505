"""Images the editor puts in a body survive the sanitiser; everything active around them does not."""

from __future__ import annotations

from service.text import has_visible_content, resolve_references, sanitize_html

MEDIA = "https://bantin.example.vn/media/" + "a" * 64 + ".png"
# What Trix serialises for an uploaded image attachment (captions of name and size turned off).
TRIX_FIGURE = (
    '<figure data-trix-attachment="{&quot;contentType&quot;:&quot;image/png&quot;,&quot;url&quot;:&quot;'
    + MEDIA
    + '&quot;}" data-trix-content-type="image/png" class="attachment attachment--preview attachment--png">'
    + f'<a href="{MEDIA}"><img src="{MEDIA}" width="640" height="480"></a>'
    + '<figcaption class="attachment__caption">Lễ mít tinh</figcaption></figure>'
)


def test_an_uploaded_image_in_the_body_is_kept_and_trix_bookkeeping_dropped() -> None:
    clean = sanitize_html(f"<div>Ảnh:</div>{TRIX_FIGURE}")
    assert f'<img src="{MEDIA}" width="640" height="480">' in clean
    assert "<figcaption>Lễ mít tinh</figcaption>" in clean
    assert "data-trix" not in clean and "class=" not in clean
    assert has_visible_content(sanitize_html(TRIX_FIGURE.replace("Lễ mít tinh", "")))


def test_a_relative_media_path_becomes_absolute_in_a_feed() -> None:
    clean = sanitize_html('<img src="/media/' + "a" * 64 + '.png">')
    resolved = resolve_references(clean, "https://bantin.example.vn/articles/1/bai", keep_fragments=False)
    assert f'src="{MEDIA}"' in resolved


def test_active_content_around_images_stays_inert() -> None:
    dirty = (
        f'<img src="{MEDIA}" onerror="alert(1)" onload="alert(2)" style="x">'
        '<img src="javascript:alert(3)"><img src="data:image/svg+xml;base64,PHN2Zz4=">'
        '<svg><image href="x"/></svg><script>alert(4)</script>'
        '<a href="javascript:alert(5)">x</a><img srcset="javascript:alert(6) 1x">'
    )
    clean = sanitize_html(dirty)
    for active in ("onerror", "onload", "style", "javascript:", "data:", "<svg", "<script", "alert(4)"):
        assert active not in clean
    assert f'<img src="{MEDIA}">' in clean
