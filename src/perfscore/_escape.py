"""Text from a rubric or a department, made safe for where it lands.

Rubric names, grade names, department ids and figures are untrusted text. Each output
escapes them for its reader:

* a spreadsheet (CSV, TSV): a cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return is neutralised by a leading ``'`` (OWASP's rule against CSV injection),
  :func:`spreadsheet_cell`;
* an XLSX cell: characters XML 1.0 cannot hold are written as ``\\xNN`` / ``\\uNNNN``
  (:func:`xml_text`); a text beginning with ``=`` is written as text, never a formula, by
  each writer;
* a terminal: C0 and C1 control characters (escape sequences among them) and the
  characters that reorder text (bidirectional overrides) are shown as ``\\x1b``,
  ``\\u202e`` ..., never interpreted (:func:`visible`);
* markdown: HTML, link and code syntax is escaped, and whitespace (a newline included) is
  one space, so that a cell cannot break its table (:func:`markdown_text`).
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = ["defuse_workbook", "markdown_text", "spreadsheet_cell", "visible", "xml_text"]

#: What a spreadsheet program reads as the start of a formula (OWASP, CSV injection).
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")

_INVISIBLE: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_INVISIBLE_LINE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
_XML_ILLEGAL: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_MARKDOWN: Final = re.compile(r"[\\`*_\[\]<>&|!]")
_MARKDOWN_ESCAPES: Final = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, lines: bool = True) -> str:
    """``text`` with control characters shown as escapes; newlines and tabs are kept
    when ``lines`` (a message of several lines), shown too otherwise (a table cell)."""
    if text.isascii() and text.isprintable():
        return text
    return (_INVISIBLE if lines else _INVISIBLE_LINE).sub(_escape, text)


def spreadsheet_cell(text: str) -> str:
    """A text cell for CSV / TSV that no spreadsheet program reads as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def xml_text(text: str) -> str:
    """``text`` without the characters an XML document (an XLSX cell) cannot hold."""
    if text.isascii() and text.isprintable():
        return text
    return _XML_ILLEGAL.sub(_escape, text)


def markdown_text(text: str) -> str:
    """``text`` as literal markdown on one line (a table cell, a list item, a heading):
    HTML, links, emphasis and code are escaped, and whitespace runs are one space."""
    flat = visible(" ".join(text.split()), lines=False)
    return _MARKDOWN.sub(lambda m: _MARKDOWN_ESCAPES.get(m.group(), "\\" + m.group()), flat)


def defuse_workbook(book: Any) -> None:
    """Every cell of an openpyxl workbook that would be written as a formula (a text
    beginning with ``=``) is written as text instead: no text becomes a formula (the
    评分表's own sums are put in after this, see :mod:`perfscore.render.scoresheet`)."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
