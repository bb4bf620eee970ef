"""Catalogue fixtures built through the services, as HQ would build them."""
from dataclasses import dataclass

from yundian.catalog import services
from yundian.catalog.models import Category, Product, Sku
from yundian.org.tests.factories import Chain

# valid EAN-13 / UPC-A codes (check digits computed independently of the code under test, by hand)
EAN_TEE_S = "6901234567892"
EAN_TEE_M = "6901234567809"
UPC_MUG = "036000291452"


@dataclass
class Catalogue:
    apparel: Category
    tees: Category
    household: Category
    tee: Product
    tee_s: Sku
    tee_m: Sku
    mug: Product
    mug_sku: Sku
    apples: Product
    apples_sku: Sku


def make_catalogue(chain: Chain) -> Catalogue:
    admin = chain.admin
    apparel = services.category_create(actor=admin, name="服装", code="APP")
    tees = services.category_create(actor=admin, name="T恤", code="APP-TEE", parent_id=apparel.id)
    household = services.category_create(actor=admin, name="家居", code="HOME")
    tee = services.product_create(
        actor=admin, code="TEE-001", name="纯棉T恤", category_id=tees.id, brand="Yun",
        attributes={"material": "cotton"},
        skus=[
            {"code": "TEE-001-S", "name": "S", "options": {"size": "S"}, "base_price": 9900, "barcodes": [EAN_TEE_S]},
            {"code": "TEE-001-M", "name": "M", "options": {"size": "M"}, "base_price": 9900, "barcodes": [EAN_TEE_M]},
        ],
    )
    mug = services.product_create(actor=admin, code="MUG-01", name="马克杯", category_id=household.id,
                                  skus=[{"code": "MUG-01", "base_price": 2500, "barcodes": [UPC_MUG]}])
    apples = services.product_create(actor=admin, code="APL", name="苹果", category_id=household.id,
                                     skus=[{"code": "APL-KG", "unit": "kg", "base_price": 1280, "is_weighed": True,
                                            "plu": "123"}])
    skus = {s.code: s for s in Sku.objects.filter(enterprise_id=admin.enterprise_id)}
    return Catalogue(apparel, tees, household, tee, skus["TEE-001-S"], skus["TEE-001-M"], mug, skus["MUG-01"],
                     apples, skus["APL-KG"])
