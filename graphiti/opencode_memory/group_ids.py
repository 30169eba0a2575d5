"""Group ids: one graph per OpenCode project, named safely for FalkorDB and graphiti."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

GROUP_ID_PATTERN = re.compile(r'^[A-Za-z0-9_-]{1,128}$')
# Derived ids avoid '-': graphiti's FalkorDB fulltext filter cannot match hyphenated group ids
# (getzep/graphiti #1483, fix pending in #1845), so BM25 search would silently find nothing.
_UNSAFE_RUN = re.compile(r'[^A-Za-z0-9]+')
MAX_READABLE_PART = 40
HASH_CHARS = 12


class InvalidGroupId(ValueError):
    pass


def group_id_for_project_dir(project_dir: str) -> str:
    """`<readable basename>_<hash of the full path>`: stable, distinct for same-named projects."""
    if not project_dir or not project_dir.strip():
        raise InvalidGroupId('project_dir is empty')
    if '\x00' in project_dir:
        raise InvalidGroupId('project_dir contains a NUL byte')
    normalised = os.path.normpath(project_dir)
    digest = hashlib.sha256(normalised.encode('utf-8', 'surrogatepass')).hexdigest()[:HASH_CHARS]
    ascii_name = unicodedata.normalize('NFKD', os.path.basename(normalised)).encode('ascii', 'ignore').decode()
    readable = _UNSAFE_RUN.sub('_', ascii_name).strip('_')[:MAX_READABLE_PART].strip('_')
    return f'{readable}_{digest}' if readable else f'project_{digest}'


def validate_group_id(group_id: object) -> str:
    if not isinstance(group_id, str) or not GROUP_ID_PATTERN.match(group_id):
        shown = repr(group_id)[:60]
        raise InvalidGroupId(f'group_id {shown} must match [A-Za-z0-9_-]{{1,128}}')
    return group_id


def resolve_group_id(group_id: object = None, project_dir: object = None) -> str:
    if group_id not in (None, ''):
        return validate_group_id(group_id)
    if isinstance(project_dir, str):
        return group_id_for_project_dir(project_dir)
    raise InvalidGroupId('give project_dir (a string) or group_id')
