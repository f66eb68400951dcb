"""Built-in plugins, written with the public API only, as a third party would."""
