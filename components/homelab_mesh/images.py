"""Image references through an optional registry mirror that keeps each image's repository path."""

from __future__ import annotations


def mirrored(image: str, registry: str | None) -> str:
    """`quay.io/metallb/controller` through `registry.lan:5000` -> `registry.lan:5000/metallb/controller`.

    A reference without a registry host (`traefik/whoami`) is a Docker Hub image, as container runtimes read it.
    """
    if not registry:
        return image
    first, _, rest = image.partition("/")
    has_host = bool(rest) and ("." in first or ":" in first or first == "localhost")
    return f"{registry}/{rest if has_host else image}"
