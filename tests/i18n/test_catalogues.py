"""Every user-facing string ships in zh-Hans: each catalogue is complete, placeholders survive, and the compiled
.mo files are the .po files (so a translation edited but not compiled fails here, not in front of a customer)."""
import gettext
import re
from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2] / "yundian"
CATALOGUES = sorted(ROOT.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sd]|\{\w*\}")


def test_there_is_a_catalogue_for_the_project_and_each_context_with_strings():
    names = {p.relative_to(ROOT).parts[0] for p in CATALOGUES}
    assert {"locale", "catalog", "inventory", "members", "sales", "pos"} <= names


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_catalogue_is_complete_and_keeps_placeholders(po_path):
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert untranslated == [] and fuzzy == []
    for entry in po.translated_entries():
        if entry.msgid_plural:
            # Chinese has one form, used for every count: it keeps the plural's placeholders (the singular may leave
            # out the number, "in the last day")
            wanted = set(PLACEHOLDER.findall(entry.msgid_plural))
            for target in entry.msgstr_plural.values():
                assert set(PLACEHOLDER.findall(target)) == wanted, entry.msgid_plural
                assert set(PLACEHOLDER.findall(entry.msgid)) <= wanted, entry.msgid
        else:
            assert sorted(PLACEHOLDER.findall(entry.msgid)) == sorted(PLACEHOLDER.findall(entry.msgstr)), entry.msgid


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: str(p.relative_to(ROOT)))
def test_compiled_catalogue_matches_its_source(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"compile it: msgfmt -o {mo_path} {po_path}"
    with open(mo_path, "rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    for entry in polib.pofile(str(po_path)).translated_entries():
        if entry.msgid_plural:
            continue
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        assert compiled._catalog.get(key) == entry.msgstr, entry.msgid


def test_the_console_speaks_both_languages():
    from yundian.web.nav import GROUPS, NAV

    with translation.override("zh-hans"):
        chinese = [str(item.label) for item in [*GROUPS, *NAV]]
    with translation.override("en"):
        english = [str(item.label) for item in [*GROUPS, *NAV]]
    assert chinese[:8] == ["销售", "商品", "库存", "会员", "营销", "导购", "分析", "设置"]
    assert english[:8] == ["Sales", "Goods", "Stock", "Members", "Marketing", "Guides", "Analytics", "Settings"]
    assert all(c != e for c, e in zip(chinese, english) if e not in {"POS"}), list(zip(chinese, english))
