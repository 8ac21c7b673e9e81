"""Where earlier versions' state finds the upgrade record's provider (see components/__init__.py)."""

from homelab_mesh.version_record import VersionRecordProvider

__all__ = ["VersionRecordProvider"]
