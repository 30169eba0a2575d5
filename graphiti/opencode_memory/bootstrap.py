"""Process-wide settings that must be in place before graphiti_core is imported."""

from __future__ import annotations

import importlib.util
import os
import sys


def prepare_graphiti_import() -> None:
    # Graphiti phones home (PostHog) unless told not to; off unless the user chose otherwise.
    os.environ.setdefault('GRAPHITI_TELEMETRY_ENABLED', 'false')
    # graphiti-core 0.31.2 imports `httpx` without declaring it; openai 3.x ships the `httpx2`
    # fork instead. When httpx is absent, httpx2 (same API) stands in so the import succeeds and
    # graphiti's isinstance(…, httpx.HTTPStatusError) checks see the errors openai really raises.
    if importlib.util.find_spec('httpx') is None and importlib.util.find_spec('httpx2') is not None:
        import httpx2

        sys.modules['httpx'] = httpx2
