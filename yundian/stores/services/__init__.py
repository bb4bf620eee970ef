"""Every store write. Keyword-only, atomic, takes the acting staff member, audited."""
from .opening import StoreOpening, store_open_from_template
from .profiles import store_profile_create, store_profile_update, storefront_image_upload, storefront_theme_update
from .templates import storefront_policy_set, store_template_create, store_template_update

__all__ = [
    "StoreOpening", "store_open_from_template", "store_profile_create", "store_profile_update",
    "store_template_create", "store_template_update", "storefront_image_upload", "storefront_policy_set",
    "storefront_theme_update",
]
