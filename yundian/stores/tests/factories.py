"""Store fixtures built through the services, as HQ would build them: a catalogue, an HQ online price list,
a template, and profiles for the chain's two stores (Store A in Shanghai, Store B in Chengdu)."""
from dataclasses import dataclass
from decimal import Decimal

from yundian.catalog import services as catalog_services
from yundian.catalog.models import PriceList
from yundian.catalog.tests.factories import Catalogue, make_catalogue
from yundian.org.tests.factories import Chain
from yundian.stores import services
from yundian.stores.models import StoreProfile, StoreTemplate

# People's Square, Shanghai and Chunxi Road, Chengdu
SHANGHAI = (Decimal("31.230416"), Decimal("121.473701"))
CHENGDU = (Decimal("30.657420"), Decimal("104.080990"))
HANGZHOU = (Decimal("30.274085"), Decimal("120.155070"))
HOURS = {"mon": [["09:00", "21:00"]], "tue": [["09:00", "21:00"]], "wed": [["09:00", "21:00"]],
         "thu": [["09:00", "21:00"]], "fri": [["09:00", "22:00"]], "sat": [["10:00", "22:00"]],
         "sun": [["10:00", "20:00"]]}


@dataclass
class Shop:
    catalogue: Catalogue
    online: PriceList
    template: StoreTemplate
    profile_a: StoreProfile
    profile_b: StoreProfile


def make_template(chain: Chain, catalogue: Catalogue, **overrides) -> StoreTemplate:
    fields = dict(
        code="STD", name="标准店", price_list_id=None, product_ids=[catalogue.mug.id],
        category_ids=[catalogue.apparel.id], primary_color="#1677FF", accent_color="#FA8C16",
        banner_url="/static/stores/banners/spring.svg", featured_product_ids=[catalogue.tee.id],
        notice="新店开业，全场九折", staff_plan=[{"role": "store_manager", "count": 1}, {"role": "guide", "count": 2}],
        opening_hours=HOURS, min_days_cover=5, max_days_cover=14,
    )
    fields.update(overrides)
    return services.store_template_create(actor=chain.admin, **fields)


def make_shop(chain: Chain) -> Shop:
    catalogue = make_catalogue(chain)
    online = catalog_services.price_list_create(actor=chain.admin, node_id=chain.hq.id, channel="online",
                                                code="HQ-ONLINE", name="线上价")
    catalog_services.price_entry_set(actor=chain.admin, price_list_id=online.id, sku_id=catalogue.tee_s.id, price=8900)
    catalog_services.price_entry_set(actor=chain.admin, price_list_id=online.id, sku_id=catalogue.mug_sku.id, price=1990)
    template = make_template(chain, catalogue, price_list_id=online.id)
    profile_a = services.store_profile_create(actor=chain.admin, store_id=chain.store_a.id, template_id=template.id,
                                              address="人民大道 1 号", city="上海", latitude=SHANGHAI[0],
                                              longitude=SHANGHAI[1], phone="021-63270000")
    profile_b = services.store_profile_create(actor=chain.admin, store_id=chain.store_b.id, template_id=template.id,
                                              address="春熙路 8 号", city="成都", latitude=CHENGDU[0],
                                              longitude=CHENGDU[1])
    return Shop(catalogue, online, template, profile_a, profile_b)
