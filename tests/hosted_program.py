"""A Pulumi program that builds components the way the component provider host does (tests/
test_component_package.py): each case's inputs, camelCase as another language sends them, go through the SDK's
ComponentProvider.construct, which maps them to the args dict and calls the component. Exports each case's
state (the component's declared outputs), or the error it was refused with."""

import json
import os

import pulumi
from homelab_mesh import __version__
from homelab_mesh.provider import COMPONENTS, PACKAGE_NAME
from pulumi.provider.experimental.component import ComponentProvider

provider = ComponentProvider(list(COMPONENTS), PACKAGE_NAME, None, __version__)
for case in json.loads(os.environ["HOSTED_CASES"]):
    try:
        result = provider.construct(case["name"], case["type"], case["inputs"], None)
    except Exception as error:  # the host reports it as the construct's failure
        pulumi.export(f"{case['name']}:error", f"{type(error).__name__}: {error}")
    else:
        pulumi.export(case["name"], result.state)
