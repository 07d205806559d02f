"""Reading CSV files as administrators produce them: UTF-8 (with or without BOM) or GBK/GB18030
(what Excel on a Chinese Windows saves), headers in English or Chinese."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from charset_normalizer import from_bytes

from gridline.importers import DEFAULT_MAX_BYTES, ImportFailed, ImportProblem, Invalid, Source, read_source

# Chinese column names accepted for the English ones.
HEADER_ALIASES = {
    "地址": "address", "别名": "aliases", "常用名": "aliases", "网格": "grid_code", "网格编码": "grid_code",
    "网格代码": "grid_code", "纬度": "lat", "经度": "lon", "小区": "compound", "小区名称": "compound",
    "编号": "code", "工号": "code", "姓名": "name", "角色": "role", "部门": "department", "类别": "categories",
    "电话": "phone", "手机": "phone", "语言": "lang", "通知方式": "channels", "班次": "role", "星期": "weekday",
    "开始": "start", "结束": "end", "人员": "staff_code", "人员编号": "staff_code",
}  # fmt: skip


@dataclass(frozen=True)
class CsvRow:
    line: int  # physical line number in the file (header is line 1)
    values: dict[str, str]

    def get(self, key: str) -> str:
        return (self.values.get(key) or "").strip()

    def problem(self, key: str, /, **params: Any) -> ImportProblem:
        return ImportProblem.at_line(self.line, key, **params)

    def invalid(self, exc: Invalid) -> ImportProblem:
        return ImportProblem.invalid_at_line(self.line, exc)


@dataclass(frozen=True)
class CsvTable:
    name: str
    encoding: str
    columns: list[str]
    rows: list[CsvRow]


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Text and encoding of ``data``: UTF-8 first, then GB18030 (a superset of GBK), then whatever
    charset-normalizer is confident about among Chinese encodings; otherwise a clear refusal."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" not in data:
        try:
            text = data.decode("gb18030")
            if _plausible(text):
                return text, "gb18030"
        except UnicodeDecodeError:
            pass
        best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16"]).best()
        if best is not None and best.chaos < 0.2:
            text = str(best)
            if _plausible(text):
                return text, best.encoding
    raise ImportFailed(name, [ImportProblem.in_file(name, "directory.file.encoding")])


def _plausible(text: str) -> bool:
    """Decoded text looks like a table: no control characters, mostly CJK, ASCII or common punctuation."""
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text):
        return False
    odd = sum(1 for ch in text if not (ch.isascii() or "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                                       or "\uff00" <= ch <= "\uffef"))  # fmt: skip
    return odd <= max(2, len(text) // 50)


def read_csv(
    source: Source,
    *,
    required: Iterable[str],
    optional: Iterable[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    name: str | None = None,
) -> CsvTable:
    """Decode and parse a CSV file; raise :class:`ImportFailed` for a missing column or a row with
    more cells than the header (line numbers are physical lines)."""
    data, label = read_source(source, max_bytes=max_bytes, name=name)
    text, encoding = decode(data, label)
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[ImportProblem] = []
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFailed(label, [ImportProblem.in_file(label, "directory.file.empty")]) from None
    except csv.Error as exc:
        raise ImportFailed(label, [ImportProblem.at_line(1, "directory.file.bad_header", error=str(exc))]) from None
    columns = [HEADER_ALIASES.get(h.strip(), h.strip().lower()) for h in header]
    required_list = list(required)
    missing = [c for c in required_list if c not in columns]
    if missing:
        known = ", ".join(required_list + list(optional))
        problem = ImportProblem.at_line(1, "directory.file.missing_columns", missing=", ".join(missing), known=known)
        raise ImportFailed(label, [problem])
    rows: list[CsvRow] = []
    line = reader.line_num
    try:
        for cells in reader:
            start = line + 1
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) > len(columns):
                key = "directory.file.too_many_cells"
                problems.append(ImportProblem.at_line(start, key, cells=len(cells), columns=len(columns)))
                continue
            values = dict(zip(columns, cells, strict=False))
            rows.append(CsvRow(start, values))
    except csv.Error as exc:
        problems.append(ImportProblem.at_line(reader.line_num, "directory.file.malformed", error=str(exc)))
    if problems:
        raise ImportFailed(label, problems)
    return CsvTable(label, encoding, columns, rows)
