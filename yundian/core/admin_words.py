"""The back office's theme (django-unfold) ships no Chinese catalogue: the words it shows on the admin's pages are
listed here so our extraction keeps them in the project catalogue (yundian/locale) with their zh-Hans translation.
Django's own admin words come translated with Django."""
from django.utils.translation import gettext_noop as _

UNFOLD_WORDS = [
    _("Type to search"), _("System"), _("Run the selected action"), _("Navigate"), _("Light"), _("Go back"),
    _("Dark"), _("Clear"), _("You have been successfully logged out from the administration"), _("True"),
    _("Toggle sidebar"), _("Toggle password visibility"), _("Toggle filter"), _("Toggle dark/light mode"),
    _("This page yielded into no results."), _("This item will be deleted."), _("Submit"), _("Select"),
    _("Reset filters"), _("Recent searches"), _("Previous"), _("Open shortcuts list"),
    _("Open selection in new tab"), _("Open selection"), _("Open command tool"), _("Nothing matched your search"),
    _("No results found"), _("No data"), _("Next"), _("Global shortcuts"), _("General"), _("Filters"), _("False"),
    _("Create new record"), _("Command tool shortcuts"), _("Click to download"), _("Click to cancel"),
    _("Changelist shortcuts"), _("Cancel"), _("Available shortcuts"), _("Apply Filters"), _("All applications"),
    _("Add row"), _("Date"), _("Select action"), _("Select action to run"), _("Select record"), _("Time"),
]
