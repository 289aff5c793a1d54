"""The CIDX server's auto-updater: deploy a new version, then prepare the host for it."""
