"""The file reader on its own: encodings, headers and labels as people's spreadsheets write them."""

from __future__ import annotations

import codecs
import io

import pytest
from openpyxl import Workbook

from services.sampling import importing
from services.sampling.importing import INSPECTOR_TABLE, SITE_TABLE, NotText, UnreadableFile

TEXT = "编码,名称,类型,上级\n330212001001,三塘村,村,330212001\n"


def _xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active.append(["code"])  # type: ignore[union-attr]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class TestDecodeText:
    @pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig", "utf-16"])
    def test_the_encodings_excel_and_wps_write_read_back_as_the_same_text(self, encoding):
        assert importing.decode_text(TEXT.encode(encoding)) == TEXT

    def test_a_character_outside_gbk_reads_back_from_gb18030(self):
        text = "编码,名称\n1,䶮村\n"
        assert importing.decode_text(text.encode("gb18030")) == text

    def test_a_short_gbk_file_is_not_taken_for_korean(self):
        text = "编码,名称\n1,村\n"
        assert importing.decode_text(text.encode("gbk")) == text

    def test_an_xlsx_workbook_is_not_text_and_the_message_says_what_to_do(self):
        with pytest.raises(NotText, match="format=xlsx"):
            importing.decode_text(_xlsx_bytes())

    def test_an_image_is_not_text(self):
        with pytest.raises(NotText, match="PNG"):
            importing.decode_text(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)

    def test_binary_bytes_are_not_text(self):
        with pytest.raises(NotText, match="不是文本"):
            importing.decode_text(bytes(range(256)) * 8)

    def test_a_broken_utf8_file_with_a_bom_is_not_read_as_gbk(self):
        with pytest.raises(NotText, match="UTF-8"):
            importing.decode_text(codecs.BOM_UTF8 + "编码".encode("gbk"))


class TestHeaders:
    @pytest.mark.parametrize(
        ("header", "column"),
        [
            ("编码", "code"),
            ("点位编码", "code"),
            (" Code ", "code"),
            ("编码*", "code"),
            ("类型（村/社区）", "type"),
            ("上级编码", "parent_code"),
            ("所属区县（功能区）", "district"),
            ("子类型", "subtype"),
            ("组织路径", "组织路径"),
        ],
    )
    def test_chinese_and_english_headers_name_the_same_column(self, header, column):
        assert SITE_TABLE.column(header) == column

    def test_the_pool_has_its_own_names(self):
        assert [INSPECTOR_TABLE.column(h) for h in ("用户ID", "姓名", "所属区县", "可任组长")] == [
            "user_id",
            "name",
            "home_district",
            "can_lead",
        ]

    def test_a_header_without_a_required_column_refuses_the_file_naming_it(self):
        data = "名字,类别\n三塘村,村\n".encode()
        with pytest.raises(UnreadableFile, match="编码（code）") as exc:
            importing.parse_table(data, "csv", SITE_TABLE)
        assert "读到的表头是：名字、类别" in str(exc.value)

    def test_two_headers_for_one_column_refuse_the_file(self):
        with pytest.raises(UnreadableFile, match="只能保留一列"):
            importing.parse_table("code,编码,type,name\n1,1,村,x\n".encode(), "csv", SITE_TABLE)

    def test_json_keys_may_be_chinese_too(self):
        rows = importing.parse_table('[{"编码": "1", "类型": "村"}]'.encode(), "json", SITE_TABLE)
        assert rows == [(1, {"code": "1", "type": "村"})]


class TestLabels:
    @pytest.mark.parametrize(
        ("label", "value"),
        [
            ("村", "village"),
            ("社区", "community"),
            ("镇", "town"),
            ("镇乡", "town"),
            ("街道", "street"),
            ("区县市", "district"),
            ("功能区", "zone"),
            ("非公企业", "enterprise"),
            ("社会组织", "social_org"),
            ("机关事业单位", "institution"),
            ("Village", "village"),
            ("village", "village"),
        ],
    )
    def test_type_labels_as_exports_write_them(self, label, value):
        assert importing.site_type(label) == value

    def test_an_unknown_label_names_no_type(self):
        assert importing.site_type("农场") is None

    def test_subtype_labels(self):
        assert [importing.site_subtype(s) for s in ("医院", "学校", "hospital", "诊所")] == [
            "hospital",
            "school",
            "hospital",
            None,
        ]


class TestRowErrorsInChinese:
    def test_errors_are_chinese_and_keep_their_machine_readable_parts(self):
        raw = [(2, {"code": "330212001001", "type": "农场", "name": "三塘村", "parent_code": "x"})]
        [error] = importing.check_sites(raw, {}, lambda _: True).errors
        assert (error["line"], error["column"], error["problem"]) == (2, "type", "wrong-type")
        assert error["reason"].startswith("未知的点位类型“农场”；可用：区县市（district）")
