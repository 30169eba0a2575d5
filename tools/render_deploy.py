#!/usr/bin/env python3
"""Renders deploy/'s manifests for `podman kube play` from the Helm chart (charts/opencode-server) with
deploy/podman-values.yaml, so the chart is their one source; with --check exits 1 when a committed file differs.

    python3 tools/render_deploy.py [--check]

Helm is the pinned one tools/setup.sh builds into .tools/bin.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HELM = REPO / '.tools' / 'bin' / 'helm'
CHART = REPO / 'charts' / 'opencode-server'
PODMAN_VALUES = REPO / 'deploy' / 'podman-values.yaml'
RELEASE = 'opencode-memory'
# not `default` (checkov CKV_K8S_21); Podman ignores it
NAMESPACE = 'opencode'
# each file and the chart template it is rendered from
RENDERED = {
    REPO / 'deploy' / 'opencode-memory.yaml': 'templates/deployment.yaml',
    REPO / 'deploy' / 'opencode-memory-volumes.yaml': 'templates/persistentvolumeclaims.yaml',
}
HEADER = ('# Rendered from charts/opencode-server ({template}) with deploy/podman-values.yaml by\n'
          '# `python3 tools/render_deploy.py`: edit the chart or the values, not this file. README "The pod" says how to\n'
          '# play it; with Kubernetes, `helm install` the chart instead.\n')


def helm_template(*arguments: str) -> str:
    result = subprocess.run([str(HELM), 'template', RELEASE, str(CHART), '--namespace', NAMESPACE, *arguments], capture_output=True, text=True,
                            timeout=120, check=False)
    if result.returncode != 0:
        raise SystemExit(f'render_deploy: helm template failed: {result.stderr.strip()}')
    return result.stdout


def rendered(template: str) -> str:
    text = helm_template('--values', str(PODMAN_VALUES), '--show-only', template)
    body = '\n'.join(line for line in text.splitlines() if not line.startswith('# Source: ')).lstrip('-\n')
    return HEADER.format(template=template) + '---\n' + body.rstrip() + '\n'


def shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main(arguments: list[str]) -> int:
    if not HELM.exists():
        print(f'render_deploy: {HELM} is missing: run tools/setup.sh', file=sys.stderr)
        return 2
    stale = []
    for path, template in RENDERED.items():
        text = rendered(template)
        if '--check' in arguments:
            if not path.exists() or path.read_text() != text:
                stale.append(shown(path))
        else:
            path.write_text(text)
            print(f'wrote {shown(path)}')
    if stale:
        print(f'render_deploy: {", ".join(stale)} differ from the chart: run python3 tools/render_deploy.py',
              file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
