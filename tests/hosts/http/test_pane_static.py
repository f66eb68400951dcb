"""The task pane's files and the Office add-in manifest, served by a real server (no browser needed)."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from dualtrack.hosts.http import HttpSettings
from dualtrack.hosts.http._manifest import manifest_xml

from .conftest import make_orc

STATIC = Path(__file__).parents[3] / "hosts" / "http" / "static"
NS = {
    "o": "http://schemas.microsoft.com/office/appforoffice/1.1",
    "ov": "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
    "bt": "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}


@pytest.fixture
def server(serve, tmp_path):
    return serve(make_orc(), HttpSettings(data_dir=str(tmp_path / "data")))


def _imports(source: str) -> list[str]:
    return re.findall(r"""^import\s[^;]*?from\s+"(\./[^"]+)";""", source, re.M | re.S)


def test_pane_and_every_module_it_imports_are_served(server):
    with httpx.Client(base_url=server.url) as c:
        page = c.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="js/pane.js">' in page.text
        assert "default-src 'self'" in page.text  # the page may fetch nothing from elsewhere
        seen: set[str] = set()
        todo = ["js/pane.js"]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            resp = c.get("/" + path)
            assert resp.status_code == 200, path
            assert "javascript" in resp.headers["content-type"], (path, resp.headers["content-type"])
            todo += ["js/" + name[2:] for name in _imports(resp.text)]
        assert {"js/api.js", "js/forms.js", "js/results.js", "js/chat.js", "js/skills.js"} <= seen
        assert c.get("/pane.css").status_code == 200


def test_static_files_fetch_nothing_from_the_network_and_build_no_html_from_strings():
    texts = {p.name: p.read_text("utf-8") for p in STATIC.rglob("*") if p.suffix in {".html", ".js", ".css"}}
    assert len(texts) >= 7
    for name, text in texts.items():
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), name
        assert not re.search(r"""url\(\s*["']?(https?:)?//""", text), name
        assert not re.search(r"""@import""", text), name
        if name.endswith(".js"):
            for sink in (
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
                "eval(",
                "new Function",
            ):
                assert sink not in text, (name, sink)
            assert not re.search(r"fetch\(\s*[\"'`]https?:", text), name


def test_manifest_is_a_task_pane_add_in_for_word_and_excel_at_the_served_url(server):
    with httpx.Client(base_url=server.url) as c:
        resp = c.get("/manifest.xml")
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(resp.content)
        assert root.tag == f"{{{NS['o']}}}OfficeApp"
        assert root.get(f"{{{NS['xsi']}}}type") == "TaskPaneApp"
        uuid.UUID(root.findtext("o:Id", namespaces=NS))
        assert {h.get("Name") for h in root.findall("o:Hosts/o:Host", NS)} == {"Document", "Workbook"}
        assert root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") == server.url + "/"
        assert root.findtext("o:Permissions", namespaces=NS) == "ReadWriteDocument"
        overrides = root.find("ov:VersionOverrides", NS)
        assert {h.get(f"{{{NS['xsi']}}}type") for h in overrides.findall("ov:Hosts/ov:Host", NS)} == {
            "Document",
            "Workbook",
        }
        actions = overrides.findall(".//ov:Action", NS)
        assert len(actions) == 2 and all(a.get(f"{{{NS['xsi']}}}type") == "ShowTaskpane" for a in actions)
        # every resource id used is defined, and every URL points at this server and answers
        defined = {
            e.get("id") for e in overrides.iter() if e.get("id") and e.tag.startswith(f"{{{NS['bt']}}}")
        }
        used = {e.get("resid") for e in overrides.iter() if e.get("resid")}
        assert used <= defined, used - defined
        urls = [
            e.get("DefaultValue") for e in root.iter() if (e.get("DefaultValue") or "").startswith("http")
        ]
        assert len(urls) >= 8 and all(u.startswith(server.url + "/") for u in urls)
        for u in set(urls):
            got = c.get(u)
            assert got.status_code == 200, u
            if u.endswith(".png"):
                assert got.content.startswith(b"\x89PNG")
        again = ET.fromstring(c.get("/manifest.xml").content).findtext("o:Id", namespaces=NS)
        assert again == root.findtext("o:Id", namespaces=NS)  # sideloading it again updates one add-in


def test_manifest_escapes_the_host_and_refuses_other_schemes():
    xml = manifest_xml('https://pane.example:8443/a"b<c>&')
    root = ET.fromstring(xml.encode())
    assert root.find("o:DefaultSettings/o:SourceLocation", NS).get("DefaultValue") == (
        'https://pane.example:8443/a"b<c>&/'
    )
    other = ET.fromstring(manifest_xml("https://other.example").encode()).findtext("o:Id", namespaces=NS)
    assert other != root.findtext("o:Id", namespaces=NS)
    with pytest.raises(ValueError, match="http"):
        manifest_xml("javascript:alert(1)")
