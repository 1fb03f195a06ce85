"""Tables as files: an Excel workbook (.xlsx, openpyxl) or CSV that Excel
opens in Chinese (UTF-8 with a byte-order mark). Every export of a table —
the sign-in sheet, a poll's results, the statistics, the duty records — goes
through here, so they all look alike."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import quote

from flask import Response
from flask_babel import to_user_timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Excel reads a CSV as UTF-8 only when it starts with the byte-order mark.
UTF8_BOM = "\ufeff"
SHEET_TITLE_MAX = 31  # Excel's limit


@dataclass
class Sheet:
    """One table: a sheet of the workbook, or the whole of a CSV."""

    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]]
    # lines above the table: what it is, the period, when it was made
    caption: Sequence[str] = field(default_factory=list)
    # for paper: widths (in characters) some columns need whatever they hold
    # (a signature column is empty), and the rows' height in points
    widths: Mapping[int, float] = field(default_factory=dict)
    row_height: float | None = None


DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
DATE_FORMAT = "yyyy-mm-dd"


def _cell(value: object) -> object:
    """Strings, numbers and dates as they are; anything else as its text
    (a lazy translation, an enum's label). A moment in time (stored in UTC)
    is shown in the site's time zone: Excel has no time zones, and openpyxl
    refuses a datetime that carries one."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = to_user_timezone(value).replace(tzinfo=None)
        return value
    if hasattr(value, "isoformat"):
        return value
    return str(value)


def _text(value: object) -> str:
    """A cell of a CSV: a moment as the sheet shows it (local, to the minute)."""
    value = _cell(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)


def _display_width(text: str) -> int:
    """Columns of text: a Chinese character is about two Latin ones wide."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(str(sheet.title)[:SHEET_TITLE_MAX])
        # Rows are numbered here as they are written: openpyxl's ``max_row``
        # looks at every cell, and asking it once a row made a 672-row sheet
        # take 2 s (bench/statistics_pages.py, all streets over five years).
        row_number = 0
        for line in sheet.caption:
            row_number += 1
            worksheet.cell(row=row_number, column=1, value=str(line))
        if sheet.caption:
            worksheet.cell(row=1, column=1).font = Font(bold=True, size=13)
            row_number += 1  # a blank line under the caption
        row_number += 1
        header_row = row_number
        for column, header in enumerate(sheet.headers, start=1):
            cell = worksheet.cell(row=header_row, column=column, value=str(header))
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = _BOX
        widths = [_display_width(str(header)) for header in sheet.headers]
        for row in sheet.rows:
            row_number += 1
            values = [_cell(value) for value in row]
            for column, value in enumerate(values, start=1):
                cell = worksheet.cell(row=row_number, column=column, value=value)
                cell.border = _BOX
                if sheet.row_height:
                    cell.alignment = Alignment(vertical="center")
                if isinstance(value, datetime):
                    cell.number_format = DATETIME_FORMAT
                elif isinstance(value, date):
                    cell.number_format = DATE_FORMAT
            if sheet.row_height:
                worksheet.row_dimensions[row_number].height = sheet.row_height
            for index, value in enumerate(values[: len(widths)]):
                widths[index] = max(widths[index], _display_width(_text(value)))
        for index, width in enumerate(widths, start=1):
            width = max(width, sheet.widths.get(index - 1, 0))
            worksheet.column_dimensions[get_column_letter(index)].width = min(60, width + 3)
        worksheet.freeze_panes = worksheet.cell(row=header_row + 1, column=1)
        _for_paper(worksheet, header_row, len(widths))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _for_paper(worksheet, header_row: int, columns: int) -> None:
    """Printed: A4, as wide as the page (landscape when the table is wide),
    the header row again on every page."""
    worksheet.page_setup.paperSize = worksheet.PAPERSIZE_A4
    total = sum(
        worksheet.column_dimensions[get_column_letter(index)].width or 10
        for index in range(1, columns + 1)
    )
    if total > 95:
        worksheet.page_setup.orientation = worksheet.ORIENTATION_LANDSCAPE
    worksheet.page_setup.fitToWidth = 1
    worksheet.page_setup.fitToHeight = 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.print_title_rows = f"{header_row}:{header_row}"
    worksheet.print_options.horizontalCentered = True


def csv_text(sheet: Sheet) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in sheet.caption:
        writer.writerow([str(line)])
    writer.writerow([str(header) for header in sheet.headers])
    for row in sheet.rows:
        writer.writerow([_text(value) for value in row])
    return UTF8_BOM + buffer.getvalue()


def attachment(filename: str) -> str:
    """A Content-Disposition that keeps a Chinese file name (RFC 6266/5987),
    with an ASCII fallback for old clients."""
    fallback = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"


def xlsx_response(filename: str, sheets: Sequence[Sheet]) -> Response:
    response = Response(workbook_bytes(sheets), mimetype=XLSX_TYPE)
    response.headers["Content-Disposition"] = attachment(filename)
    return response


def csv_response(filename: str, sheet: Sheet) -> Response:
    response = Response(csv_text(sheet).encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = attachment(filename)
    return response


def docx_response(filename: str, content: bytes) -> Response:
    response = Response(content, mimetype=DOCX_TYPE)
    response.headers["Content-Disposition"] = attachment(filename)
    return response
