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
    page = ('# Benchmarks\n## Platforms: linux/arm64 under QEMU\n```sh\n# not a heading\n```\n'
            '## OpenCode\'s `db`, 1,000 sessions\n')
    assert anchors(page) == {'benchmarks', 'platforms-linuxarm64-under-qemu', 'opencodes-db-1000-sessions'}


def test_the_check_catches_a_renamed_file():
    assert named_paths('see `deploy/opencode-memory-pod.yaml`, and `tests/pod/` too.') == [
        'deploy/opencode-memory-pod.yaml', 'tests/pod/']
    assert not (REPO / 'deploy' / 'opencode-memory-pod.yaml').exists()


# `bash tools/harness/prove-image.sh --keep`, `/app/scripts/restore --list`: a repository script and the options it is
# given, in inline code or a line of a code block, up to a pipe, `;`, `&&` or a comment
SCRIPT_CALL = re.compile(r'(?:^|[\s`(])(?:/app/)?((?:tools|scripts|deploy)/[\w./-]+)([^`|;&#\n]*)')
OPTION = re.compile(r'(?<![\w-])(--[a-z][a-z0-9-]*)')
CODE = re.compile(r'```.*?```|`[^`\n]+`', re.DOTALL)


def script_options(text: str) -> list[tuple[str, str]]:
    """(script, option) for every option a doc passes to a script of the repository."""
    found = []
    for code in CODE.findall(text):
        for line in code.strip('`').splitlines():
            for script, arguments in SCRIPT_CALL.findall(line):
                found += [(script.rstrip('.,:'), option) for option in OPTION.findall(arguments)]
    return found


# An entry point that hands over to a module beside it (scripts/backup: `from backup_lib.backup_cli import main`).
ENTRY_MODULE = re.compile(r'^from (\w+)\.(\w+) import', re.MULTILINE)
# A script that execs its arguments takes a command, whose options are not its own (scripts/check-secrets).
EXECS_ITS_ARGUMENTS = re.compile(r'exec "\$@"|os\.execvpe?\(')


def accepted_text(script: Path) -> str | None:
    """Where a script's options are written: its own text and the modules it hands over to; None when its arguments
    are a command."""
    text = script.read_text()
    if EXECS_ITS_ARGUMENTS.search(text):
        return None
    modules = [script.parent / package / f'{module}.py' for package, module in ENTRY_MODULE.findall(text)]
    return '\n'.join([text, *(module.read_text() for module in modules if module.is_file())])


@pytest.mark.parametrize('doc', DOCS, ids=lambda path: str(path.relative_to(REPO)))
def test_every_option_the_doc_passes_to_a_script_is_one_it_takes(doc):
    unknown = set()
    for script, option in script_options(doc.read_text()):
        accepted = accepted_text(REPO / script) if (REPO / script).is_file() else None
        if accepted is not None and option not in accepted:
            unknown.add(f'{script} {option}')
    assert sorted(unknown) == [], f'{doc.relative_to(REPO)} passes options the scripts do not take: {sorted(unknown)}'


def test_the_option_check_reads_commands_in_code():
    text = ('Run `bash tools/harness/prove-image.sh --engine docker | tee log` or\n'
            '```sh\n/app/scripts/restore --list  # x\n```')
    assert script_options(text) == [('tools/harness/prove-image.sh', '--engine'), ('scripts/restore', '--list')]
    assert '--engine' not in (REPO / 'tools' / 'harness' / 'prove-image.sh').read_text()
