"""A member joins a guide's community group here (/j/<code>/), on the group store's storefront."""
from django.urls import path

from . import workbench_views

app_name = "guides_public"

urlpatterns = [
    path("<str:code>/", workbench_views.group_join, name="group_join"),
]
