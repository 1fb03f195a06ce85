"""Tables as files: an Excel workbook (.xlsx, openpyxl) or CSV that Excel
opens in Chinese (UTF-8 with a byte-order mark). Every export of a table —
the sign-in sheet, a poll's results, the statistics, the duty records — goes
through here, so they all look alike."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
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


def _cell(value: object) -> object:
    """Strings, numbers and dates as they are; anything else as its text
    (a lazy translation, an enum's label)."""
    if value is None or isinstance(value, (str, int, float)):
        return value
    if hasattr(value, "isoformat"):
        return value
    return str(value)


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in sheets:
        worksheet = workbook.create_sheet(str(sheet.title)[:SHEET_TITLE_MAX])
        for line in sheet.caption:
            worksheet.append([str(line)])
        if sheet.caption:
            worksheet.cell(row=1, column=1).font = Font(bold=True, size=13)
            worksheet.append([])
        header_row = worksheet.max_row + 1 if sheet.caption else 1
        worksheet.append([str(header) for header in sheet.headers])
        for cell in worksheet[header_row]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths = [len(str(header)) for header in sheet.headers]
        for row in sheet.rows:
            values = [_cell(value) for value in row]
            worksheet.append(values)
            for index, value in enumerate(values[: len(widths)]):
                widths[index] = max(widths[index], len(str(value or "")))
        # a Chinese character is about two Latin ones wide
        for index, width in enumerate(widths, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = min(60, 2 * width + 2)
        worksheet.freeze_panes = worksheet.cell(row=header_row + 1, column=1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_text(sheet: Sheet) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in sheet.caption:
        writer.writerow([str(line)])
    writer.writerow([str(header) for header in sheet.headers])
    for row in sheet.rows:
        writer.writerow(["" if value is None else str(_cell(value)) for value in row])
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
