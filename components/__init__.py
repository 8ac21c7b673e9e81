"""The import path of this program's components before they became the `homelab_mesh` package.

Kept only for state written by earlier versions: Pulumi's dynamic provider host loads the upgrade record's
provider by the module and class name dill stored (`components.version_record.VersionRecordProvider`), so this
path must keep answering for as long as such a record may be read or deleted (tests/test_state_compatibility.py).
New code imports `homelab_mesh`.
"""
