"""Microsoft 365 Copilot: the skills as a declarative agent with an API plugin.

``dualtrack m365 package --out app.zip --base-url https://host.example --name Dualtrack``
writes a Microsoft 365 app package (app manifest 1.27, declarative agent v1.8, API
plugin v2.4, the HTTP host's OpenAPI document cut down for Copilot, and the icons)
and a report of what Copilot cannot send. Sideload the zip in Teams (Apps, Manage
your apps, Upload an app) or give it to your admin for the Microsoft 365 admin center.

From Python::

    from dualtrack import Orchestrator
    from dualtrack.hosts.m365 import PackageOptions, build_package

    report = build_package(
        Orchestrator.from_config(),
        "app.zip",
        PackageOptions(name="Dualtrack", base_url="https://dualtrack.example.com"),
    )
    print(report.render())

Needs the HTTP host's OpenAPI generator: ``pip install 'dualtrack[m365]'`` (without it,
building raises :class:`~dualtrack.MissingDependencyError` naming the extra).
"""

from __future__ import annotations

from ._cli import run_cli
from ._flatten import FlatArguments, flatten_arguments
from ._icons import png_size
from ._manifests import AGENT_VERSION, APP_MANIFEST_VERSION, PLUGIN_VERSION
from ._options import AgentPackageError, PackageOptions, PluginAuth
from ._package import FUNCTION_NAME, LeftOut, PackageReport, build_package, package_files

__all__ = [
    "AGENT_VERSION",
    "APP_MANIFEST_VERSION",
    "FUNCTION_NAME",
    "PLUGIN_VERSION",
    "AgentPackageError",
    "FlatArguments",
    "LeftOut",
    "PackageOptions",
    "PackageReport",
    "PluginAuth",
    "build_package",
    "flatten_arguments",
    "package_files",
    "png_size",
    "run_cli",
]
