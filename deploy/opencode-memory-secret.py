#!/usr/bin/env python3
"""Makes the Secret the chart (charts/opencode-server, `secrets.existingSecret`) and deploy/opencode-memory.yaml read,
from this shell's environment; nothing is written to disk or put on a command line:

    python3 deploy/opencode-memory-secret.py | kubectl apply -f -        # Kubernetes: the Secret opencode-memory-secrets
    python3 deploy/opencode-memory-secret.py --podman-create             # Podman 4.3: one Secret per container
    python3 deploy/opencode-memory-secret.py --podman-remove-volumes     # Podman 4.3: after `kube down` (see below)

OPENCODE_SERVER_PASSWORD is required. FALKORDB_PASSWORD and VALKEY_PASSWORD are made here (random hex) when unset:
the servers only ever see them through the Secret, so a new pair per deploy is fine. OPENAI_API_KEY,
B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY, BACKUP_ENCRYPTION_KEY and DD_API_KEY are left out when unset: a container
that reads such a key then does not start (Kubernetes names the missing key; with Podman the container stops with one
line naming its NAME_FILE variable).

In Kubernetes each container mounts only its keys of the one Secret (`items`). Podman 4.3's `kube play` differs in
three ways this handles: it ignores `items`, so --podman-create makes a Secret per container
(`opencode-memory-secrets-<container>`, the chart's `secrets.perContainerSecrets`) holding just its keys; it writes a
Secret's `data` into the files without base64-decoding them (podman#16625), so those hold plain values (Podman 4.4 and
later decode as Kubernetes does); and it copies each Secret into a volume of the Secret's name that `kube down` leaves
and the next play reuses as it is, hence --podman-remove-volumes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys

NAME = 'opencode-memory-secrets'
REQUIRED = {'opencode-server-password': 'OPENCODE_SERVER_PASSWORD'}
GENERATED = {'falkordb-password': 'FALKORDB_PASSWORD', 'valkey-password': 'VALKEY_PASSWORD'}
OPTIONAL = {
    'openai-api-key': 'OPENAI_API_KEY',
    'b2-application-key-id': 'B2_APPLICATION_KEY_ID',
    'b2-application-key': 'B2_APPLICATION_KEY',
    # the age key backups are encrypted to (scripts/backup --new-key); never made here, since a new one per deploy
    # would leave every earlier backup unreadable.
    'backup-encryption-key': 'BACKUP_ENCRYPTION_KEY',
    'datadog-api-key': 'DD_API_KEY',
}
# Each container and the keys it reads, as the chart mounts them (tests/deploy checks the two agree).
KEYS_OF_CONTAINER = {
    'opencode-server': ('opencode-server-password', 'falkordb-password', 'valkey-password', 'openai-api-key'),
    'falkordb': ('falkordb-password',),
    'valkey': ('valkey-password',),
    'opencode-backup': ('falkordb-password', 'valkey-password', 'b2-application-key-id', 'b2-application-key',
                        'backup-encryption-key'),
    'datadog-agent': ('datadog-api-key',),
}
# FalkorDB and Valkey read the password as a config line: one word, no quotes or spaces.
SERVER_PASSWORD = re.compile(r'^[A-Za-z0-9_.~+/=-]{16,}$')


def podman_secret_names() -> list[str]:
    return [f'{NAME}-{container}' for container in KEYS_OF_CONTAINER]


def values(environ: dict[str, str]) -> dict[str, str]:
    """Each key and its plain value; optional keys that are unset are absent."""
    missing = [variable for variable in REQUIRED.values() if not environ.get(variable)]
    if missing:
        raise SystemExit(f'opencode-memory-secret: set {", ".join(missing)} (nothing made)')
    data = {key: environ[variable] for key, variable in REQUIRED.items()}
    for key, variable in GENERATED.items():
        value = environ.get(variable) or secrets.token_hex(24)
        if not SERVER_PASSWORD.match(value):
            raise SystemExit(f'opencode-memory-secret: {variable} must be 16+ characters of A-Z a-z 0-9 _.~+/=- '
                             '(it becomes a server config line); unset it to have one made')
        data[key] = value
    data.update({key: environ[variable] for key, variable in OPTIONAL.items() if environ.get(variable)})
    return data


def secret(name: str, data: dict[str, str], *, encode: bool) -> dict[str, object]:
    if encode:  # Kubernetes' `data` is base64; the kubelet decodes it into the files
        data = {key: base64.b64encode(value.encode()).decode('ascii') for key, value in data.items()}
    return {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': name}, 'type': 'Opaque', 'data': data}


def kubernetes_secret(environ: dict[str, str]) -> dict[str, object]:
    return secret(NAME, values(environ), encode=True)


def podman_secrets(environ: dict[str, str]) -> list[dict[str, object]]:
    """One Secret per container with only its keys, values plain (Podman 4.3 does not decode)."""
    plain = values(environ)
    return [secret(f'{NAME}-{container}', {key: plain[key] for key in keys if key in plain}, encode=False)
            for container, keys in KEYS_OF_CONTAINER.items()]


def podman_create(environ: dict[str, str]) -> int:
    for document in podman_secrets(environ):
        name = document['metadata']['name']
        # stdin, never an argument: the values stay off every command line
        result = subprocess.run(['podman', 'secret', 'create', name, '-'], input=json.dumps(document), text=True,
                                capture_output=True, check=False)
        if result.returncode != 0:
            print(f'opencode-memory-secret: podman secret create {name} failed: {result.stderr.strip()} '
                  f'(to replace them: podman secret rm {" ".join(podman_secret_names())})', file=sys.stderr)
            return 1
    return 0


def podman_remove_volumes() -> int:
    for name in podman_secret_names():
        subprocess.run(['podman', 'volume', 'rm', '--force', name], capture_output=True, check=False)
    return 0


def main(arguments: list[str]) -> int:
    if arguments == ['--podman-create']:
        return podman_create(dict(os.environ))
    if arguments == ['--podman-remove-volumes']:
        return podman_remove_volumes()
    if arguments:
        print('usage: opencode-memory-secret.py [--podman-create | --podman-remove-volumes]', file=sys.stderr)
        return 2
    if sys.stdout.isatty():
        print('opencode-memory-secret: refusing to print secrets to a terminal; pipe it into `kubectl apply -f -`',
              file=sys.stderr)
        return 2
    json.dump(kubernetes_secret(dict(os.environ)), sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
