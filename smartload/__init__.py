"""smartload: plans when each EV and the home battery charge, next to evcc."""

# The one place the version is written: pyproject.toml reads it (setuptools' attr, without
# importing the package), `smartload --version` and the API print it.
__version__ = "0.1.0"
