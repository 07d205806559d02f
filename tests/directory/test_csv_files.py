"""CSV files as administrators produce them: GBK from Excel, BOMs, Chinese headers, broken rows, huge files."""

from __future__ import annotations

import pytest
from sqlmodel import select

from gridline.importers import ImportFailed
from gridline.importers.addresses import import_addresses
from gridline.importers.csvfile import decode
from gridline.storage.db import Database
from gridline.storage.models import Address
from tests.directory.conftest import WriteFile, count

ROWS = (
    "address,aliases,grid_code\n"
    "郑州市高新区长椿路999号院,长椿新苑|新苑,GX02-01-1\n"
    "郑州市高新区莲花街998号院,莲花新村,GX01-01-2\n"
)


def test_a_gbk_file_from_excel_is_detected_and_imported(demo_db: Database, write_file: WriteFile) -> None:
    summary = import_addresses(demo_db, write_file("gbk.csv", ROWS, encoding="gbk"))
    assert summary.created == 2 and summary.encoding == "gb18030"
    with demo_db.session() as session:
        row = session.exec(select(Address).where(Address.address == "郑州市高新区长椿路999号院")).one()
    assert row.aliases == ["长椿新苑", "新苑"] and row.grid_code == "GX02-01-1"


def test_utf8_with_a_bom_and_chinese_headers_are_understood(demo_db: Database, write_file: WriteFile) -> None:
    text = "地址,别名,网格编码\n郑州市高新区长椿路999号院,长椿新苑；新苑,GX02-01-1\n"
    summary = import_addresses(demo_db, write_file("bom.csv", text, encoding="utf-8-sig"))
    assert summary.created == 1


def test_an_undecodable_file_is_refused_with_advice(demo_db: Database, write_file: WriteFile) -> None:
    before = count(demo_db, Address)
    garbage = bytes(range(128, 256)) * 20 + b"\x00\x01\x02"
    with pytest.raises(ImportFailed) as info:
        import_addresses(demo_db, write_file("binary.csv", garbage))
    assert "not UTF-8 or GBK/GB18030" in str(info.value) and "CSV UTF-8" in str(info.value)
    assert "无法识别文件编码" in info.value.text("zh-CN")
    assert count(demo_db, Address) == before


def test_a_file_over_the_limit_is_refused(demo_db: Database, write_file: WriteFile) -> None:
    big = ROWS + "".join(f"郑州市高新区长椿路{i}号院,,GX02-01-1\n" for i in range(1000, 3000))
    with pytest.raises(ImportFailed) as info:
        import_addresses(demo_db, write_file("big.csv", big), max_bytes=10_000)
    assert "over the 0.0 MB limit" in str(info.value)
    assert count(demo_db, Address) == 68


def test_malformed_rows_are_reported_with_their_line_numbers_and_nothing_is_written(
    demo_db: Database, write_file: WriteFile
) -> None:
    text = (
        "address,aliases,grid_code\n"
        "郑州市高新区长椿路999号院,长椿新苑,GX02-01-1\n"
        "郑州市高新区长椿路997号院,,GX02-01-1,extra,cells\n"  # line 3: too many cells
        ",,GX02-01-1\n"  # line 4: no address
        "郑州市高新区长椿路995号院,,NOPE\n"  # line 5: unknown grid
    )
    with pytest.raises(ImportFailed) as info:
        import_addresses(demo_db, write_file("bad.csv", text))
    assert [p.where for p in info.value.problems] == ["line 3"]  # structure first
    fixed = text.replace(",extra,cells", "")
    with pytest.raises(ImportFailed) as info:
        import_addresses(demo_db, write_file("bad2.csv", fixed))
    assert [(p.where, p.key) for p in info.value.problems] == [
        ("line 4", "directory.address.empty"),
        ("line 5", "directory.address.unknown_grid"),
    ]
    assert count(demo_db, Address) == 68


def test_a_missing_column_is_named(demo_db: Database, write_file: WriteFile) -> None:
    with pytest.raises(ImportFailed) as info:
        import_addresses(demo_db, write_file("bad.csv", "address,aliases\nx,y\n"))
    assert "missing column(s) grid_code" in str(info.value)


def test_a_point_in_another_grid_is_refused(demo_db: Database, write_file: WriteFile) -> None:
    text = "address,grid_code,lat,lon\n郑州市高新区长椿路999号院,GX02-01-1,34.78,113.62\n"
    with pytest.raises(ImportFailed) as info:
        import_addresses(demo_db, write_file("bad.csv", text))
    assert "lies in ZY01-01-2, not in GX02-01-1" in str(info.value)


def test_decoding_prefers_utf8_and_reads_gb18030() -> None:
    assert decode("桐柏路".encode(), "x") == ("桐柏路", "utf-8")
    assert decode("桐柏路199号院,网格长".encode("gb18030"), "x") == ("桐柏路199号院,网格长", "gb18030")
