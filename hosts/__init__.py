"""Ways into dualtrack from other hosts: MCP, Semantic Kernel, Microsoft Agent Framework, HTTP.

Each host is a subpackage behind its own extra and imports only dualtrack's public API;
nothing here is imported by ``import dualtrack``.
"""

__all__: list[str] = []
