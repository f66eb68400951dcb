"""Safe file handling: atomic writes and Office package checks on hostile input."""

import io
import os
import zipfile

import pytest

from dualtrack import InputFileError, atomic_write, inspect_package

DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
CT = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Override PartName="/word/document.xml" ContentType="{main}"/></Types>'
)


def package(path, main=DOCX_MAIN, extra=None):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", CT.format(main=main))
        zf.writestr("word/document.xml", "<w:document/>")
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_atomic_write_replaces_whole_file_and_keeps_mode(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    os.chmod(target, 0o600)
    with atomic_write(target, "w") as fh:
        fh.write("new")
        assert target.read_text() == "old"  # readers still see the old file
    assert target.read_text() == "new"
    assert (target.stat().st_mode & 0o777) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_failure_leaves_target_untouched(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"precious")
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write(b"half")
        raise RuntimeError("boom")
    assert target.read_bytes() == b"precious"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_good_package(tmp_path):
    info = inspect_package(package(tmp_path / "a.docx"), [DOCX_MAIN])
    assert info.main_type == DOCX_MAIN and "word/document.xml" in info.parts
    assert info.has("word/")


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"just text, not a zip"), "not an Office Open XML"),
        (lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512), "password-protected"),
        (lambda p: p.write_bytes(package(p).read_bytes()[:-30]), "not an Office Open XML|damaged"),
        (lambda p: package(p, main="application/vnd.ms-word.document.macroEnabled.main+xml"), "main content type"),
        (lambda p: package(p, extra={"word/x.xml": '<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'}), "DTD"),
        (lambda p: package(p, extra={"word/bomb.xml": "a" * (30 << 20)}), "zip bomb"),
    ],
    ids=["not-zip", "ole-encrypted", "truncated", "docm", "entities", "bomb"],
)
def test_hostile_packages_are_refused_and_untouched(tmp_path, make, message):
    path = tmp_path / "bad.docx"
    make(path)
    before = path.read_bytes()
    with pytest.raises(InputFileError, match=message) as err:
        inspect_package(path, [DOCX_MAIN])
    assert err.value.path == str(path)
    assert path.read_bytes() == before


def test_no_content_types(tmp_path):
    path = tmp_path / "x.docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<x/>")
    path.write_bytes(buf.getvalue())
    with pytest.raises(InputFileError, match="Content_Types"):
        inspect_package(path, [DOCX_MAIN])


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match="cannot be read"):
        inspect_package(tmp_path / "nope.docx", [DOCX_MAIN])


def test_dtd_after_a_long_comment_is_still_found(tmp_path):
    hidden = "<?xml version='1.0'?><!--" + "x" * 20_000 + '--><!DOCTYPE d [<!ENTITY a "b">]><d>&a;</d>'
    path = package(tmp_path / "late.docx", extra={"word/late.xml": hidden})
    with pytest.raises(InputFileError, match="DTD"):
        inspect_package(path, [DOCX_MAIN])


def test_declares_dtd_stops_at_the_root():
    from dualtrack._office._xmlsafe import declares_dtd

    assert not declares_dtd(io.BytesIO(b"<?xml version='1.0'?><!-- <!DOCTYPE --><r>" + b"<x/>" * 100_000 + b"</r>"))
    assert declares_dtd(io.BytesIO(b"<!DOCTYPE r><r/>"))
    assert declares_dtd(io.BytesIO(b"not xml at all <"))
