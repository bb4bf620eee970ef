"""Our Django admin registrations speak Chinese: every model we register, and every field its pages list, filter
or show read-only, has a translated name in zh-Hans (not the field's code)."""
from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.utils import translation


def _english(label) -> bool:
    """An ASCII label is English, unless it is an acronym Chinese uses as is ("SKU")."""
    text = str(label)
    return text.isascii() and not (text.isupper() and text.isalpha())


def _untranslated() -> list[str]:
    found = []
    with translation.override("zh-hans"):
        for model, model_admin in admin.site._registry.items():
            if not model.__module__.startswith("yundian."):
                continue
            if _english(model._meta.verbose_name):
                found.append(f"{model._meta.label}: {model._meta.verbose_name}")
            names = [*model_admin.list_display, *model_admin.list_filter, *model_admin.readonly_fields,
                     *model_admin.search_fields]
            for name in names:
                if not isinstance(name, str):
                    continue
                try:
                    field = model._meta.get_field(name.split("__")[0])
                except FieldDoesNotExist:
                    continue  # a method: its description is checked by the msgid extraction test
                if field.auto_created and not field.concrete:
                    continue  # a reverse relation (a search across it): its model's name is checked on its own
                if _english(field.verbose_name):
                    found.append(f"{model._meta.label}.{field.name}: {field.verbose_name}")
    return found


def test_every_admin_label_of_ours_is_translated():
    assert _untranslated() == []
