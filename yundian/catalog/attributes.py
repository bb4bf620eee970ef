"""Names of product attributes and SKU options as a person reads them. Attributes are free-form (typed by people, in
any language); the common keys that imports and integrations write in English are shown translated."""
from django.utils.translation import gettext_lazy as _

ATTRIBUTE_LABELS = {
    "season": _("Season"), "material": _("Material"), "colour": _("Colour"), "color": _("Colour"),
    "size": _("Size"), "origin": _("Origin"), "brand": _("Brand"), "style": _("Style"), "fit": _("Fit"),
    "pattern": _("Pattern"), "weight": _("Weight"), "volume": _("Volume"), "flavour": _("Flavour"),
    "flavor": _("Flavour"), "care": _("Care"), "gender": _("Gender"), "age_group": _("Age group"),
    "shelf_life": _("Shelf life"), "spec": _("Specification"), "specification": _("Specification"),
}


def attribute_label(key: str) -> str:
    """A known key translated ("season" -> 季节); anything else as it was typed."""
    label = ATTRIBUTE_LABELS.get(str(key).strip().lower())
    return str(label) if label is not None else str(key)
