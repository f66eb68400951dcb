"""Reading sensitivity labels fails closed on anything odd; the label policy maps names leniently."""

import zipfile

import pytest

from dualtrack import ConfigError, LabelPolicy, Sensitivity, load_config, read_sensitivity_label

GID = "f42aa342-8706-4288-bd11-ebb85995028c"
NS = 'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
VT = 'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"'


def package(path, custom=None, extra=None):
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("_rels/.rels", "<Relationships/>")
        if custom is not None:
            zf.writestr("docProps/custom.xml", custom)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def props(**fields):
    rows = "".join(
        f'<property fmtid="x" pid="{i}" name="MSIP_Label_{GID}_{k}"><vt:lpwstr>{v}</vt:lpwstr></property>'
        for i, (k, v) in enumerate(fields.items(), 2)
    )
    return f"<Properties {NS}{VT}>{rows}</Properties>"


@pytest.mark.parametrize(
    ("custom", "expected"),
    [
        (props(Enabled="true", Name="Public"), Sensitivity.PUBLIC),
        (props(Enabled="True", Name="highly_confidential"), Sensitivity.HIGHLY_CONFIDENTIAL),
        (props(Name="General"), Sensitivity.GENERAL),  # no Enabled flag: still a label
        (props(Enabled="true"), Sensitivity.CONFIDENTIAL),  # no name: the default
        (props(Enabled="true", Name="Confidential\\Finance"), Sensitivity.CONFIDENTIAL),  # parent label
        (props(Enabled="false", Name="Public"), None),
        (f"<Properties {NS}{VT}/>", None),
        ("<Properties broken", Sensitivity.CONFIDENTIAL),  # unparseable: fail closed
        (
            '<!DOCTYPE x [<!ENTITY a "b">]>' + props(Name="Public"),
            Sensitivity.CONFIDENTIAL,
        ),  # DTD: fail closed
    ],
)
def test_custom_properties(tmp_path, custom, expected):
    assert read_sensitivity_label(package(tmp_path / "f.docx", custom)) == expected


def test_files_that_cannot_carry_or_hide_a_label(tmp_path):
    assert read_sensitivity_label(package(tmp_path / "plain.docx")) is None
    notes = tmp_path / "notes.txt"
    notes.write_text("MSIP_Label_")
    assert read_sensitivity_label(notes) is None
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip at all")
    assert read_sensitivity_label(fake) is None  # the plugin's package check rejects it later
    protected = tmp_path / "protected.docx"
    protected.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert read_sensitivity_label(protected) is Sensitivity.CONFIDENTIAL  # encrypted: cannot see, fail closed
    big = package(tmp_path / "big.docx", props(Name="Public") + " " * (3 << 20))
    assert read_sensitivity_label(big) is Sensitivity.CONFIDENTIAL


def test_custom_part_found_through_the_package_relationship(tmp_path):
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'custom-properties" Target="/props/mine.xml"/></Relationships>'
    )
    path = tmp_path / "moved.docx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("_rels/.rels", rels)
        zf.writestr("props/mine.xml", props(Enabled="true", Name="Highly Confidential"))
    assert read_sensitivity_label(path) is Sensitivity.HIGHLY_CONFIDENTIAL


def test_policy_merges_names_parses_levels_and_normalises_ids():
    policy = LabelPolicy(
        names={"Acme Secret": "Highly Confidential"},
        ids={"{" + GID.upper() + "}": "public"},
        default="general",
    )
    assert policy.level(None, "acme-secret") is Sensitivity.HIGHLY_CONFIDENTIAL
    assert policy.level(None, "Confidential") is Sensitivity.CONFIDENTIAL  # defaults kept
    assert policy.level(GID, "Confidential") is Sensitivity.PUBLIC  # the id wins
    assert policy.level(None, "Unheard Of") is Sensitivity.GENERAL
    assert LabelPolicy().default is Sensitivity.CONFIDENTIAL


def test_bad_label_level_in_config_names_the_field(tmp_path):
    cfg = tmp_path / "dualtrack.toml"
    cfg.write_text('models = []\n[labels]\nnames = { "Acme" = "top-secret" }\n')
    with pytest.raises(ConfigError, match=r"labels\.names"):
        load_config(cfg)


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("", "docProps/custom.xml", "docProps/custom.xml"),
        ("/", "./docProps/custom.xml", "docProps/custom.xml"),
        ("", "/docProps/../docProps/custom.xml", "docProps/custom.xml"),
        ("", "docProps/%63ustom.xml", "docProps/custom.xml"),
        ("/word/document.xml", "media/image1.png", "word/media/image1.png"),
        ("/word/document.xml", "../customXml/item1.xml", "customXml/item1.xml"),
        ("/word/document.xml", "/word/styles.xml#frag", "word/styles.xml"),
        ("", "https://example.com/custom.xml", None),
        ("", "", None),
    ],
)
def test_relationship_targets_resolve_the_opc_way(source, target, expected):
    from dualtrack._office._partnames import part_key, rels_part_for, resolve_target

    assert resolve_target(source, target) == expected
    assert part_key("/DocProps/%43ustom.XML") == part_key("docProps/custom.xml")
    assert rels_part_for("") == "_rels/.rels"
    assert rels_part_for("/word/document.xml") == "word/_rels/document.xml.rels"
