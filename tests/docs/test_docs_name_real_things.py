"""The docs name only what exists: every repository path written in backticks and every relative link in the README
and the docs resolves to a file or folder of the repository (a renamed or deleted file fails here, not in a reader's
shell)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = sorted([REPO / 'README.md', *REPO.glob('docs/**/*.md'), REPO / 'scripts' / 'README.md', REPO / 'graphiti' / 'README.md',
               REPO / 'tools' / 'harness' / 'README.md', REPO / 'charts' / 'opencode-server' / 'README.md'])
TOP_LEVEL = ('.ci', '.github', 'charts', 'containers', 'dagger', 'deploy', 'docs', 'graphiti', 'plugin', 'scripts', 'tests',
             'tools')
# `dagger/src/index.ts`, `tests/pod/`, `tools/render_deploy.py --check`: a path is the first word in backticks
BACKTICKED_PATH = re.compile(r'`((?:%s)/[^`\s]*)' % '|'.join(re.escape(name) for name in TOP_LEVEL))
# written like a path, but GitHub repositories, not files here
UPSTREAM_REPOSITORIES = {'dagger/dagger'}
LINK = re.compile(r'\]\(([^)#\s]+)(?:#[^)]*)?\)')
# a link into a section: [text](page.md#anchor), or (#anchor) on the same page
SECTION_LINK = re.compile(r'\]\(([^)#\s]*\.md|)#([^)\s]+)\)')
HEADING = re.compile(r'^#{1,6} (.+?)\s*$', re.MULTILINE)
FENCE = re.compile(r'^```.*?^```', re.MULTILINE | re.DOTALL)


def anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    headings = HEADING.findall(FENCE.sub('', markdown))
    return {re.sub(r'[^\w\- ]', '', heading.replace('`', '')).lower().replace(' ', '-') for heading in headings}


def named_paths(text: str) -> list[str]:
    found = []
    for match in BACKTICKED_PATH.finditer(text):
        path = re.sub(r'(::.*|:\d+.*|[,.;:)]+)$', '', match.group(1))
        if path not in UPSTREAM_REPOSITORIES and not any(mark in path for mark in ('*', '<', '{', '$', '…')):
            found.append(path)
    return found


@pytest.mark.parametrize('doc', DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_path_the_doc_names_exists(doc):
    text = doc.read_text()
    missing = sorted({path for path in named_paths(text) if not (REPO / path).exists()})
    assert missing == [], f'{doc.relative_to(REPO)} names paths that do not exist: {missing}'


@pytest.mark.parametrize('doc', DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_relative_link_resolves(doc):
    links = [target for target in LINK.findall(doc.read_text()) if '://' not in target and not target.startswith('mailto:')]
    missing = sorted({target for target in links if not (doc.parent / target).exists()})
    assert missing == [], f'{doc.relative_to(REPO)} links to what does not exist: {missing}'


@pytest.mark.parametrize('doc', DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_link_into_a_section_finds_its_heading(doc):
    broken = []
    for page, anchor in SECTION_LINK.findall(doc.read_text()):
        target = doc.parent / page if page else doc
        if target.is_file() and anchor not in anchors(target.read_text()):
            broken.append(f'{page}#{anchor}')
    assert broken == [], f'{doc.relative_to(REPO)} links to sections that do not exist: {broken}'


def test_the_anchor_check_reads_headings_as_github_does():
    page = '# Benchmarks\n## Platforms: linux/arm64 under QEMU\n```sh\n# not a heading\n```\n## OpenCode\'s `db`, 1,000 sessions\n'
    assert anchors(page) == {'benchmarks', 'platforms-linuxarm64-under-qemu', 'opencodes-db-1000-sessions'}


def test_the_check_catches_a_renamed_file():
    assert named_paths('see `deploy/opencode-memory-pod.yaml`, and `tests/pod/` too.') == [
        'deploy/opencode-memory-pod.yaml', 'tests/pod/']
    assert not (REPO / 'deploy' / 'opencode-memory-pod.yaml').exists()
