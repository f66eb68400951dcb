"""Real .docx/.xlsx files with Microsoft sensitivity labels route by their label."""

import textwrap
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import openpyxl
import pytest

from dualtrack import (
    LabelPolicy,
    Orchestrator,
    Policy,
    SkillContext,
    load_config,
    plugin,
    read_sensitivity_label,
    skill,
)
from dualtrack.testing import ScriptedConnector, model_card
from tests.office import convert, requires_soffice

# -- labels written the way Office writes them -----------------------------------------
# docProps/custom.xml holds MSIP_Label_<guid>_* properties; [Content_Types].xml declares
# the part and _rels/.rels links it; newer files add docMetadata/LabelInfo.xml.

CONFIDENTIAL_ID = "f42aa342-8706-4288-bd11-ebb85995028c"
GENERAL_ID = "87867195-f2b8-4ac2-b0b6-6bb73cb33afc"
HIGHLY_ID = "3a1d2c9e-6b7f-4c1e-9d2a-5f8e7b6c4d3a"
SITE_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"

_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_CUSTOM_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties"
_LABELINFO_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"


def msip_properties(label_id: str, name: str | None, *, enabled: bool = True) -> dict[str, str]:
    """The seven properties Office writes for one label."""
    props = {
        "Enabled": "true" if enabled else "false",
        "SetDate": "2024-05-02T09:14:11Z",
        "Method": "Standard",
        "SiteId": SITE_ID,
        "ActionId": "d5a0e1b2-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
        "ContentBits": "0",
    }
    if name is not None:
        props["Name"] = name
    return {f"MSIP_Label_{label_id}_{k}": v for k, v in props.items()}


def custom_xml(props: dict[str, str]) -> bytes:
    rows = "".join(
        f'<property fmtid="{_FMTID}" pid="{pid}" name="{escape(name)}"><vt:lpwstr>{escape(value)}</vt:lpwstr></property>'
        for pid, (name, value) in enumerate(props.items(), start=2)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
        'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{rows}</Properties>"
    ).encode()


def label_info_xml(label_id: str, *, removed: bool = False) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?>'
        '<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
        f'<clbl:label id="{{{label_id}}}" enabled="1" method="Standard" siteId="{{{SITE_ID}}}" '
        f'contentBits="0" removed="{1 if removed else 0}" /></clbl:labelList>'
    ).encode()


def add_parts(path: Path, *, custom: bytes | None = None, label_info: bytes | None = None) -> Path:
    """Rewrite the package at ``path`` with the given label parts, declared and linked."""
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    types = parts["[Content_Types].xml"].decode()
    rels = parts["_rels/.rels"].decode()
    if custom is not None:
        parts["docProps/custom.xml"] = custom
        if "/docProps/custom.xml" not in types:
            types = types.replace(
                "</Types>", f'<Override PartName="/docProps/custom.xml" ContentType="{_CUSTOM_CT}"/></Types>'
            )
        if _CUSTOM_REL not in rels:
            rels = rels.replace(
                "</Relationships>",
                f'<Relationship Id="rIdCustom1" Type="{_CUSTOM_REL}" Target="docProps/custom.xml"/></Relationships>',
            )
    if label_info is not None:
        parts["docMetadata/LabelInfo.xml"] = label_info
        types = types.replace(
            "</Types>",
            '<Override PartName="/docMetadata/LabelInfo.xml" '
            'ContentType="application/vnd.ms-office.classificationlabels+xml"/></Types>',
        )
        rels = rels.replace(
            "</Relationships>",
            f'<Relationship Id="rIdLabel1" Type="{_LABELINFO_REL}" Target="docMetadata/LabelInfo.xml"/>'
            "</Relationships>",
        )
    parts["[Content_Types].xml"] = types.encode()
    parts["_rels/.rels"] = rels.encode()
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    tmp.replace(path)
    return path


def make_docx(path: Path, text: str = "Quarterly numbers are attached.") -> Path:

    document = docx.Document()
    document.add_paragraph(text)
    document.save(str(path))
    return path


def make_xlsx(path: Path) -> Path:

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["region", "revenue"])
    ws.append(["north", 120])
    wb.save(path)
    return path


def labelled(path: Path, label_id: str, name: str | None, **kw: bool) -> Path:
    return add_parts(path, custom=custom_xml(msip_properties(label_id, name, **kw)))


# -- tests ------------------------------------------------------------------------------


@plugin("files", description="Skills that read the user's files.")
class Files:
    @skill(requires=["summarize"])
    async def summarize(self, ctx: SkillContext, path: Path) -> str:
        """Summarize a document or workbook.

        Args:
            path: The .docx or .xlsx file.
        """
        p = ctx.input_file(path, suffixes=(".docx", ".xlsx"))
        if p.suffix == ".docx":
            text = "\n".join(par.text for par in docx.Document(str(p)).paragraphs)
        else:
            ws = openpyxl.load_workbook(p, read_only=True).active
            text = "\n".join(",".join(str(c) for c in row) for row in ws.iter_rows(values_only=True))
        return (await ctx.generate(f"Summarize:\n{text}")).text


def catalog():
    partner = ScriptedConnector(["from partner"], repeat_last=True)
    inhouse = ScriptedConnector(["from in-house"], repeat_last=True)
    cards = [
        model_card(partner, name="gpt", track="partner", clearance="general", quality=1.0),
        model_card(inhouse, name="local", track="in-house", clearance="highly-confidential", quality=0.1),
    ]
    return cards, partner, inhouse


def orc_with(labels=None):
    cards, partner, inhouse = catalog()
    kw = {"labels": labels} if labels is not None else {}
    return (
        Orchestrator(models=cards, policy=Policy(objective="quality"), plugins=[Files], **kw),
        partner,
        inhouse,
    )


@pytest.mark.parametrize("make", [make_docx, make_xlsx], ids=["docx", "xlsx"])
@pytest.mark.parametrize(
    ("label_id", "name", "expected_level", "expected_model"),
    [
        (None, None, "general", "gpt"),  # no label: the caller's default
        (GENERAL_ID, "General", "general", "gpt"),
        (CONFIDENTIAL_ID, "Confidential", "confidential", "local"),
        (HIGHLY_ID, "Highly Confidential", "highly-confidential", "local"),
        (HIGHLY_ID, "Acme Crown Jewels", "confidential", "local"),  # unknown name: fail closed
    ],
)
async def test_file_label_decides_the_route(tmp_path, make, label_id, name, expected_level, expected_model):
    path = make(tmp_path / ("report.docx" if make is make_docx else "report.xlsx"))
    if label_id is not None:
        labelled(path, label_id, name)
    orc, partner, inhouse = orc_with()
    res = await orc.invoke("files.summarize", path=path)
    assert res.models == [expected_model]
    assert res.decisions[0].requirements.sensitivity.value == expected_level
    sent = (partner.calls or inhouse.calls)[0]
    assert "region" in sent.messages[-1].content or "Quarterly" in sent.messages[-1].content
    if expected_model == "local":
        assert partner.calls == []  # the partner never saw the labelled content
        assert "rejected: clearance general <" in res.explain()


def test_labelled_packages_are_real_office_files(tmp_path):
    x = labelled(make_xlsx(tmp_path / "book.xlsx"), CONFIDENTIAL_ID, "Confidential")
    props = {p.name: p.value for p in openpyxl.load_workbook(x).custom_doc_props}
    assert props[f"MSIP_Label_{CONFIDENTIAL_ID}_Name"] == "Confidential"
    assert props[f"MSIP_Label_{CONFIDENTIAL_ID}_Enabled"] == "true"
    d = labelled(make_docx(tmp_path / "memo.docx"), CONFIDENTIAL_ID, "Confidential")
    assert docx.Document(str(d)).paragraphs[0].text.startswith("Quarterly")


async def test_a_removed_label_and_a_disabled_one(tmp_path):
    off = labelled(make_docx(tmp_path / "off.docx"), CONFIDENTIAL_ID, "Confidential", enabled=False)
    assert read_sensitivity_label(off) is None
    gone = add_parts(
        make_docx(tmp_path / "gone.docx"), label_info=label_info_xml(CONFIDENTIAL_ID, removed=True)
    )
    assert read_sensitivity_label(gone) is None


async def test_label_info_only_files_use_ids_then_the_default(tmp_path):
    path = add_parts(make_xlsx(tmp_path / "new.xlsx"), label_info=label_info_xml(GENERAL_ID))
    assert read_sensitivity_label(path).value == "confidential"  # an id nobody mapped: fail closed
    orc, *_ = orc_with(load_config(_config(tmp_path)).labels)
    assert orc.labels.level(GENERAL_ID, None).value == "general"
    res = await orc.invoke("files.summarize", path=path)
    assert res.models == ["gpt"]


async def test_several_labels_take_the_most_sensitive(tmp_path):
    props = {**msip_properties(GENERAL_ID, "General"), **msip_properties(HIGHLY_ID, "Highly Confidential")}
    path = add_parts(make_docx(tmp_path / "two.docx"), custom=custom_xml(props))
    assert read_sensitivity_label(path).value == "highly-confidential"


def _config(tmp_path):
    cfg = tmp_path / "dualtrack.toml"
    cfg.write_text(
        textwrap.dedent(
            f"""
            models = []
            [labels]
            default = "highly-confidential"
            names = {{ "Acme Internal" = "General", "Acme Crown Jewels" = "Highly Confidential" }}
            ids = {{ "{{{GENERAL_ID}}}" = "general" }}
            """
        )
    )
    return cfg


async def test_configured_label_names_and_default(tmp_path):
    labels = load_config(_config(tmp_path)).labels
    orc, *_ = orc_with(labels)
    internal = labelled(make_docx(tmp_path / "internal.docx"), CONFIDENTIAL_ID, "Acme Internal")
    jewels = labelled(make_xlsx(tmp_path / "jewels.xlsx"), HIGHLY_ID, "acme crown-jewels")
    odd = labelled(make_docx(tmp_path / "odd.docx"), HIGHLY_ID, "Project Kestrel")
    assert (await orc.invoke("files.summarize", path=internal)).models == ["gpt"]
    res = await orc.invoke("files.summarize", path=jewels)
    assert res.decisions[0].requirements.sensitivity.value == "highly-confidential"
    res = await orc.invoke("files.summarize", path=odd)
    assert res.decisions[0].requirements.sensitivity.value == "highly-confidential"  # configured default
    assert labels.level(None, "Confidential").value == "confidential"  # Microsoft's names still apply


async def test_the_caller_can_raise_but_a_label_cannot_be_lowered(tmp_path):
    path = labelled(make_docx(tmp_path / "c.docx"), CONFIDENTIAL_ID, "Confidential")
    orc, partner, _ = orc_with()
    res = await orc.invoke("files.summarize", path=path, sensitivity="public")
    assert res.models == ["local"] and partner.calls == []


@requires_soffice
def test_label_survives_a_libreoffice_round_trip(tmp_path):
    (tmp_path / "src").mkdir()
    src = labelled(make_docx(tmp_path / "src" / "memo.docx"), CONFIDENTIAL_ID, "Confidential")
    out = convert(src, "docx", tmp_path / "out")
    assert read_sensitivity_label(out).value == "confidential"


# -- relationship targets in every form the OPC spec allows --------------------------------

_TARGET_FORMS = {
    # form: (target written in _rels/.rels, zip entry name) for a part conventionally at <dir>/<name>
    "relative": ("{dir}/{name}", "{dir}/{name}"),
    "dot-slash": ("./{dir}/{name}", "{dir}/{name}"),
    "absolute": ("/{dir}/{name}", "{dir}/{name}"),
    "dot-dot": ("/{dir}/../{dir}/{name}", "{dir}/{name}"),
    "percent-encoded": ("{dir}/%{hex}{rest}", "{dir}/{name}"),
    "upper-case-target": ("{DIR}/{NAME}", "{dir}/{name}"),
    "upper-case-entry": ("{dir}/{name}", "{DIR}/{NAME}"),
}


def relink(path: Path, rel_type: str, part: str, form: str) -> Path:
    """Rewrite the relationship of ``rel_type`` (to ``part``) and the part's entry name in ``form``."""
    folder, name = part.split("/")
    fields = {
        "dir": folder,
        "name": name,
        "DIR": folder.upper(),
        "NAME": name.upper(),
        "hex": f"{ord(name[0]):02x}",
        "rest": name[1:],
    }
    target, entry = (t.format(**fields) for t in _TARGET_FORMS[form])
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    rels = parts["_rels/.rels"].decode()
    start = rels.index(f'Type="{rel_type}"')
    old = rels[start:].split('Target="', 1)[1].split('"', 1)[0]
    rels = rels[:start] + rels[start:].replace(f'Target="{old}"', f'Target="{target}"', 1)
    parts["_rels/.rels"] = rels.encode()
    parts[entry] = parts.pop(part)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    tmp.replace(path)
    return path


@pytest.mark.parametrize("form", list(_TARGET_FORMS))
@pytest.mark.parametrize("storage", ["custom-properties", "label-info"])
@pytest.mark.parametrize("make", [make_docx, make_xlsx], ids=["docx", "xlsx"])
async def test_labels_are_found_whatever_the_form_of_the_target(tmp_path, make, storage, form):
    path = make(tmp_path / ("f.docx" if make is make_docx else "f.xlsx"))
    if storage == "custom-properties":
        labelled(path, CONFIDENTIAL_ID, "Confidential")
        relink(path, _CUSTOM_REL, "docProps/custom.xml", form)
    else:
        add_parts(path, label_info=label_info_xml(CONFIDENTIAL_ID))
        relink(path, _LABELINFO_REL, "docMetadata/LabelInfo.xml", form)
    assert read_sensitivity_label(path).value == "confidential"
    if form == "dot-dot":
        orc, partner, _ = orc_with()
        res = await orc.invoke("files.summarize", path=path)
        assert res.models == ["local"] and partner.calls == []


def _break_part(path: Path, part: str, how: str) -> Path:
    with zipfile.ZipFile(path) as zf:
        parts = {info.filename: zf.read(info) for info in zf.infolist()}
    if how == "missing":
        del parts[part]
    elif how == "unparseable":
        parts[part] = parts[part][: len(parts[part]) // 2]
    elif how == "dtd":
        parts[part] = b'<!DOCTYPE p [<!ENTITY e "x">]>' + parts[part].split(b"?>", 1)[1]
    elif how == "external":
        rels = parts["_rels/.rels"].decode()
        i = rels.index(part)
        parts["_rels/.rels"] = (rels[:i] + rels[i:].replace("/>", ' TargetMode="External"/>', 1)).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    if how == "corrupt":  # flip bytes inside the stored (compressed) data: the CRC check fails
        with zipfile.ZipFile(path) as zf:
            info = zf.getinfo(part)
        raw = bytearray(path.read_bytes())
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
        for k in range(start + 5, start + 25):
            raw[k] ^= 0x5A
        path.write_bytes(bytes(raw))
    return path


@pytest.mark.parametrize("how", ["missing", "unparseable", "dtd", "external", "corrupt"])
@pytest.mark.parametrize("storage", ["custom-properties", "label-info"])
def test_a_linked_label_part_that_cannot_be_read_fails_closed(tmp_path, storage, how):
    path = make_docx(tmp_path / "f.docx")
    if storage == "custom-properties":
        labelled(path, GENERAL_ID, "Public")
        part = "docProps/custom.xml"
    else:
        add_parts(path, label_info=label_info_xml(GENERAL_ID))
        part = "docMetadata/LabelInfo.xml"
    mapped = LabelPolicy(ids={GENERAL_ID: "general"})
    assert read_sensitivity_label(path, mapped).value == "general"  # readable: the label's own level
    _break_part(path, part, how)
    assert read_sensitivity_label(path, mapped).value == "confidential"
    strict = LabelPolicy(ids={GENERAL_ID: "general"}, default="highly-confidential")
    assert read_sensitivity_label(path, strict).value == "highly-confidential"  # the configured default
