#!/usr/bin/env python3
"""Prints the Secret `opencode-memory-secrets` that deploy/opencode-memory-pod.yaml reads, from this shell's
environment, on stdout only (pipe it; it never touches a disk):

    python3 deploy/opencode-memory-secret.py --podman | podman secret create opencode-memory-secrets -
    python3 deploy/opencode-memory-secret.py | kubectl apply -f -

OPENCODE_SERVER_PASSWORD is required. FALKORDB_PASSWORD and VALKEY_PASSWORD are made here (random hex) when unset:
the servers only ever see them through this Secret, so a new pair per deploy is fine. OPENAI_API_KEY, B2_*,
BACKUP_ENCRYPTION_KEY, DD_API_KEY may be unset (empty values: that part stays off). The document is JSON, which is YAML too. With
--podman only the Secret's `data` map is printed: what `podman kube play` resolves a secretKeyRef against (Podman
4.3 reads a podman secret holding that JSON map; later versions read it too).
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import sys

NAME = 'opencode-memory-secrets'
REQUIRED = {'opencode-server-password': 'OPENCODE_SERVER_PASSWORD'}
GENERATED = {'falkordb-password': 'FALKORDB_PASSWORD', 'valkey-password': 'VALKEY_PASSWORD'}
OPTIONAL = {
    'openai-api-key': 'OPENAI_API_KEY',
    'b2-application-key-id': 'B2_APPLICATION_KEY_ID',
    'b2-application-key': 'B2_APPLICATION_KEY',
    'b2-bucket': 'B2_BUCKET',
    # the age key backups are encrypted to (scripts/backup --new-key); never made here, since a new one per deploy
    # would leave every earlier backup unreadable. Unset: the sidecar's backups refuse in one line (exit 78).
    'backup-encryption-key': 'BACKUP_ENCRYPTION_KEY',
    'datadog-api-key': 'DD_API_KEY',
}
# FalkorDB and Valkey read the password as a config line: one word, no quotes or spaces.
SERVER_PASSWORD = re.compile(r'^[A-Za-z0-9_.~+/=-]{16,}$')


def build(environ: dict[str, str]) -> dict[str, object]:
    missing = [variable for variable in REQUIRED.values() if not environ.get(variable)]
    if missing:
        raise SystemExit(f'opencode-memory-secret: set {", ".join(missing)} (nothing printed)')
    data = {key: environ[variable] for key, variable in REQUIRED.items()}
    for key, variable in GENERATED.items():
        value = environ.get(variable) or secrets.token_hex(24)
        if not SERVER_PASSWORD.match(value):
            raise SystemExit(f'opencode-memory-secret: {variable} must be 16+ characters of A-Z a-z 0-9 _.~+/=- '
                             '(it becomes a server config line); unset it to have one made')
        data[key] = value
    data.update({key: environ.get(variable, '') for key, variable in OPTIONAL.items()})
    # `data` (base64) rather than `stringData`: both Kubernetes and Podman's secretKeyRef read it.
    encoded = {key: base64.b64encode(value.encode()).decode('ascii') for key, value in data.items()}
    return {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': NAME}, 'type': 'Opaque', 'data': encoded}


def main() -> int:
    if sys.stdout.isatty():
        print('opencode-memory-secret: refusing to print secrets to a terminal; pipe it into '
              '`podman secret create opencode-memory-secrets -` or `kubectl apply -f -`', file=sys.stderr)
        return 2
    document = build(dict(os.environ))
    json.dump(document['data'] if '--podman' in sys.argv[1:] else document, sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
