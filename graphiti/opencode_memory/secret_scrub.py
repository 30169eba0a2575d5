"""What is said in a turn can hold a secret (a pasted key, a private key block) or a span the user marked
`<private>`. Neither may reach the graph, the queue, the dead letters or a backup, so every episode is scrubbed before
it is queued. The provider rules are Yelp's detect-secrets (pinned in requirements.in), run over the whole text rather
than per line, so a match is removed whole; a few token formats it predates come from gitleaks' rule set."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

REMOVED = '[secret removed]'
PRIVATE_REMOVED = '[private]'

# detect-secrets' plugins that match a token's own shape. Left out: the entropy plugins (hashes, UUIDs and base64 in
# code are what a coding session is full of), the keyword plugin (it flags `password = os.environ[...]`) and public IPs.
LEFT_OUT_PLUGINS = {'Base64HighEntropyString', 'HexHighEntropyString', 'IPPublicDetector', 'KeywordDetector'}

# Formats newer than detect-secrets 1.5.0, after gitleaks' rules (config/gitleaks.toml: anthropic-api-key,
# openai-api-key, github-fine-grained-pat).
EXTRA_RULES = (
    re.compile(r'sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{80,120}AA'),
    re.compile(r'sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}'),
    re.compile(r'github_pat_[A-Za-z0-9_]{82}'),
)
# A private key block is removed from BEGIN to END (an unterminated one to the end of its base64 lines).
PRIVATE_KEY_BLOCK = re.compile(
    r'-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----'
    r'(?:.*?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|[A-Za-z0-9+/=:\s\-]*)',
    re.DOTALL,
)
PRIVATE_SPAN = re.compile(r'<private>.*?</private>', re.DOTALL | re.IGNORECASE)
UNCLOSED_PRIVATE = re.compile(r'<private>.*', re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Scrubbed:
    text: str
    secrets_removed: int
    private_spans_removed: int
    unclosed_private_span: bool


@lru_cache(maxsize=1)
def provider_rules() -> tuple[re.Pattern[str], ...]:
    rules: list[re.Pattern[str]] = []
    for plugin in sorted(get_mapping_from_secret_type_to_class().values(), key=lambda cls: cls.__name__):
        if plugin.__name__ in LEFT_OUT_PLUGINS:
            continue
        rules.extend(getattr(plugin, 'denylist', ()))
    return (*rules, *EXTRA_RULES)


def scrub(text: str) -> Scrubbed:
    """The text without `<private>` spans (an unclosed one runs to the end) and without anything a rule matches."""
    text, private_spans = PRIVATE_SPAN.subn(PRIVATE_REMOVED, text)
    text, unclosed = UNCLOSED_PRIVATE.subn(PRIVATE_REMOVED, text)
    text, removed = PRIVATE_KEY_BLOCK.subn(REMOVED, text)
    for rule in provider_rules():
        text, count = rule.subn(REMOVED, text)
        removed += count
    return Scrubbed(text, removed, private_spans, bool(unclosed))
