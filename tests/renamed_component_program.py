"""The homelab's tekton-builds namespace from a program that renames its MeshedNamespace (`tekton`, after
`mesh-tekton-builds` in the stacks written before the package) with the alias a Pulumi user writes
(tests/test_urns.py). `NESTED=1` puts it under a component of the program's own."""

import os

import pulumi
from homelab_mesh import MeshedNamespace

args = {"name": "tekton-builds", "cluster": {"identifier": "default", "context": "homelab"}}
aliases: list = [pulumi.Alias(name="mesh-tekton-builds")] if os.environ.get("RENAMED_WITH_ALIAS") == "1" else []
parent = pulumi.ComponentResource("example:index:Mesh", "mesh") if os.environ.get("NESTED") == "1" else None
MeshedNamespace("tekton", args, opts=pulumi.ResourceOptions(aliases=aliases, parent=parent))
