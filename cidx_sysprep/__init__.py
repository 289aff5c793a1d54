"""cidx-sysprep: keep fork() working on hosts whose processes map more than the host has."""

__version__ = "1.0.0"
