"""Catalogue step: categories, products (apparel, shoes, household, weighed fresh produce), SKUs with barcodes,
product images, weighed-barcode schemes and price lists. Needs the org step (regions, HQ) before it.

Shape at scale s (exact):

    categories       23 (a fixed two-level tree: 服装, 鞋靴, 家居, 生鲜称重, 母婴 and their sub-categories)
    products         P = 60 + 25 (s - 1) + 17    s = 1 -> 77, s = 400 -> 10,052
    skus             K = sum of VARIANTS[i % 10] for i < P - 17 (47 per 10 products) + 18   s = 1 -> 300
                     product kinds cycle: top (2 colours x 4 sizes), trousers (2 x 4), dress/outerwear (2 x 3),
                     two shoes (7 sizes), four household items (3, 2, 1, 4 variants), one weighed produce item;
                     then the 母婴 department's fixed 17 products (BABY: formula stages 1-3 in two brands, nappies
                     S/M/L/XL, wipes, baby wash, a bottle in two sizes, a sippy cup, prams at three price points)
    barcodes         one EAN-13 per SKU that is not weighed ("69" + 10-digit sequence + check digit);
                     weighed SKUs carry a PLU (1001, 1002, ...) printed by the scales (scheme 21 = grams, 22 = fen)
    product_media    P (one cover picture each, drawn with Pillow: the product's colour, a glyph of its kind and a
                     character of its name; alike products share one file, so a large chain draws a few hundred)
    price_lists      3 + R: HQ online (every SKU at 95 %), HQ wholesale (every 5th SKU at 70 %), HQ week promo
                     (every 10th SKU at 80 %, valid from yesterday for 7 days), one store list per region
                     (every 20th SKU at 97 %)
    price_entries    K + ceil(K/5) + ceil(K/10) + R ceil(K/20)

Names (a style word and an item: "宽松纯棉圆领T恤"; no style numbers), base prices and which colours a product
comes in are drawn from the step's own random stream.
"""
import math
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

BATCH = 2000

# (kind, category code, variant count) — the ten product kinds cycle in this order
KINDS = [("top", "APP-TOP", 8), ("bottom", "APP-BTM", 8), ("outer", "APP-OUT", 6), ("run", "SHO-RUN", 7),
         ("casual", "SHO-CAS", 7), ("kitchen", "HOM-KIT", 3), ("bedding", "HOM-BED", 2), ("storage", "HOM-STO", 1),
         ("clean", "HOM-CLN", 4), ("fresh", "FRS-FRU", 1)]
VARIANTS = [k[2] for k in KINDS]

CATEGORIES = [
    ("APP", "服装", None), ("APP-TOP", "上装", "APP"), ("APP-BTM", "下装", "APP"), ("APP-OUT", "外套与连衣裙", "APP"),
    ("SHO", "鞋靴", None), ("SHO-RUN", "运动鞋", "SHO"), ("SHO-CAS", "休闲鞋", "SHO"),
    ("HOM", "家居", None), ("HOM-KIT", "厨具餐具", "HOM"), ("HOM-BED", "床品毛巾", "HOM"),
    ("HOM-STO", "收纳", "HOM"), ("HOM-CLN", "清洁用品", "HOM"),
    ("FRS", "生鲜称重", None), ("FRS-FRU", "水果", "FRS"), ("FRS-VEG", "蔬菜", "FRS"), ("FRS-MEA", "肉禽", "FRS"),
    ("FRS-SEA", "水产", "FRS"),
    ("BAB", "母婴", None), ("BAB-FML", "奶粉", "BAB"), ("BAB-DPR", "纸尿裤", "BAB"), ("BAB-WIP", "湿巾洗护", "BAB"),
    ("BAB-FED", "喂养用品", "BAB"), ("BAB-PRM", "婴儿推车", "BAB"),
]
# the mother-and-baby department: a fixed range at every scale, appended after the cycling products (so what the
# other products draw stays the same). (life-stage key, name, brand, sub-category, price in yuan, variants); the key
# is what history_baby.py's parents buy by (formula stage, nappy size, the complements, three pram price points)
BABY = [
    ("formula-1-a", "启育 婴儿配方奶粉 一段", "启育", "BAB-FML", 268, ["800克 0-6个月"]),
    ("formula-2-a", "启育 较大婴儿配方奶粉 二段", "启育", "BAB-FML", 258, ["800克 6-12个月"]),
    ("formula-3-a", "启育 幼儿配方奶粉 三段", "启育", "BAB-FML", 238, ["800克 12-36个月"]),
    ("formula-1-b", "睿宝 有机婴儿配方奶粉 一段", "睿宝", "BAB-FML", 358, ["900克 0-6个月"]),
    ("formula-2-b", "睿宝 有机较大婴儿配方奶粉 二段", "睿宝", "BAB-FML", 338, ["900克 6-12个月"]),
    ("formula-3-b", "睿宝 有机幼儿配方奶粉 三段", "睿宝", "BAB-FML", 318, ["900克 12-36个月"]),
    ("nappy-S", "柔舒 婴儿纸尿裤 S码", "柔舒", "BAB-DPR", 99, ["62片 4-8公斤"]),
    ("nappy-M", "柔舒 婴儿纸尿裤 M码", "柔舒", "BAB-DPR", 99, ["52片 6-11公斤"]),
    ("nappy-L", "柔舒 婴儿纸尿裤 L码", "柔舒", "BAB-DPR", 99, ["44片 9-14公斤"]),
    ("nappy-XL", "柔舒 拉拉裤 XL码", "柔舒", "BAB-DPR", 109, ["38片 12-17公斤"]),
    ("wipes", "柔舒 婴儿手口湿巾", "柔舒", "BAB-WIP", 39, ["80抽×3包"]),
    ("wash", "柔舒 婴儿洗发沐浴露二合一", "柔舒", "BAB-WIP", 59, ["400毫升"]),
    ("bottle", "启育 宽口径玻璃奶瓶", "启育", "BAB-FED", 89, ["160毫升", "240毫升"]),
    ("cup", "启育 吸管学饮杯", "启育", "BAB-FED", 79, ["250毫升"]),
    ("pram-1", "乐行 轻便折叠伞车", "乐行", "BAB-PRM", 599, ["标准款"]),
    ("pram-2", "乐行 双向高景观婴儿推车", "乐行", "BAB-PRM", 1499, ["标准款"]),
    ("pram-3", "乐行 旗舰避震婴儿推车", "乐行", "BAB-PRM", 3299, ["标准款"]),
]
BABY_MARKS = {"formula": "奶", "nappy": "尿", "wipes": "巾", "wash": "浴", "bottle": "瓶", "cup": "杯", "pram": "车"}
BABY_SKUS = sum(len(b[5]) for b in BABY)

NAMES = {
    "top": ["纯棉圆领T恤", "长袖牛津纺衬衫", "连帽卫衣", "针织开衫", "速干运动T恤", "法兰绒格子衬衫", "羊毛混纺毛衣"],
    "bottom": ["修身牛仔裤", "休闲直筒裤", "运动束脚裤", "百褶半身裙", "工装短裤", "西装九分裤"],
    "outer": ["轻薄羽绒服", "防风夹克", "碎花连衣裙", "双面呢大衣", "冲锋衣", "针织连衣裙"],
    "run": ["缓震跑步鞋", "轻量训练鞋", "越野跑鞋", "透气网面跑鞋"],
    "casual": ["经典帆布鞋", "真皮小白鞋", "一脚蹬乐福鞋", "复古板鞋", "软底豆豆鞋"],
    "kitchen": ["不锈钢保温杯", "陶瓷马克杯", "不粘炒锅", "玻璃保鲜盒", "竹制砧板"],
    "bedding": ["纯棉四件套", "长绒棉毛巾", "夏凉被", "乳胶枕"],
    "storage": ["透明收纳箱", "桌面收纳盒", "衣柜分层架", "真空压缩袋"],
    "clean": ["超细纤维拖把", "洗衣凝珠", "厨房湿巾", "除菌洗手液"],
    "fresh": [("红富士苹果", "FRS-FRU", 1280), ("海南香蕉", "FRS-FRU", 699), ("赣南脐橙", "FRS-FRU", 990),
              ("西红柿", "FRS-VEG", 598), ("土豆", "FRS-VEG", 398), ("黄瓜", "FRS-VEG", 498),
              ("猪肋排", "FRS-MEA", 5980), ("鸡翅中", "FRS-MEA", 4580), ("鲜活基围虾", "FRS-SEA", 8800)],
}
# style words that make a name from an item: "宽松" + "纯棉圆领T恤"
STYLES = {
    "top": ["基础款", "宽松", "修身", "复古", "通勤", "亲肤", "简约", "落肩"],
    "bottom": ["高腰", "宽松", "弹力", "复古", "通勤", "直筒", "垂感", "简约"],
    "outer": ["轻盈", "保暖", "通勤", "复古", "简约", "连帽", "收腰", "宽松"],
    "run": ["专业", "轻弹", "入门", "竞速", "缓震", "耐磨"],
    "casual": ["经典", "百搭", "复古", "软底", "轻便", "厚底"],
    "kitchen": ["家用", "大容量", "便携", "北欧风", "加厚", "日式"],
    "bedding": ["柔软", "亲肤", "A类", "全棉", "透气", "加厚"],
    "storage": ["可折叠", "大号", "透明", "抽屉式", "简约", "加厚"],
    "clean": ["家庭装", "植物", "温和", "强效", "清香", "便携"],
}
BRANDS = {"top": "云织", "bottom": "云织", "outer": "云织", "run": "步履", "casual": "步履", "kitchen": "悦家",
          "bedding": "悦家", "storage": "悦家", "clean": "悦家", "fresh": "鲜丰"}
ORIGINS = ["山东", "陕西", "云南", "海南", "江西", "新疆", "本地", "四川"]
COLOURS = ["黑色", "白色", "藏青", "浅灰", "卡其", "酒红", "雾蓝", "燕麦"]
SIZES = ["S", "M", "L", "XL"]
PRICES = {"top": (59, 299), "bottom": (99, 399), "outer": (199, 999), "run": (299, 899), "casual": (199, 699),
          "kitchen": (19, 199), "bedding": (39, 599), "storage": (15, 129), "clean": (9, 99)}

LABELS = {
    "categories": _("categories"), "products": _("products"), "skus": _("SKUs"),
    "barcodes": _("barcodes"), "product_media": _("product images"),
    "price_lists": _("price lists"), "price_entries": _("price list entries"),
}


def _sku_count(products: int) -> int:
    cycles, rest = divmod(products, len(VARIANTS))
    return cycles * sum(VARIANTS) + sum(VARIANTS[:rest])


def counts_for(scale: int) -> dict[str, int]:
    """The exact shape at `scale` (see the module docstring)."""
    from .org import counts_for as org_counts

    cycling = 60 + 25 * (scale - 1)
    products, skus = cycling + len(BABY), _sku_count(cycling) + BABY_SKUS
    weighed = sum(1 for i in range(cycling) if KINDS[i % len(KINDS)][0] == "fresh")
    regions = org_counts(scale)["regions"]
    return {
        "categories": len(CATEGORIES), "products": products, "skus": skus, "barcodes": skus - weighed,
        "product_media": products, "price_lists": 3 + regions,
        "price_entries": skus + math.ceil(skus / 5) + math.ceil(skus / 10) + regions * math.ceil(skus / 20),
    }


def _picture(enterprise_code: str, kind: str, colour: str | None, name: str, item: str,
             drawn: dict[str, str]) -> str:
    """The storage name of the product's picture, drawn and saved the first time it is needed in this seed."""
    from .images import draw_product_image, product_image_name

    name_in_storage = product_image_name(enterprise_code, kind, colour, name, item)
    if name_in_storage not in drawn:
        if not default_storage.exists(name_in_storage):  # a second seed into the same media folder reuses it
            default_storage.save(name_in_storage, ContentFile(draw_product_image(kind, colour, name, item)))
        drawn[name_in_storage] = name_in_storage
    return drawn[name_in_storage]


def _money(rng, low: int, high: int) -> int:
    """A shelf price in fen ending in 9 or 0 yuan: 59.00, 129.00, 199.00 ..."""
    yuan = rng.randrange(low, high + 1)
    return (yuan - yuan % 10 + rng.choice((9, 9, 9, 0))) * 100 if yuan >= 20 else yuan * 100 + 90


def run(ctx: SeedContext) -> None:
    from yundian.catalog.barcodes import check_digit
    from yundian.catalog.models import (Barcode, BarcodeKind, Category, PriceEntry, PriceList, Product,
                                        ProductMedia, Sku, Unit, WeighedBarcodeScheme)
    from yundian.core.audit import audit_record

    rng, enterprise, shape = ctx.rng, ctx.enterprise, counts_for(ctx.scale)
    hq, regions = ctx.created["hq"], ctx.created["regions"]

    # categories: two levels, paths set once ids exist
    by_code: dict[str, Category] = {}
    for level in (0, 1):
        rows = [Category(enterprise=enterprise, code=code, name=name, depth=level, path="", sort_order=i,
                         parent=by_code.get(parent)) for i, (code, name, parent) in enumerate(CATEGORIES)
                if (parent is None) == (level == 0)]
        Category.objects.bulk_create(rows)
        for c in rows:
            c.path = f"{c.parent.path if c.parent else '/'}{c.pk}/"
            by_code[c.code] = c
        Category.objects.bulk_update(rows, ["path"])
    drawn: dict[str, str] = {}

    products, sku_rows, media = [], [], []
    plu = 1000
    for i in range(shape["products"] - len(BABY)):
        kind, category_code, variants = KINDS[i % len(KINDS)]
        style = f"{26 + i // 2000:02d}{i % 2000:04d}"
        if kind == "fresh":
            item, category_code, per_kg = rng.choice(NAMES["fresh"])
            name = f"{rng.choice(ORIGINS)}{item}"
        else:
            item, word = rng.choice(NAMES[kind]), rng.choice(STYLES[kind])
            name = item if word[:2] in item else f"{word}{item}"  # never "缓震缓震跑步鞋"
        product = Product(enterprise=enterprise, category=by_code[category_code], code=f"SPU{style}{i % 10}",
                          name=name, brand=BRANDS[kind],
                          attributes={"season": rng.choice(["SS26", "AW26", "全年"])} if kind in (
                              "top", "bottom", "outer", "run", "casual") else {})
        products.append(product)
        if kind == "fresh":
            media.append((product, _picture(ctx.code, kind, None, name, item, drawn)))
            plu += 1
            base = per_kg + rng.randrange(-2, 3) * 100
            sku_rows.append((product, {"code": f"{product.code}-KG", "name": "散称/千克", "unit": Unit.KILOGRAM,
                                       "base_price": max(base, 100), "is_weighed": True, "plu": str(plu),
                                       "options": {}}))
            continue
        base = _money(rng, *PRICES[kind])
        colour = None
        if kind in ("top", "bottom", "outer"):
            colours = rng.sample(COLOURS, 2)
            colour = colours[0]
            sizes = SIZES if variants == 8 else SIZES[:3]
            options = [{"颜色": c, "尺码": s} for c in colours for s in sizes]
        elif kind in ("run", "casual"):
            colour = rng.choice(COLOURS)
            options = [{"颜色": colour, "尺码": str(size)} for size in range(38, 45)]
        else:
            options = [{"规格": v} for v in rng.sample(["小号", "中号", "大号", "家庭装", "蓝色", "粉色", "白色"], variants)]
        media.append((product, _picture(ctx.code, kind, colour, name, item, drawn)))
        for n, opt in enumerate(options):
            sku_rows.append((product, {"code": f"{product.code}-{n + 1:02d}", "name": " / ".join(opt.values()),
                                       "unit": Unit.PIECE, "base_price": base, "is_weighed": False, "plu": None,
                                       "options": opt}))
    baby = {}
    for n, (key, name, brand, category_code, yuan, options) in enumerate(BABY):
        product = Product(enterprise=enterprise, category=by_code[category_code], code=f"SPUBAB{n + 1:02d}",
                          name=name, brand=brand, attributes={"life_stage": key})
        products.append(product)
        baby[key] = product
        media.append((product, _picture(ctx.code, "baby", None, name, BABY_MARKS[key.split("-")[0]], drawn)))
        for v, option in enumerate(options):
            sku_rows.append((product, {"code": f"{product.code}-{v + 1:02d}", "name": option, "unit": Unit.PIECE,
                                       "base_price": yuan * 100, "is_weighed": False, "plu": None,
                                       "options": {"规格": option}}))
    Product.objects.bulk_create(products, batch_size=BATCH)
    ProductMedia.objects.bulk_create([ProductMedia(product=p, file=f, alt_text=p.name) for p, f in media],
                                     batch_size=BATCH)
    skus = [Sku(enterprise=enterprise, product=p, sort_order=i, **fields) for i, (p, fields) in enumerate(sku_rows)]
    Sku.objects.bulk_create(skus, batch_size=BATCH)

    barcodes, sequence = [], 0
    for sku in skus:
        if sku.is_weighed:
            continue
        sequence += 1
        body = f"69{1_234_000_000 + sequence:010d}"
        barcodes.append(Barcode(enterprise=enterprise, sku=sku, code=body + check_digit(body),
                                kind=BarcodeKind.EAN13, is_primary=True))
    Barcode.objects.bulk_create(barcodes, batch_size=BATCH)
    WeighedBarcodeScheme.objects.bulk_create([
        WeighedBarcodeScheme(enterprise=enterprise, prefix="21", item_digits=5, value_digits=5, value_kind="weight"),
        WeighedBarcodeScheme(enterprise=enterprise, prefix="22", item_digits=5, value_digits=5, value_kind="price"),
    ])

    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    online = PriceList.objects.create(enterprise=enterprise, node=hq, channel="online", code="HQ-ONLINE",
                                      name="线上价")
    wholesale = PriceList.objects.create(enterprise=enterprise, node=hq, channel="wholesale", code="HQ-WHOLESALE",
                                         name="批发价")
    promo = PriceList.objects.create(enterprise=enterprise, node=hq, channel="store", code="HQ-WEEK-PROMO",
                                     name="本周特惠", valid_from=now - timedelta(days=1),
                                     valid_to=now + timedelta(days=6))
    region_lists = PriceList.objects.bulk_create([
        PriceList(enterprise=enterprise, node=r, channel="store", code=f"{r.code}-STORE", name=f"{r.name}门店价")
        for r in regions])
    entries = []
    for i, sku in enumerate(skus):
        entries.append(PriceEntry(price_list=online, sku=sku, price=sku.base_price * 95 // 100))
        if i % 5 == 0:
            entries.append(PriceEntry(price_list=wholesale, sku=sku, price=sku.base_price * 70 // 100))
        if i % 10 == 0:
            entries.append(PriceEntry(price_list=promo, sku=sku, price=sku.base_price * 80 // 100))
        if i % 20 == 0:
            entries.extend(PriceEntry(price_list=pl, sku=sku, price=sku.base_price * 97 // 100) for pl in region_lists)
    PriceEntry.objects.bulk_create(entries, batch_size=BATCH * 2)

    written = {"categories": len(by_code), "products": len(products), "skus": len(skus), "barcodes": len(barcodes),
               "product_media": len(media), "price_lists": 3 + len(region_lists), "price_entries": len(entries)}
    ctx.counts.update(written)
    ctx.created.update({"categories": list(by_code.values()), "products": products, "skus": skus, "baby_products": baby,
                        "price_lists": [online, wholesale, promo, *region_lists]})
    audit_record(actor=None, enterprise=enterprise, action="demo.seed_catalog", target=enterprise, scope_path=hq.path,
                 after=written)


step = Step(name="catalog", shape=counts_for, run=run, labels=LABELS)
