"""Whether a build leaves a path of its context out: the context's .containerignore, else its .dockerignore, read as
Docker's pattern matcher reads it (in order, the last matching pattern wins, "!" takes a path back, `**` spans
folders, `*` and `?` stay within one, a pattern that matches a folder covers everything under it)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path


def _regex(pattern: str) -> re.Pattern[str]:
    parts, index = [], 0
    while index < len(pattern):
        if pattern.startswith('**/', index):
            parts.append('(?:.*/)?'); index += 3
        elif pattern.startswith('**', index):
            parts.append('.*'); index += 2
        elif pattern[index] == '*':
            parts.append('[^/]*'); index += 1
        elif pattern[index] == '?':
            parts.append('[^/]'); index += 1
        else:
            parts.append(re.escape(pattern[index])); index += 1
    return re.compile(''.join(parts) + '(?:/.*)?')


@cache
def _rules(context: Path) -> tuple[tuple[bool, re.Pattern[str]], ...]:
    for name in ('.containerignore', '.dockerignore'):
        file = context / name
        if file.is_file():
            break
    else:
        return ()
    rules = []
    for line in file.read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith('#'):
            continue
        negated = pattern.startswith('!')
        pattern = pattern.lstrip('!').strip().removeprefix('./').strip('/')
        rules.append((negated, _regex(pattern)))
    return tuple(rules)


def ignored_by_context(context: Path, path: str) -> bool:
    """`path` is relative to the context, with forward slashes."""
    ignored = False
    for negated, regex in _rules(context):
        if regex.fullmatch(path):
            ignored = not negated
    return ignored
