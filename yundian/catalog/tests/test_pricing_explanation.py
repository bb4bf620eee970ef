"""The price explanation is one translated sentence per case: the channel by its translated label, never its code,
counts in the language's plural forms, and the full stop inside the translated text (nothing English appended)."""
from django.utils import timezone, translation

from yundian.catalog import services
from yundian.catalog.pricing import price_resolve
from yundian.catalog.tests.factories import make_catalogue


def price_list(chain, cat, node, code, price, *, channel="store", priority=0):
    pl = services.price_list_create(actor=chain.admin, node_id=node.id, channel=channel, code=code, name=code,
                                    priority=priority)
    services.price_entry_set(actor=chain.admin, price_list_id=pl.id, sku_id=cat.tee_s.id, price=price)
    return pl


def test_the_base_price_sentence_names_the_channel_by_its_label_in_each_language(chain):
    cat = make_catalogue(chain)
    now = timezone.now()
    with translation.override("en"):
        text = price_resolve(cat.tee_s, chain.store_a, "wholesale", now).explanation
        assert text == ("No price list of channel Wholesale covers this SKU here at this time: "
                        "the base price applies.")
    with translation.override("zh-hans"):
        text = price_resolve(cat.tee_s, chain.store_a, "wholesale", now).explanation
        assert "批发" in text and "基础售价" in text
        assert "wholesale" not in text.lower() and not text.endswith(".")


def test_the_winning_list_sentence_is_whole_with_plural_forms(chain):
    cat = make_catalogue(chain)
    now = timezone.now()
    price_list(chain, cat, chain.hq, "HQ-STD", 8900)
    with translation.override("en"):
        alone = price_resolve(cat.tee_s, chain.store_b, "store", now).explanation
        assert alone == ("Price list HQ-STD (HQ-STD) on 总部, 2 levels above the store: "
                         "the nearest node with a price for this SKU.")
        price_list(chain, cat, chain.east, "EAST", 8500)
        one_up = price_resolve(cat.tee_s, chain.dealer, "store", now).explanation
        assert one_up == ("Price list EAST (EAST) on 华东, 1 level above the store: the nearest node with a price "
                          "for this SKU; it beat 1 other applicable list.")
        price_list(chain, cat, chain.store_a, "A-OWN", 8000)
        own = price_resolve(cat.tee_s, chain.store_a, "store", now).explanation
        assert own == ("Price list A-OWN (A-OWN) on this store's own node: the nearest node with a price for this "
                       "SKU; it beat 2 other applicable lists.")
