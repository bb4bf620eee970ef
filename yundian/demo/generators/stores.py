"""Stores step: the storefront policy, two store templates and, for every store, its profile (address, map
position, hours), its assortment and its own storefront theme (千店千面). Needs the org and catalog steps.

Shape at scale s (exact; S = 5 s + 1 stores from the org step):

    store_templates       2     标准门店 (STD: apparel, shoes, household; HQ online prices) and
                                社区生鲜店 (CMT: household, fresh produce; delivery; short cover days)
    storefront_policies   1     an eight-colour palette; stores may change colours, banner, featured, notice
    store_profiles        S     every 4th store (index 3, 7, ...) is a community store, the others standard
    storefront_themes     S     primary/accent colours drawn from the palette, one of four banners, a notice
    assortment_rules      3 (S - C) + 2 C,   C = S // 4 community stores (one rule per whole top category)

A store sits within about 8 km of its city's centre (the city is the one the org step named it after, read
from its code "<city code>-<n>"), so the nearest-store lookup returns sensible neighbours. Storefront
addresses are the store codes, prefixed with the enterprise code when another enterprise holds the code.
"""
from django.utils.translation import gettext_lazy as _

from . import SeedContext, Step

BATCH = 1000
PALETTE = ["#D4380D", "#1677FF", "#389E0D", "#722ED1", "#C41D7F", "#08979C", "#FA8C16", "#FADB14"]
EDITABLE = ["primary_color", "accent_color", "banner_url", "featured_product_ids", "notice"]
BANNERS = ["/static/stores/banners/autumn.svg", "/static/stores/banners/spring.svg",
           "/static/stores/banners/ocean.svg", "/static/stores/banners/forest.svg"]
NOTICES = ["新店开业，全场九折", "会员日每周三，积分翻倍", "满 199 减 20，门店自提再送小礼品", "今日到店自提，30 分钟备好",
           "周末亲子活动，欢迎到店体验", "换季上新，欢迎进店试穿", "3 公里内满 59 元免费配送", ""]
ROADS = ["人民路", "解放路", "中山路", "建设路", "和平路", "长江路", "延安路", "新华路", "青年路", "东风路", "胜利路",
         "文化路", "滨江大道", "世纪大道"]
# city centres (latitude, longitude) for every city code of the org step
CITY_CENTRES = {
    "SHA": (31.2304, 121.4737), "HGH": (30.2741, 120.1551), "NKG": (32.0603, 118.7969), "SZV": (31.2989, 120.5853),
    "NGB": (29.8683, 121.5440), "HFE": (31.8206, 117.2272), "FOC": (26.0745, 119.2965), "XMN": (24.4798, 118.0894),
    "TNA": (36.6512, 117.1201), "TAO": (36.0671, 120.3826), "CAN": (23.1291, 113.2644), "SZX": (22.5431, 114.0579),
    "DGG": (23.0207, 113.7518), "FUO": (23.0215, 113.1214), "NNG": (22.8170, 108.3665), "HAK": (20.0440, 110.1999),
    "PEK": (39.9042, 116.4074), "TSN": (39.3434, 117.3616), "SJW": (38.0428, 114.5149), "TYN": (37.8706, 112.5489),
    "HET": (40.8424, 111.7490), "WUH": (30.5928, 114.3055), "CSX": (28.2282, 112.9388), "CGO": (34.7466, 113.6253),
    "KHN": (28.6820, 115.8579), "CTU": (30.5728, 104.0668), "CKG": (29.5630, 106.5516), "KMG": (25.0389, 102.7183),
    "KWE": (26.6470, 106.6302), "XIY": (34.3416, 108.9398), "LHW": (36.0611, 103.8343), "URC": (43.8256, 87.6168),
    "INC": (38.4872, 106.2309), "SHE": (41.8057, 123.4315), "DLC": (38.9140, 121.6147), "CGQ": (43.8171, 125.3235),
    "HRB": (45.8038, 126.5350),
}
TEMPLATE_CATEGORIES = {"STD": ["APP", "SHO", "HOM", "BAB"], "CMT": ["HOM", "FRS", "BAB"]}
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# what differs between the two templates (everything else is shared: HQ online prices, pickup and delivery)
TEMPLATES = {
    "STD": {"name": "标准门店", "description": "服装、鞋靴、家居与母婴，全渠道自提与配送", "primary_color": "#D4380D",
            "accent_color": "#FAAD14", "banner_url": BANNERS[0], "notice": NOTICES[0], "guides": 2,
            "hours": ["10:00", "22:00"], "min_days_cover": 7, "max_days_cover": 21},
    "CMT": {"name": "社区生鲜店", "description": "家居日用、母婴与称重生鲜，3 公里内配送", "primary_color": "#389E0D",
            "accent_color": "#FADB14", "banner_url": BANNERS[3], "notice": NOTICES[6], "guides": 3,
            "hours": ["07:00", "21:30"], "min_days_cover": 2, "max_days_cover": 5},
}

LABELS = {
    "store_templates": _("store templates"),
    "storefront_policies": _("storefront policies"),
    "store_profiles": _("store profiles"),
    "storefront_themes": _("storefront themes"),
    "assortment_rules": _("assortment rules"),
}


def counts_for(scale: int) -> dict[str, int]:
    from .org import counts_for as org_counts

    stores = org_counts(scale)["stores"]
    community = stores // 4
    return {"store_templates": 2, "storefront_policies": 1, "store_profiles": stores, "storefront_themes": stores,
            "assortment_rules": 4 * (stores - community) + 3 * community}


def _is_community(index: int) -> bool:
    return index % 4 == 3


def run(ctx: SeedContext) -> None:
    from decimal import Decimal

    from yundian.stores.models import (StoreAssortment, StorefrontPolicy, StorefrontTheme, StoreProfile,
                                       StoreTemplate)

    from .org import REGIONS

    rng, enterprise = ctx.rng, ctx.enterprise
    stores = ctx.created["stores"]
    city_names = {code: name for _r, _c, _w, cities in REGIONS for name, code in cities}
    categories = {c.code: c for c in ctx.created.get("categories", [])}
    top_of = {c.pk: c.code.split("-")[0] for c in categories.values()}
    products = ctx.created.get("products", [])
    online = next((pl for pl in ctx.created.get("price_lists", []) if pl.code == "HQ-ONLINE"), None)

    StorefrontPolicy.objects.create(enterprise=enterprise, allowed_palette=PALETTE, editable_fields=EDITABLE)

    def featured(template_code: str) -> list[int]:
        tops = set(TEMPLATE_CATEGORIES[template_code])
        return [p.pk for p in products if top_of.get(p.category_id) in tops][:6]

    templates = {}
    for code, spec in TEMPLATES.items():
        spec = dict(spec)
        guides, hours = spec.pop("guides"), spec.pop("hours")
        templates[code] = StoreTemplate.objects.create(
            enterprise=enterprise, code=code, price_list=online, featured_product_ids=featured(code),
            staff_plan=[{"role": "store_manager", "count": 1}, {"role": "guide", "count": guides}],
            opening_hours={day: [list(hours)] for day in WEEK}, pickup_enabled=True, delivery_enabled=True, **spec)
        templates[code].categories.set([categories[c] for c in TEMPLATE_CATEGORIES[code] if c in categories])

    taken = set(StoreProfile.objects.filter(slug__in=[s.code for s in stores]).values_list("slug", flat=True))
    profiles = []
    for index, store in enumerate(stores):
        template = templates["CMT" if _is_community(index) else "STD"]
        city_code = store.code.split("-")[0]
        lat, lng = CITY_CENTRES.get(city_code, (31.2304, 121.4737))
        # within about 8 km of the centre (0.07 degrees of latitude; longitude scaled back by the latitude)
        lat += rng.uniform(-0.07, 0.07)
        lng += rng.uniform(-0.08, 0.08)
        profiles.append(StoreProfile(
            node=store, enterprise=enterprise, template=template,
            slug=store.code if store.code not in taken else f"{ctx.code}-{store.code}",
            address=f"{rng.choice(ROADS)}{rng.randint(1, 999)}号", city=city_names.get(city_code, "上海"),
            latitude=Decimal(f"{lat:.6f}"), longitude=Decimal(f"{lng:.6f}"),
            phone="1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9)),
            opening_hours=template.opening_hours, pickup_enabled=template.pickup_enabled,
            delivery_enabled=template.delivery_enabled, min_days_cover=template.min_days_cover,
            max_days_cover=template.max_days_cover,
        ))
    StoreProfile.objects.bulk_create(profiles, batch_size=BATCH)

    themes, rules = [], []
    for profile in profiles:
        template = profile.template
        primary = rng.choice(PALETTE[:6])
        themes.append(StorefrontTheme(
            store=profile, logo_url="", primary_color=primary,
            accent_color=rng.choice([c for c in PALETTE if c != primary]), banner_url=rng.choice(BANNERS),
            featured_product_ids=template.featured_product_ids, notice=rng.choice(NOTICES)))
        rules.extend(StoreAssortment(store=profile, category=categories[c])
                     for c in TEMPLATE_CATEGORIES[template.code] if c in categories)
    StorefrontTheme.objects.bulk_create(themes, batch_size=BATCH)
    StoreAssortment.objects.bulk_create(rules, batch_size=BATCH)

    ctx.created.update({"store_templates": list(templates.values()), "store_profiles": profiles})
    ctx.counts.update({"store_templates": len(templates), "storefront_policies": 1, "store_profiles": len(profiles),
                       "storefront_themes": len(themes), "assortment_rules": len(rules)})


step = Step(name="stores", shape=counts_for, run=run, labels=LABELS)
