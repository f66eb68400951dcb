"""The Office Add-in manifest of the task pane (``GET /manifest.xml``), for sideloading into Word and Excel.

The manifest is an add-in only (XML) manifest of a ``TaskPaneApp`` for the
``Document`` (Word) and ``Workbook`` (Excel) hosts: the pane served at ``/``, a
"dualtrack" button on the Home tab that opens it, and the icons served beside
it. Every URL in it is built from the base URL the request reached, so the file
downloaded from a server works against that server; its ``<Id>`` is derived from
that base URL, so sideloading it again updates the same add-in. Office loads add-ins
over HTTPS only (``https://localhost`` is fine for development): serve behind a
TLS proxy, or start uvicorn with a certificate, before sideloading.
"""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["manifest_endpoint", "manifest_xml"]

_VERSION = "1.0.0.0"
_DESCRIPTION = (
    "Summarize, rewrite and review the open document or workbook with skills routed to "
    "in-house or partner models; writes wait for your confirmation."
)


def manifest_xml(base_url: str) -> str:
    """The manifest for a service reached at ``base_url`` (``https://host:port``, no trailing slash).

    Args:
        base_url: The scheme, host and port (and path prefix) the pane is served under.

    Returns:
        The manifest as XML text.

    Raises:
        ValueError: When ``base_url`` is not an http(s) URL.
    """
    base = base_url.rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise ValueError(f"the base URL must be http(s)://..., not {base_url!r}")
    addin_id = uuid.uuid5(uuid.NAMESPACE_URL, base + "/manifest.xml")

    def url(path: str) -> str:
        return quoteattr(base + path)

    hosts = "\n".join(_host_overrides(kind) for kind in ("Document", "Workbook"))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
           xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
           xmlns:ov="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
           xsi:type="TaskPaneApp">
  <Id>{addin_id}</Id>
  <Version>{_VERSION}</Version>
  <ProviderName>dualtrack</ProviderName>
  <DefaultLocale>en-US</DefaultLocale>
  <DisplayName DefaultValue="dualtrack"/>
  <Description DefaultValue={quoteattr(_DESCRIPTION)}/>
  <IconUrl DefaultValue={url("/icon-32.png")}/>
  <HighResolutionIconUrl DefaultValue={url("/icon-64.png")}/>
  <SupportUrl DefaultValue={url("/docs")}/>
  <AppDomains>
    <AppDomain>{escape(base)}</AppDomain>
  </AppDomains>
  <Hosts>
    <Host Name="Document"/>
    <Host Name="Workbook"/>
  </Hosts>
  <DefaultSettings>
    <SourceLocation DefaultValue={url("/")}/>
  </DefaultSettings>
  <Permissions>ReadWriteDocument</Permissions>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
                    xsi:type="VersionOverridesV1_0">
    <Hosts>
{hosts}
    </Hosts>
    <Resources>
      <bt:Images>
        <bt:Image id="Icon.16x16" DefaultValue={url("/icon-16.png")}/>
        <bt:Image id="Icon.32x32" DefaultValue={url("/icon-32.png")}/>
        <bt:Image id="Icon.80x80" DefaultValue={url("/icon-80.png")}/>
      </bt:Images>
      <bt:Urls>
        <bt:Url id="Taskpane.Url" DefaultValue={url("/")}/>
        <bt:Url id="Support.Url" DefaultValue={url("/docs")}/>
      </bt:Urls>
      <bt:ShortStrings>
        <bt:String id="Group.Label" DefaultValue="dualtrack"/>
        <bt:String id="Button.Label" DefaultValue="dualtrack"/>
        <bt:String id="GetStarted.Title" DefaultValue="dualtrack is ready"/>
      </bt:ShortStrings>
      <bt:LongStrings>
        <bt:String id="Button.Tooltip"
                   DefaultValue="Open the dualtrack pane: skills for this file, and a chat."/>
        <bt:String id="GetStarted.Description"
                   DefaultValue="Open the pane from the Home tab, then open the file to work on."/>
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
"""


def _host_overrides(kind: str) -> str:
    """The ribbon button of one host (``Document`` or ``Workbook``) that shows the pane."""
    return f"""      <Host xsi:type="{kind}">
        <DesktopFormFactor>
          <GetStarted>
            <Title resid="GetStarted.Title"/>
            <Description resid="GetStarted.Description"/>
            <LearnMoreUrl resid="Support.Url"/>
          </GetStarted>
          <ExtensionPoint xsi:type="PrimaryCommandSurface">
            <OfficeTab id="TabHome">
              <Group id="dualtrack.{kind}.Group">
                <Label resid="Group.Label"/>
                <Icon>
                  <bt:Image size="16" resid="Icon.16x16"/>
                  <bt:Image size="32" resid="Icon.32x32"/>
                  <bt:Image size="80" resid="Icon.80x80"/>
                </Icon>
                <Control xsi:type="Button" id="dualtrack.{kind}.Open">
                  <Label resid="Button.Label"/>
                  <Supertip>
                    <Title resid="Button.Label"/>
                    <Description resid="Button.Tooltip"/>
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Icon.16x16"/>
                    <bt:Image size="32" resid="Icon.32x32"/>
                    <bt:Image size="80" resid="Icon.80x80"/>
                  </Icon>
                  <Action xsi:type="ShowTaskpane">
                    <TaskpaneId>dualtrack.pane</TaskpaneId>
                    <SourceLocation resid="Taskpane.Url"/>
                  </Action>
                </Control>
              </Group>
            </OfficeTab>
          </ExtensionPoint>
        </DesktopFormFactor>
      </Host>"""


async def manifest_endpoint(request: Request) -> Response:
    """``GET /manifest.xml``: the manifest for the base URL this request reached."""
    base = str(request.base_url).rstrip("/")
    return Response(
        manifest_xml(base),
        media_type="application/xml",
        headers={
            "Content-Disposition": 'inline; filename="dualtrack-manifest.xml"',
            "Cache-Control": "no-cache",
        },
    )
