#!/usr/bin/env python3
"""Makes the Secrets that deploy/opencode-memory-pod.yaml mounts as files, one per container with only the keys that
container reads, from this shell's environment; nothing is written to disk or put on a command line:

    python3 deploy/opencode-memory-secret.py | kubectl apply -f -        # Kubernetes: prints a List of the Secrets
    python3 deploy/opencode-memory-secret.py --podman-create             # Podman 4.3: `podman secret create` each
    python3 deploy/opencode-memory-secret.py --podman-remove-volumes     # Podman 4.3: after `kube down` (see below)

OPENCODE_SERVER_PASSWORD is required. FALKORDB_PASSWORD and VALKEY_PASSWORD are made here (random hex) when unset:
the servers only ever see them through these Secrets, so a new pair per deploy is fine. OPENAI_API_KEY,
B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY, BACKUP_ENCRYPTION_KEY and DD_API_KEY are left out when unset: a container that
names such a file then stops with one line naming its NAME_FILE variable (drop that variable from the pod to run
without it).

Podman 4.3's `kube play` differs from Kubernetes in three ways this handles: it writes a Secret's `data` values into
the mounted files without base64-decoding them (podman#16625), so --podman-create stores the plain values in `data`
(Podman 4.4 and later decode as Kubernetes does: give them the printed List's Secrets instead); it copies each Secret
into a volume of the Secret's name that `kube down` leaves and the next play reuses as it is, hence
--podman-remove-volumes; and it ignores subPath, hence one Secret per container rather than one shared Secret.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import sys

PREFIX = 'opencode-memory-'
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
# Each container's Secret (opencode-memory-<name>) and the keys it holds: what that container reads, nothing more.
SECRETS = {
    'server': ('opencode-server-password', 'falkordb-password', 'valkey-password', 'openai-api-key'),
    'falkordb': ('falkordb-password',),
    'valkey': ('valkey-password',),
    'backup': ('falkordb-password', 'valkey-password', 'b2-application-key-id', 'b2-application-key',
               'backup-encryption-key'),
    'datadog': ('datadog-api-key',),
}
# FalkorDB and Valkey read the password as a config line: one word, no quotes or spaces.
SERVER_PASSWORD = re.compile(r'^[A-Za-z0-9_.~+/=-]{16,}$')


def secret_names() -> list[str]:
    return [PREFIX + name for name in SECRETS]


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


def documents(environ: dict[str, str], podman_4_3: bool = False) -> list[dict[str, object]]:
    """The Secrets. Kubernetes' `data` is base64 (the kubelet decodes it into the files); Podman 4.3 does not decode."""
    plain = values(environ)
    made = []
    for name, keys in SECRETS.items():
        data = {key: plain[key] for key in keys if key in plain}
        if not podman_4_3:
            data = {key: base64.b64encode(value.encode()).decode('ascii') for key, value in data.items()}
        made.append({'apiVersion': 'v1', 'kind': 'Secret', 'metadata': {'name': PREFIX + name}, 'type': 'Opaque',
                     'data': data})
    return made


def podman_create(environ: dict[str, str]) -> int:
    made = documents(environ, podman_4_3=True)
    for document in made:
        name = document['metadata']['name']
        # stdin, never an argument: the values stay off every command line
        result = subprocess.run(['podman', 'secret', 'create', name, '-'], input=json.dumps(document), text=True,
                                capture_output=True, check=False)
        if result.returncode != 0:
            print(f'opencode-memory-secret: podman secret create {name} failed: {result.stderr.strip()} '
                  f'(to replace them: podman secret rm {" ".join(secret_names())})', file=sys.stderr)
            return 1
    return 0


def podman_remove_volumes() -> int:
    for name in secret_names():
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
    json.dump({'apiVersion': 'v1', 'kind': 'List', 'items': documents(dict(os.environ))}, sys.stdout)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
