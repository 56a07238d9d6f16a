"""The ``catalog-ml`` command: one module per command, one dispatch style."""
