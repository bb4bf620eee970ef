"""Every string our code marks for translation has a zh-Hans translation that Django actually loads.

A fresh extraction (Django's makemessages over a copy of the sources, all apps into one catalogue) lists every msgid
the code and templates use today; each must be in the merged zh-Hans catalogue Django serves (any of our catalogues,
or Django's own for its stock words). A string added without a translation, or translated in a catalogue that is not
loaded, fails here with its msgid, instead of showing English in the Chinese console."""
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import trans_real

ROOT = Path(__file__).resolve().parents[2] / "yundian"
SKIPPED_DIRS = {"tests", "locale", "__pycache__", "migrations", "static"}


def _copy_sources(target: Path) -> None:
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if path.is_dir() or SKIPPED_DIRS & set(relative.parts[:-1]) or path.suffix not in {".py", ".html", ".txt"}:
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / relative)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list[polib.POEntry]:
    work = tmp_path_factory.mktemp("extract")
    _copy_sources(work / "yundian")
    (work / "yundian" / "locale").mkdir()
    cwd = Path.cwd()
    try:
        import os

        os.chdir(work / "yundian")
        call_command("makemessages", locale=["zh_Hans"], no_location=True, no_obsolete=True, verbosity=0)
    finally:
        os.chdir(cwd)
    po = polib.pofile(str(work / "yundian" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    return [e for e in po if not e.obsolete]


def test_the_extraction_sees_the_whole_code_base(extracted):
    msgids = {e.msgid for e in extracted}
    assert len(extracted) > 1500
    assert {"Orders", "Audit log", "Opening balance (import)", "Value (yuan)"} <= msgids


def test_every_msgid_we_use_has_a_zh_hans_translation(extracted):
    catalog = trans_real.translation("zh-hans")._catalog
    missing = []
    for entry in extracted:
        key = f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt else entry.msgid
        if entry.msgid_plural:
            found = catalog.get((key, 0)) is not None
        else:
            found = catalog.get(key) is not None
        if not found:
            missing.append((entry.msgctxt, entry.msgid))
    assert missing == [], "\n".join(f"{c or ''}|{m}" for c, m in missing)


def test_a_string_marked_without_a_translation_would_be_caught():
    catalog = trans_real.translation("zh-hans")._catalog
    assert catalog.get("An English sentence nobody translated.") is None
    with translation.override("zh-hans"):
        assert translation.gettext("Orders") == "订单"
