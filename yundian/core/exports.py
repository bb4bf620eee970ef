"""The one way a table leaves as a file (CSV for Excel, or .xlsx): money as yuan numbers with two decimals (the
column header says the currency unit), moments in the active time zone, and no cell that a spreadsheet would run
as a formula."""
import csv
import io
from datetime import date, datetime

from .money import Money
from .when import format_when

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_value(value):
    """A cell as a spreadsheet should hold it: Money -> Decimal yuan (1234.50), a moment -> "2026-12-07 09:30"."""
    if isinstance(value, Money):
        return value.decimal()
    if isinstance(value, (datetime, date)):
        return format_when(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # would run as a formula in a spreadsheet
    return value


def table_file(columns: list, rows: list, fmt: str, sheet_name: str = "report") -> tuple[str, bytes]:
    """(content type, bytes) of the table as CSV (UTF-8 with BOM, opens in Excel) or an .xlsx workbook."""
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell

        book = Workbook(write_only=True)
        sheet = book.create_sheet(sheet_name)
        sheet.append([str(c) for c in columns])
        for row in rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=export_value(value))
                if isinstance(value, Money):
                    cell.number_format = "#,##0.00;-#,##0.00"
                cells.append(cell)
            sheet.append(cells)
        out = io.BytesIO()
        book.save(out)
        return XLSX, out.getvalue()
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([str(c) for c in columns])
    for row in rows:
        writer.writerow([export_value(v) for v in row])
    return "text/csv; charset=utf-8", ("\ufeff" + text.getvalue()).encode()


