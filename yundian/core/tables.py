"""Reading an uploaded table: the first sheet of an .xlsx workbook, or a CSV (UTF-8 or GB18030), as rows of cells.
Every import (the catalogue's, tags', the ERP's) reads its file here; the caller checks the size before and what the
rows mean after."""
import csv
import io
from typing import Any

from django.utils.translation import gettext_lazy as _

from .errors import ValidationFailed


def read_rows(filename: str, data: bytes, *, max_rows: int) -> list[list[Any]]:
    """The file's rows, at most `max_rows` + 2 of them (the header and one too many, so the caller can say the file
    is too long); a file that is neither .xlsx nor .csv/.txt, or cannot be read as one, is a 422 with a code."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a broken or foreign file
            raise ValidationFailed(_("This is not a readable .xlsx workbook."), code="unreadable_file")
        try:
            rows = []
            for row in book.worksheets[0].iter_rows(values_only=True):
                rows.append(list(row))
                if len(rows) > max_rows + 1:
                    break
            return rows
        finally:
            book.close()
    if name.endswith(".csv") or name.endswith(".txt"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes nearly anything
            raise ValidationFailed(_("The file is not UTF-8 or GB18030 text."), code="unreadable_file")
        if "\x00" in text:
            raise ValidationFailed(_("This is not a text CSV file."), code="unreadable_file")
        try:
            return list(csv.reader(io.StringIO(text)))[:max_rows + 2]
        except csv.Error:
            raise ValidationFailed(_("The CSV file is malformed."), code="unreadable_file")
    raise ValidationFailed(_("Upload an .xlsx or .csv file."), code="unsupported_file_type")
