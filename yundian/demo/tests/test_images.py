"""The demo catalogue looks real: product names carry no style numbers, and every product has a picture drawn with
Pillow (a valid PNG on disk, the same bytes for the same seed; alike products share one file)."""
import io
import re

from PIL import Image

from yundian.catalog.models import Product, ProductMedia
from yundian.demo import generators
from yundian.demo.generators import catalog as catalog_step
from yundian.demo.generators import org as org_step
from yundian.demo.generators.images import draw_product_image, product_image_name


def seed_catalogue(monkeypatch, code: str):
    monkeypatch.setattr(generators, "STEPS", lambda: [org_step.step, catalog_step.step])
    return generators.run_seed(scale=1, seed=3, code=code)


def test_demo_products_have_real_names_and_a_picture_each(db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    ctx = seed_catalogue(monkeypatch, "imgdemo")
    products = list(Product.objects.filter(enterprise=ctx.enterprise).order_by("id"))
    assert len(products) == 60 + 17  # the cycling range and the 母婴 department
    assert [p.name for p in products if re.search(r"[0-9]", p.name)] == []
    assert len({p.name for p in products}) >= 40  # varied, not one name per kind
    media = list(ProductMedia.objects.filter(product__in=products).order_by("product_id"))
    assert [m.product_id for m in media] == [p.id for p in products]
    files = {m.file.name for m in media}
    assert 10 <= len(files) < len(products)  # alike products share a picture
    for name in files:
        with Image.open(tmp_path / name) as image:
            assert (image.format, image.size) == ("PNG", (480, 480))


def test_the_same_seed_draws_the_same_pictures(db, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "one"
    first = seed_catalogue(monkeypatch, "imga")
    one = [(m.product.name, (tmp_path / "one" / m.file.name).read_bytes())
           for m in ProductMedia.objects.filter(product__enterprise=first.enterprise).order_by("product_id")]
    settings.MEDIA_ROOT = tmp_path / "two"
    second = seed_catalogue(monkeypatch, "imgb")
    two = [(m.product.name, (tmp_path / "two" / m.file.name).read_bytes())
           for m in ProductMedia.objects.filter(product__enterprise=second.enterprise).order_by("product_id")]
    assert one == two


def test_a_picture_is_the_products_colour_for_apparel():
    png = draw_product_image("top", "藏青", "宽松纯棉圆领T恤", "纯棉圆领T恤")
    with Image.open(io.BytesIO(png)) as image:
        assert image.getpixel((5, 5)) == (35, 52, 95)  # 藏青 tile
    assert product_image_name("x", "top", "藏青", "宽松纯棉圆领T恤", "纯棉圆领T恤") == product_image_name(
        "x", "top", "藏青", "修身纯棉圆领T恤", "纯棉圆领T恤")
    assert product_image_name("x", "top", "藏青", "a", "纯棉圆领T恤") != product_image_name(
        "x", "top", "酒红", "a", "纯棉圆领T恤")
