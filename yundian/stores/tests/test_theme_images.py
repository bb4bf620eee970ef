"""The storefront look's images: a banner or logo is picked from the built-in and uploaded images or uploaded on
the page (no typed path); a bad file or a field the store may not change is refused with nothing stored."""
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from yundian.org.tests.utils import client_for
from yundian.stores.models import StorefrontTheme

from .factories import make_shop
from .utils import state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(tmp_path):
    with override_settings(MEDIA_ROOT=tmp_path):
        yield tmp_path


def png(colour=(212, 56, 13), size=(120, 40)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return SimpleUploadedFile("banner.png", buffer.getvalue(), content_type="image/png")


def stored(media) -> list[str]:
    return sorted(str(p.relative_to(media)) for p in media.rglob("*") if p.is_file())


def test_a_store_manager_uploads_a_banner_and_it_is_offered_again_on_the_page(chain, media):
    shop = make_shop(chain)
    manager = client_for(chain.manager_a)
    response = manager.post(f"/stores/{chain.store_a.id}/storefront/", {"banner_upload": png(), "notice": "新品"})
    assert response.status_code == 302
    theme = StorefrontTheme.objects.get(store=shop.profile_a)
    files = stored(media)
    assert len(files) == 1 and files[0].startswith(f"stores/theme/{chain.admin.enterprise_id}/")
    assert (theme.banner_url, theme.notice) == (f"/media/{files[0]}", "新品")
    page = manager.get(f"/stores/{chain.store_a.id}/storefront/").content.decode()
    assert f'name="banner_url" value="/media/{files[0]}" checked' in page
    assert 'name="banner_url" value="/static/stores/banners/ocean.svg"' in page
    # the same image again is the same file
    manager.post(f"/stores/{chain.store_a.id}/storefront/", {"banner_upload": png()})
    assert stored(media) == files


def test_picking_a_built_in_banner_needs_no_typing(chain):
    shop = make_shop(chain)
    response = client_for(chain.manager_a).post(f"/stores/{chain.store_a.id}/storefront/",
                                                {"banner_url": "/static/stores/banners/ocean.svg"})
    assert response.status_code == 302
    assert StorefrontTheme.objects.get(store=shop.profile_a).banner_url == "/static/stores/banners/ocean.svg"


@pytest.mark.parametrize("field, upload, status, code", [
    ("banner_upload", SimpleUploadedFile("x.png", b"not an image", content_type="image/png"), 422, "invalid_image"),
    ("logo_upload", None, 403, "theme_field_not_editable"),  # the logo is HQ's by default
])
def test_a_refused_upload_changes_nothing_and_leaves_no_file(chain, media, field, upload, status, code):
    make_shop(chain)
    before = state()
    response = client_for(chain.manager_a).post(f"/stores/{chain.store_a.id}/storefront/",
                                                {field: upload or png(), "notice": "不应保存"})
    assert response.status_code == status and f'data-code="{code}"' in response.content.decode()
    assert state() == before and stored(media) == []


@pytest.mark.parametrize("who, logo, status, code", [
    ("manager_a", png((20, 20, 20)), 403, "theme_field_not_editable"),  # the banner is fine, the logo is HQ's
    ("admin", SimpleUploadedFile("x.png", b"not an image", content_type="image/png"), 422, "invalid_image"),
])
def test_a_banner_sent_with_a_refused_logo_is_not_kept_either(chain, media, who, logo, status, code):
    make_shop(chain)
    before = state()
    response = client_for(getattr(chain, who)).post(f"/stores/{chain.store_a.id}/storefront/",
                                                    {"banner_upload": png(), "logo_upload": logo, "notice": "不应保存"})
    assert response.status_code == status and f'data-code="{code}"' in response.content.decode()
    assert state() == before and stored(media) == []
