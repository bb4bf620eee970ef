"""Template bodies are `string.Template` text: `$member_name` or `${coupon_code}` and nothing else — no attribute
access, no calls, no loops — so a marketer's text can never reach into the server. Values are plain strings.

Standard variables are filled by the outbox (member name, store name and phone, unsubscribe link); the caller
passes the rest (coupon code, link, points ...). A body may use only the standard variables and the ones its
template declares; `body_check` says which are wrong when the template is saved.
"""
import re
from string import Template

from django.utils.translation import gettext_lazy as _

from yundian.core.errors import ValidationFailed

# filled by the outbox itself
STANDARD = {
    "member_name": _("the member's name"),
    "store_name": _("the store's name"),
    "store_phone": _("the store's phone"),
    "unsubscribe_url": _("the one-click unsubscribe link (marketing)"),
}
# commonly passed by callers (journeys, tasks): always allowed
COMMON = {
    "coupon_code": _("a coupon code"),
    "coupon_value": _("what the coupon is worth"),
    "link": _("a link (a product, a deal, an order)"),
    "points": _("a number of points"),
    "order_number": _("an order number"),
    "date": _("a date"),
    "product_name": _("the product the member looked at"),
    "recommendations": _("products suggested for the member"),
}
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
SAMPLE = {"member_name": "王小明", "store_name": "云店 · 南京西路店", "store_phone": "021-6288 0000",
          "unsubscribe_url": "https://example.com/m/u/…", "coupon_code": "NY2027-8K3D", "coupon_value": "¥30.00",
          "link": "https://example.com/s/demo/", "points": "500", "order_number": "A-20270101-0001",
          "date": "2027-01-01", "product_name": "婴儿推车 轻便款", "recommendations": "推车雨罩、婴儿湿巾"}


def allowed_variables(extra) -> set[str]:
    return set(STANDARD) | set(COMMON) | set(extra or ())


def body_check(text: str, *, extra=(), field: str = "body") -> None:
    """422 unless `text` is a valid template using only allowed variables."""
    template = Template(text or "")
    if not template.is_valid():
        raise ValidationFailed(_("A variable is written wrongly: use $name or ${name}, and $$ for a dollar sign."),
                               code="invalid_template", details={"field": field})
    unknown = sorted(set(template.get_identifiers()) - allowed_variables(extra))
    if unknown:
        raise ValidationFailed(_("Unknown variables: %(names)s.") % {"names": ", ".join(unknown)},
                               code="unknown_variable", details={"field": field, "variables": unknown})


def variables_check(extra) -> list[str]:
    if not isinstance(extra, list) or any(not isinstance(v, str) or not IDENTIFIER.match(v) for v in extra):
        raise ValidationFailed(_("Extra variables are names of lower-case letters, digits and underscores."),
                               code="invalid_variables", details={"field": "variables"})
    return sorted(set(extra))


def render(text: str, values: dict[str, str]) -> str:
    """The text with every variable replaced; a variable without a value becomes empty."""
    template = Template(text or "")
    names = template.get_identifiers()
    return template.substitute({name: str(values.get(name, "")) for name in names})


def used_variables(text: str) -> list[str]:
    return Template(text or "").get_identifiers()
