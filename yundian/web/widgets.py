"""The picker widget: a search box (htmx autocomplete against /pick/<kind>/) over chosen items shown as name + code,
each submitted as a hidden input holding its id. Works as a Django form widget (set `widget.actor` from the view,
to label chosen ids) and as the `{% picker %}` template tag in hand-written forms."""
from django import forms
from django.template.loader import render_to_string
from django.utils.crypto import get_random_string

from .pickers import KINDS, picker_labels


def _ids(values) -> list[int]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = values.split(",")
    elif not isinstance(values, list | tuple | set):
        values = [values]
    ids = []
    for value in values:
        text = str(value).strip()
        if text.isascii() and text.isdecimal() and len(text) <= 18:
            ids.append(int(text))
    return ids


def render_picker(*, actor, kind: str, name: str, values=None, multiple: bool = False, required: bool = False,
                  label: str = "", element_id: str = "") -> str:
    """The picker's HTML for `kind`, with `values` (ids, a list or comma-separated) shown as chosen."""
    picker = KINDS[kind]
    chosen = picker_labels(actor=actor, kind=kind, ids=_ids(values)) if actor is not None else []
    if not multiple:
        chosen = chosen[:1]
    return render_to_string("web/widgets/picker.html", {
        "kind": kind, "name": name, "chosen": chosen, "multiple": multiple, "required": required,
        "placeholder": picker.placeholder, "label": label,
        "id": element_id or f"pick-{name}-{get_random_string(6, 'abcdefghijklmnopqrstuvwxyz')}",
    })


class Picker(forms.Widget):
    """A searchable picker for one kind (`sku`, `product`, `category`, `member`, `staff`, `store`, `warehouse`)."""

    def __init__(self, kind: str, *, multiple: bool = False, attrs=None):
        if kind not in KINDS:
            raise ValueError(f"unknown picker kind {kind!r}")
        super().__init__(attrs)
        self.kind, self.multiple, self.actor = kind, multiple, None

    def render(self, name, value, attrs=None, renderer=None):
        attrs = {**(self.attrs or {}), **(attrs or {})}
        return render_picker(actor=self.actor, kind=self.kind, name=name, values=value, multiple=self.multiple,
                             required=bool(attrs.get("required")), element_id=attrs.get("id", ""))

    def value_from_datadict(self, data, files, name):
        if self.multiple:
            return data.getlist(name) if hasattr(data, "getlist") else data.get(name)
        return data.get(name)

    def value_omitted_from_data(self, data, files, name):
        return not self.multiple and name not in data
