"""The component package's entry point: the Pulumi language host runs this file (PulumiPlugin.yaml, runtime
python) in a virtualenv where this folder is pip-installed, and it serves the public components of
homelab_mesh under the package name `homelab-mesh` (docs/library.md)."""

from homelab_mesh import __version__
from homelab_mesh.provider import host

if __name__ == "__main__":
    host(__version__)
