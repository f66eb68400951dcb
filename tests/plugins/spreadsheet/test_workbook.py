"""Hostile and special workbooks: typed errors, nothing changed; macros and labels kept; lost parts named."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from dualtrack import InputFileError, Orchestrator, UserError
from dualtrack.plugins.spreadsheet import SpreadsheetPlugin

from . import workbooks
from .conftest import formula_reply


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 << 20))
    return path


def _xlsb_content(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.bin" '
            'ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/></Types>',
        )
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00" * 100)
    return path


def _declare_dtd(parts: dict[str, bytes]) -> None:
    parts["xl/workbook.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + parts["xl/workbook.xml"]
    )


# hostile kinds made by rewriting a good workbook: (good source, hostile target)
DERIVED: dict[str, Callable[[Path, Path], Path]] = {
    "absurd-dimension": lambda src, p: workbooks.with_dimension(src, p, "A1:XFD1048576"),
    "impossible-dimension": lambda src, p: workbooks.with_dimension(src, p, "A1:B9999999"),
    "macros-named-xlsx": workbooks.as_xlsm,
    "dtd": lambda src, p: workbooks.rewrite_zip(src, p, _declare_dtd),
}


def _hostile(kind: str, folder: Path) -> Path:
    good, _ = workbooks.sales(folder / "good-source.xlsx")
    data = good.read_bytes()
    p = folder / ("book.xlsb" if kind == "xlsb-name" else "book.xlsx")
    if kind in DERIVED:
        DERIVED[kind](good, p)
    elif kind == "not-zip":
        p.write_text("Region,Amount\nNorth,1\n")
    elif kind == "truncated":
        p.write_bytes(data[: len(data) // 2])
    elif kind == "bomb":
        _bomb(p)
    elif kind == "xlsb-name":
        p.write_bytes(data)
    elif kind == "xlsb-content":
        _xlsb_content(p)
    elif kind == "ole":
        p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00encrypted package junk" * 64)
    good.unlink()
    return p


KINDS = [
    "not-zip",
    "truncated",
    "bomb",
    "xlsb-name",
    "xlsb-content",
    "ole",
    "absurd-dimension",
    "impossible-dimension",
    "macros-named-xlsx",
    "dtd",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("skill", ["profile", "formula"])
async def test_hostile_inputs_get_a_typed_error_and_nothing_changes(
    kind: str, skill: str, tmp_path: Path, orc_with
):
    path = _hostile(kind, tmp_path)
    before = _digest(tmp_path)
    orc, conn = orc_with(formula_reply("=SUM(D2:D41)"))
    args = {"path": str(path)} if skill == "profile" else {"path": str(path), "request": "total units"}
    with pytest.raises(InputFileError) as err:
        await orc.invoke(f"spreadsheet.{skill}", **args)
    assert str(path.name) in str(err.value)
    assert _digest(tmp_path) == before  # input untouched, no output written
    assert conn.calls == []  # refused before any model saw the data


def test_absurd_dimension_message_says_how_big(tmp_path: Path):
    path = _hostile("absurd-dimension", tmp_path)
    orc = Orchestrator(plugins=[SpreadsheetPlugin])
    with pytest.raises(InputFileError, match=r"1048576 rows x 16384 columns"):
        orc.invoke_sync("spreadsheet.profile", path=str(path))


def test_xlsb_and_ole_messages_say_what_to_do(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(InputFileError, match=r"save it as \.xlsx"):
        Orchestrator(plugins=[SpreadsheetPlugin]).invoke_sync(
            "spreadsheet.profile", path=str(_hostile("xlsb-content", tmp_path / "a"))
        )
    with pytest.raises(InputFileError, match="password-protected"):
        Orchestrator(plugins=[SpreadsheetPlugin]).invoke_sync(
            "spreadsheet.profile", path=str(_hostile("ole", tmp_path / "b"))
        )


async def test_xlsm_keeps_its_vba_project_after_an_edit(sales, tmp_path: Path, orc_with):
    src, _ = sales
    xlsm = workbooks.as_xlsm(src, tmp_path / "macro.xlsm")
    orc, _ = orc_with(formula_reply("=SUM(D2:D41)"))
    res = await orc.invoke("spreadsheet.formula", path=str(xlsm), request="total units", target="H2")
    assert res.value.ok
    out = Path(res.value.output)
    assert out.suffix == ".xlsm" and out != xlsm
    with zipfile.ZipFile(out) as zf:
        assert zf.read("xl/vbaProject.bin") == workbooks.VBA_BYTES
        assert b"macroEnabled.main+xml" in zf.read("[Content_Types].xml")
    assert openpyxl.load_workbook(out)["Sales"]["H2"].value == "=SUM(D2:D41)"


async def test_xlsm_output_must_stay_xlsm(sales, tmp_path: Path, orc_with):
    src, _ = sales
    xlsm = workbooks.as_xlsm(src, tmp_path / "macro.xlsm")
    orc, conn = orc_with(formula_reply("=SUM(D2:D41)"))
    with pytest.raises(UserError, match=r"\.xlsm"):
        await orc.invoke(
            "spreadsheet.formula", path=str(xlsm), request="total units", output=str(tmp_path / "o.xlsx")
        )
    assert conn.calls == []


async def test_in_place_edit_that_would_lose_an_image_is_refused(sales, tmp_path: Path, orc_with):
    src, _ = sales
    pic = workbooks.with_image(src, tmp_path / "pic.xlsx")
    before = pic.read_bytes()
    orc, conn = orc_with(formula_reply("=SUM(D2:D41)"))
    with pytest.raises(UserError, match="images") as err:
        await orc.invoke("spreadsheet.formula", path=str(pic), request="total units", in_place=True)
    assert "output path" in str(err.value)
    assert pic.read_bytes() == before
    assert conn.calls == []


async def test_copy_of_a_workbook_with_an_image_warns_what_was_lost(sales, tmp_path: Path, orc_with):
    src, _ = sales
    pic = workbooks.with_image(src, tmp_path / "pic.xlsx")
    before = pic.read_bytes()
    orc, _ = orc_with(formula_reply("=SUM(D2:D41)"))
    res = await orc.invoke("spreadsheet.formula", path=str(pic), request="total units", target="H2")
    assert res.value.ok and pic.read_bytes() == before
    assert any("images" in w for w in res.value.warnings)
    assert Path(res.value.output).name == "pic.edited.xlsx"


async def test_in_place_edit_of_a_plain_workbook_is_atomic_and_allowed(sales, tmp_path: Path, orc_with):
    src, _ = sales
    orc, _ = orc_with(formula_reply("=SUM(D2:D41)"))
    res = await orc.invoke(
        "spreadsheet.formula", path=str(src), request="total units", target="H2", in_place=True
    )
    assert res.value.output == str(src.resolve())
    assert openpyxl.load_workbook(src)["Sales"]["H2"].value == "=SUM(D2:D41)"
    assert [p.name for p in tmp_path.iterdir()] == ["sales.xlsx"]  # no temporary file left behind


async def test_sensitivity_label_governs_routing_and_survives_the_edit(sales, tmp_path: Path, scripted):
    src, _ = sales
    labelled = workbooks.with_label(src, tmp_path / "secret.xlsx", "Highly Confidential")
    general, gconn = scripted(formula_reply("=SUM(D2:D41)"), name="general-only", clearance="general")
    cleared, _ = scripted(formula_reply("=SUM(D2:D41)"), name="cleared", cost_input=5.0, cost_output=5.0)
    orc = Orchestrator(models=[general, cleared], plugins=[SpreadsheetPlugin])
    res = await orc.invoke("spreadsheet.formula", path=str(labelled), request="total units", target="H2")
    assert res.value.ok and res.models == ["cleared"] and gconn.calls == []
    from dualtrack import read_sensitivity_label

    assert str(read_sensitivity_label(res.value.output)) == "highly-confidential"
    prof = await Orchestrator(plugins=[SpreadsheetPlugin]).invoke("spreadsheet.profile", path=str(labelled))
    assert prof.value.sensitivity == "highly-confidential"
