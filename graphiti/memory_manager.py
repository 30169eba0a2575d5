#!/usr/bin/env python3
"""Entry point of the OpenCode memory manager; see `python memory_manager.py --help`."""

from __future__ import annotations

import os
import sys

# Runs as a script from /root/.opencode/graphiti/: make the sibling package importable.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from opencode_memory.bootstrap import prepare_graphiti_import  # noqa: E402

prepare_graphiti_import()

from opencode_memory.cli import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
