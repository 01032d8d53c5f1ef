"""What the code cites is in the repository: every `wire-reference "Section"` and docs/design.md section exists, and
no source points at a document or path that a person who clones the project does not have."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apigw_doctor import cli, wire

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SOURCES = sorted(
    p for d in ("addons", "tests", "bench") for p in (REPO / d).rglob("*.py") if p != Path(__file__).resolve()
)
TEXTS = [*SOURCES, REPO / "README.md", REPO / "bench" / "README.md"]
CHECKED = [p for p in TEXTS if p != Path(__file__)]  # this file names the forbidden patterns


def _headings(doc: Path) -> set[str]:
    return {m[1].strip() for m in re.finditer(r"^#{2,3} (.+)$", doc.read_text(), re.M)}


def _joined(path: Path) -> str:
    """The file with comment and docstring line breaks undone, so a citation split over two lines is read whole."""
    return re.sub(r"\s*\n\s*(?:# ?)?", " ", path.read_text())


def test_the_documents_exist():
    assert (DOCS / "design.md").is_file()
    assert (DOCS / "wire-reference.md").is_file()


def test_every_wire_reference_citation_names_a_section_that_exists():
    sections = _headings(DOCS / "wire-reference.md")
    cited: dict[str, set[str]] = {}
    for path in SOURCES:
        for match in re.finditer(r'wire-reference(?:\.md)?,? ("[^"]+"(?:, (?:and )?"[^"]+")*)', _joined(path)):
            for name in re.findall(r'"([^"]+)"', match[1]):
                cited.setdefault(name, set()).add(path.name)
    assert len(cited) >= 10  # the code cites it widely; a broken pattern here would make this test pass vacuously
    missing = {name: sorted(files) for name, files in cited.items() if name not in sections}
    assert not missing


def test_every_design_citation_names_a_section_that_exists():
    sections = _headings(DOCS / "design.md")
    cited = {
        name
        for path in TEXTS
        for name in re.findall(r'docs/design\.md, \(?"([^"]+)"', _joined(path))  # `docs/design.md: "..."` quotes
    }
    assert cited
    assert cited <= sections, cited - sections


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(REPO)))
def test_no_source_cites_a_document_outside_the_repository(path: Path):
    text = path.read_text()
    assert not re.search(r"\bREF §|\bref §|DESIGN\.md|reference/apigw|mitmproxy12-notes|test-bed\.md|anchors\.md", text)
    assert not re.search(r"/work/|/root/|/home/\w", text)


def test_the_wire_texts_are_listed_in_the_wire_reference():
    """Each recognised text (wire.py) appears in docs/wire-reference.md, where its source is named."""
    reference = (DOCS / "wire-reference.md").read_text().lower()
    texts = [v for k, v in vars(wire).items() if k.isupper() and isinstance(v, str)]
    texts += [t for k, v in vars(wire).items() if k.isupper() and isinstance(v, tuple) for t in v]
    missing = [t for t in texts if t.lower().rstrip(".") not in reference]
    assert not missing


def test_analyze_help_points_at_the_documents(capsys):
    with pytest.raises(SystemExit):
        cli.main(["analyze", "--help"])
    assert "docs/design.md" in capsys.readouterr().out
