"""The image's Python lock (graphiti/requirements.lock) installs on both platforms the image is built for.

The Containerfile runs `pip install --require-hashes --only-binary :all:`, so on linux/amd64 and on linux/arm64 every
requirement that applies there needs a wheel whose hash is in the lock and whose tags pip accepts for the image's
CPython (3.11, Debian bookworm's; glibc 2.36): a pure-Python wheel (`none-any`) serves both, a binary package needs a
manylinux wheel for x86_64 AND one for aarch64. Which file a locked hash stands for is read from PyPI's JSON index
(filenames and sha256, no wheel is downloaded), so this takes seconds; the arm64 build itself is tests/arm64.
"""

from __future__ import annotations

import json
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / 'graphiti' / 'requirements.lock'
# The interpreter and C library of the base the image is built on (node:20-slim: Debian bookworm).
PYTHON_VERSION = (3, 11, 2)
GLIBC = (2, 36)
ARCHITECTURES = ('x86_64', 'aarch64')


@dataclass(frozen=True)
class Requirement:
    name: str
    version: str
    marker: str
    hashes: frozenset[str]


def parse_lock(text: str) -> list[Requirement]:
    """`name==version [; marker] \\` followed by `--hash=sha256:...` lines, as `uv pip compile --generate-hashes` writes."""
    requirements = []
    for block in re.split(r'\n(?=[A-Za-z0-9])', text):
        head = re.match(r'([A-Za-z0-9._-]+)==([^\s;\\]+)\s*(?:;\s*([^\\\n]+?))?\s*\\?\n', block)
        if head:
            requirements.append(Requirement(head[1].lower(), head[2], (head[3] or '').strip(),
                                            frozenset(re.findall(r'--hash=sha256:([0-9a-f]{64})', block))))
    return requirements


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r'\d+', text))


def marker_applies(marker: str, python: tuple[int, ...]) -> bool:
    """The environment markers uv writes here (`python_full_version`/`python_version` comparisons, `sys_platform`,
    joined with and/or), evaluated for Linux and PYTHON. Anything else is an error, not a guess."""
    if not marker:
        return True
    values = {'python_full_version': python, 'python_version': python[:2], 'sys_platform': 'linux',
              'platform_system': 'Linux'}
    operators = {'<': lambda a, b: a < b, '<=': lambda a, b: a <= b, '>': lambda a, b: a > b,
                 '>=': lambda a, b: a >= b, '==': lambda a, b: a == b, '!=': lambda a, b: a != b}

    def clause(text: str) -> bool:
        match = re.fullmatch(r"\s*(\w+)\s*(<=|>=|==|!=|<|>)\s*'([^']*)'\s*", text)
        assert match and match[1] in values, f'marker clause not understood: {text!r}'
        left = values[match[1]]
        right = match[3] if isinstance(left, str) else _version(match[3])
        return operators[match[2]](left, right)

    return any(all(clause(part) for part in alternative.split(' and ')) for alternative in marker.split(' or '))


def wheel_installs(filename: str, python: tuple[int, ...], architecture: str) -> bool:
    """Whether pip on CPython PYTHON, Linux/glibc GLIBC, ARCHITECTURE accepts this wheel (its compressed tag sets)."""
    if not filename.endswith('.whl'):
        return False
    python_tags, abi_tags, platform_tags = (set(part.split('.')) for part in filename[:-4].split('-')[-3:])
    cp = f'cp{python[0]}{python[1]}'
    abi3_ok = any(re.fullmatch(r'cp3(\d+)', tag) and int(tag[3:]) <= python[1] for tag in python_tags)
    interpreter = bool(python_tags & {'py3', f'py{python[0]}{python[1]}', cp}) or ('abi3' in abi_tags and abi3_ok)
    abi = bool(abi_tags & {'none', cp}) or ('abi3' in abi_tags and abi3_ok)

    def platform(tag: str) -> bool:
        if tag == 'any':
            return True
        legacy = {'manylinux1': (2, 5), 'manylinux2010': (2, 12), 'manylinux2014': (2, 17)}
        match = re.fullmatch(r'(manylinux1|manylinux2010|manylinux2014|manylinux_(\d+)_(\d+))_(\w+)', tag)
        if not match or match[4] != architecture:
            return False
        needs = legacy.get(match[1]) or (int(match[2]), int(match[3]))
        return needs <= GLIBC

    return interpreter and abi and any(platform(tag) for tag in platform_tags)


def pypi_files(requirement: Requirement) -> dict[str, str]:
    """sha256 -> filename of every file PyPI has for this project, from its JSON simple index (PEP 691, what pip
    reads; the per-release /pypi/NAME/VERSION/json is not served by every mirror, this machine's included)."""
    request = urllib.request.Request(f'https://pypi.org/simple/{requirement.name}/',
                                     headers={'Accept': 'application/vnd.pypi.simple.v1+json'})
    with urllib.request.urlopen(request, timeout=60) as response:
        project = json.load(response)
    return {file['hashes']['sha256']: file['filename'] for file in project['files'] if 'sha256' in file['hashes']}


def test_the_lock_parser_reads_every_pinned_requirement():
    requirements = parse_lock(LOCK.read_text())
    assert len(requirements) == len(re.findall(r'^[A-Za-z0-9][\w.-]*==', LOCK.read_text(), re.M))
    assert all(requirement.hashes for requirement in requirements)
    assert not marker_applies("python_full_version >= '3.12' and sys_platform == 'emscripten'", PYTHON_VERSION)
    assert marker_applies("python_full_version < '3.12'", PYTHON_VERSION)


@pytest.mark.parametrize(('filename', 'architecture', 'installs'), [
    ('numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl', 'aarch64', True),
    ('numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl', 'x86_64', False),
    ('numpy-2.4.6-cp311-cp311-musllinux_1_2_aarch64.whl', 'aarch64', False),
    ('numpy-2.4.6-cp312-cp312-manylinux_2_27_x86_64.whl', 'x86_64', False),
    ('x-1.0-cp39-abi3-manylinux2014_aarch64.whl', 'aarch64', True),
    ('x-1.0-cp311-cp311-manylinux_2_39_x86_64.whl', 'x86_64', False),
    ('six-1.17.0-py2.py3-none-any.whl', 'aarch64', True),
    ('six-1.17.0.tar.gz', 'x86_64', False),
])
def test_wheel_tags_are_judged_as_pip_judges_them(filename, architecture, installs):
    assert wheel_installs(filename, PYTHON_VERSION, architecture) is installs


def wheels_missing(files: dict[Requirement, dict[str, str]]) -> list[str]:
    """'name==version (architecture)' for each requirement none of whose locked files pip would install there."""
    missing = []
    for requirement, by_hash in files.items():
        locked = [by_hash[digest] for digest in requirement.hashes if digest in by_hash]
        for architecture in ARCHITECTURES:
            if not any(wheel_installs(name, PYTHON_VERSION, architecture) for name in locked):
                missing.append(f'{requirement.name}=={requirement.version} ({architecture})')
    return missing


def test_a_binary_package_locked_for_x86_64_only_is_reported_for_aarch64():
    numpy = Requirement('numpy', '2.4.6', '', frozenset({'a' * 64}))
    six = Requirement('six', '1.17.0', '', frozenset({'b' * 64}))
    files = {numpy: {'a' * 64: 'numpy-2.4.6-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl',
                     'c' * 64: 'numpy-2.4.6-cp311-cp311-manylinux_2_27_aarch64.manylinux_2_28_aarch64.whl'},
             six: {'b' * 64: 'six-1.17.0-py2.py3-none-any.whl'}}
    assert wheels_missing(files) == ['numpy==2.4.6 (aarch64)']


def test_every_locked_requirement_has_a_hashed_wheel_for_linux_x86_64_and_aarch64():
    applicable = [r for r in parse_lock(LOCK.read_text()) if marker_applies(r.marker, PYTHON_VERSION)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        files = dict(zip(applicable, pool.map(pypi_files, applicable)))
    for requirement in applicable:
        assert requirement.hashes & set(files[requirement]), (
            f'{requirement.name}=={requirement.version}: no locked hash is a file PyPI has')
    missing = wheels_missing(files)
    assert not missing, f'no locked wheel installs on CPython {PYTHON_VERSION[:2]} linux for: {", ".join(missing)}'
    # The check saw the binary packages that need a wheel per platform (were there none, it would prove nothing).
    binary = {requirement.name for requirement in applicable
              if not any(files[requirement].get(digest, '').endswith('-any.whl') for digest in requirement.hashes)}
    assert {'numpy', 'pydantic-core', 'jiter', 'ddtrace'} <= binary, binary
