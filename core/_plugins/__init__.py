"""Skills and plugins: ``@skill``, ``@plugin``, docstring parsing, the registry."""
