"""Every relative link in README.md and docs/*.md reaches a file, and every `#anchor` a heading of its target."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCED = re.compile(r"^```[^\n]*\n.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def prose(markdown: str) -> str:
    """The Markdown without fenced blocks, where `#` starts a shell comment rather than a heading."""
    return FENCED.sub("", markdown)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped except '-' and '_', spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Each heading's slug; GitHub suffixes a repeated one with -1, -2, ..."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(prose(markdown)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(markdown: str) -> list[str]:
    return LINK.findall(INLINE_CODE.sub("", prose(markdown)))


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for target in links(document.read_text()):
        if EXTERNAL.match(target):
            continue
        path, _, anchor = target.partition("#")
        file = (document.parent / path).resolve() if path else document
        if not file.exists():
            broken.append(f"{target}: no file {file.relative_to(root) if file.is_relative_to(root) else file}")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file.read_text())):
            broken.append(f"{target}: no heading #{anchor} in {file.relative_to(root)}")
    return broken


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda document: document.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(document: Path) -> None:
    assert broken_links(document) == []


def test_the_readme_links_to_every_document_in_docs() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links((ROOT / "README.md").read_text())}
    assert [document.name for document in DOCUMENTS[1:] if document not in linked] == []


def test_slugs_follow_githubs_rules() -> None:
    assert slug("Certificate renewal and drift (`renew.yml`)") == "certificate-renewal-and-drift-renewyml"
    assert slug("The homelab: 1.28.2 → 1.31.1") == "the-homelab-1282--1311"
    assert slug("Order within one `pulumi up`") == "order-within-one-pulumi-up"
    assert anchors("# Notes\n```bash\n# not a heading\n```\n## Notes\n") == {"notes", "notes-1"}


def test_a_missing_file_and_a_missing_anchor_are_reported(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n")
    document = tmp_path / "page.md"
    document.write_text(
        "[ok](other.md#a-section) [file](missing.md) [anchor](other.md#no-such) [here](#page) [web](https://x.org/#y)\n"
        "`[in code](missing.md)`\n\n# Page\n"
    )
    assert broken_links(document, tmp_path) == [
        "missing.md: no file missing.md",
        "other.md#no-such: no heading #no-such in other.md",
    ]
