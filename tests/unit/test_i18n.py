"""The English catalogue covers every string people read; the check that says so can fail."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

from babel.messages.catalog import Catalog

from service.i18n import LANGUAGES, translations, use_language
from service.i18n_catalogue import MAPPING, PO_FILE, ROOT, extract, read_catalogue, untranslated, update
from service.web.templating import build_environment

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_msgid_in_templates_and_python_has_an_english_translation() -> None:
    missing = untranslated(extract(), read_catalogue())
    assert not missing, f"run `make i18n` and translate in {PO_FILE.relative_to(ROOT)}: {missing}"


def test_the_check_fails_for_a_new_untranslated_string_and_a_fuzzy_one(tmp_path: Path) -> None:
    (tmp_path / "service" / "console" / "templates").mkdir(parents=True)
    (tmp_path / "service" / "console" / "templates" / "moi.html").write_text(
        '<h1>{{ _("Tổng quan") }}</h1><p>{{ _("Trang mới chưa dịch %(n)s", n=1) }}</p>', encoding="utf-8"
    )
    (tmp_path / "service" / "moi.py").write_text(
        'from service.i18n import N_, gettext\nA = N_("Nhãn chưa dịch")\nB = gettext("Tổng quan")\n', encoding="utf-8"
    )
    shutil.copy(MAPPING, tmp_path / "babel.cfg")
    found = extract(tmp_path, tmp_path / "babel.cfg")
    assert {m.id for m in found if m.id} == {"Tổng quan", "Trang mới chưa dịch %(n)s", "Nhãn chưa dịch"}
    assert untranslated(found, read_catalogue()) == ["Nhãn chưa dịch", "Trang mới chưa dịch %(n)s"]

    fuzzy = Catalog(locale="en")
    fuzzy.add("Tổng quan", "Dashboard", flags=["fuzzy"])
    fuzzy.add("Nhãn chưa dịch", "")
    fuzzy.add("Trang mới chưa dịch %(n)s", "New page %(n)s")
    assert untranslated(found, fuzzy) == ["Nhãn chưa dịch", "Tổng quan"]


def test_the_catalogue_is_what_make_i18n_writes(tmp_path: Path) -> None:
    # Sorted, without source locations, nothing obsolete: a merge of two branches' strings is plain text.
    copy = tmp_path / "messages.po"
    shutil.copy(PO_FILE, copy)
    assert update(copy) == []
    assert copy.read_bytes() == PO_FILE.read_bytes(), "run `make i18n`: the catalogue is not up to date"
    assert "#: " not in PO_FILE.read_text(encoding="utf-8")


def test_translations_keep_every_placeholder() -> None:
    for message in read_catalogue():
        if message.id:
            assert set(PLACEHOLDER.findall(str(message.string))) == set(PLACEHOLDER.findall(str(message.id))), (
                message.id
            )


def test_english_is_looked_up_vietnamese_is_the_source() -> None:
    assert translations("en").gettext("Tổng quan") == "Dashboard"
    assert translations("vi").gettext("Tổng quan") == "Tổng quan"
    env = build_environment("service.console")
    template = env.from_string('{{ _("Trang %(page)s/%(pages)s", page=2, pages=5) }} · {{ 3|string }}')
    assert template.render() == "Trang 2/5 · 3"
    with use_language("en"):
        assert template.render() == "Page 2/5 · 3"
    with use_language("xx"):  # unknown: Vietnamese
        assert template.render() == "Trang 2/5 · 3"


def test_both_template_folders_share_one_configuration() -> None:
    site, console = build_environment("service.web"), build_environment("service.console")
    for attribute in ("undefined", "trim_blocks", "lstrip_blocks"):
        assert getattr(site, attribute) == getattr(console, attribute), attribute
    for name in ("page.html", "feed.xml", "robots.txt"):
        assert site.autoescape(name) == console.autoescape(name) == (name != "robots.txt")  # type: ignore[operator]
    assert site.undefined.__name__ == "StrictUndefined"
    assert set(site.filters) == set(console.filters) and "_" in site.globals and "_" in console.globals


def _words_outside_the_catalogue(root: Path) -> list[str]:
    """Literal tables keyed by "vi" and "en", and ``"…" if … == "vi" else "…"`` between two
    literal strings, under ``root``: words the catalogue check cannot see. A choice between two
    language codes is not words, nor are ``service/i18n.py``'s language names (each written in
    its own language, as a language switch shows them)."""
    found = []
    for path in sorted(p for p in root.rglob("*.py") if p.relative_to(root) != Path("i18n.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                literal = all(isinstance(v, ast.Constant | ast.Dict | ast.JoinedStr) for v in node.values)
                if {"vi", "en"} <= keys and literal:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
            if isinstance(node, ast.IfExp) and isinstance(node.test, ast.Compare):
                compared = [c.value for c in node.test.comparators if isinstance(c, ast.Constant)]
                values = [n.value for n in (node.body, node.orelse) if isinstance(n, ast.Constant)]
                words = len(values) == 2 and all(isinstance(v, str) and v not in LANGUAGES for v in values)
                if words and set(compared) & set(LANGUAGES):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_every_word_people_read_is_in_the_catalogue_not_in_a_table_of_its_own(tmp_path: Path) -> None:
    # Mail, Telegram, Zalo, Slack/Teams and digests once kept their words in per-module
    # {"vi": …, "en": …} tables and "vi" ternaries, out of the check above (decision 0032).
    assert _words_outside_the_catalogue(ROOT / "service") == []
    (tmp_path / "service").mkdir()
    (tmp_path / "service" / "old.py").write_text(
        'WORDS = {"vi": {"read": "Đọc bài"}, "en": {"read": "Read"}}\n'
        'def label(locale):\n    return "Xem" if locale == "vi" else "Open"\n',
        encoding="utf-8",
    )
    assert _words_outside_the_catalogue(tmp_path / "service") == ["service/old.py:1", "service/old.py:3"]
