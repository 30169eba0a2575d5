"""Kubernetes' "restricted" Pod Security Standard (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
read as rules over a Pod document, plus this project's own rules for the memory pod: a read-only root, secrets as files
only, FalkorDB and Valkey on 127.0.0.1. Each rule returns one line per violation, naming the container and the field.
"""

from __future__ import annotations

from typing import Any

# Volume types "restricted" allows.
ALLOWED_VOLUME_TYPES = {'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected',
                        'secret'}
SECCOMP_ALLOWED = {'RuntimeDefault', 'Localhost'}
# Containers whose image cannot run on a read-only root as a plain container of the pod, with the reason (which the
# YAML states too).
READ_WRITE_ROOT_ALLOWED = {'datadog-agent': "the agent writes its config at start (Datadog's ROFS guide needs an init container)"}


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get('initContainers', []), *spec['containers'], *spec.get('ephemeralContainers', [])]


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What the "restricted" standard (v1.25+) forbids or requires."""
    spec = pod['spec']
    pod_context = spec.get('securityContext', {})
    found = []
    for field in ('hostNetwork', 'hostPID', 'hostIPC'):
        if spec.get(field):
            found.append(f'pod: {field} is set')
    for volume in spec.get('volumes', []):
        kinds = set(volume) - {'name'}
        if not kinds <= ALLOWED_VOLUME_TYPES:
            found.append(f'volume {volume["name"]}: type {sorted(kinds - ALLOWED_VOLUME_TYPES)} is not allowed')
    if pod_context.get('runAsUser') == 0:
        found.append('pod: runAsUser is 0')
    for container in _containers(spec):
        name = container['name']
        context = container.get('securityContext', {})
        if context.get('privileged'):
            found.append(f'{name}: privileged')
        if context.get('allowPrivilegeEscalation') is not False:
            found.append(f'{name}: allowPrivilegeEscalation is not false')
        capabilities = context.get('capabilities', {})
        if 'ALL' not in capabilities.get('drop', []):
            found.append(f'{name}: capabilities.drop lacks ALL')
        if set(capabilities.get('add', [])) - {'NET_BIND_SERVICE'}:
            found.append(f'{name}: capabilities.add {capabilities["add"]}')
        if not (context.get('runAsNonRoot', pod_context.get('runAsNonRoot')) is True):
            found.append(f'{name}: runAsNonRoot is not true')
        if context.get('runAsUser', pod_context.get('runAsUser')) == 0:
            found.append(f'{name}: runAsUser is 0')
        seccomp = context.get('seccompProfile', pod_context.get('seccompProfile', {})).get('type')
        if seccomp not in SECCOMP_ALLOWED:
            found.append(f'{name}: seccompProfile.type is {seccomp!r}')
        for port in container.get('ports', []):
            if port.get('hostPort'):
                found.append(f'{name}: hostPort {port["hostPort"]}')
    return found


def project_violations(pod: dict[str, Any]) -> list[str]:
    """This project's rules beyond "restricted" for the memory pod."""
    found = []
    secret_volumes = {volume['name'] for volume in pod['spec'].get('volumes', []) if 'secret' in volume}
    for container in _containers(pod['spec']):
        name = container['name']
        context = container.get('securityContext', {})
        if context.get('readOnlyRootFilesystem') is not True and name not in READ_WRITE_ROOT_ALLOWED:
            found.append(f'{name}: readOnlyRootFilesystem is not true')
        if not isinstance(context.get('runAsUser'), int):
            found.append(f'{name}: no numeric runAsUser (the image may run as root)')
        mounts = {mount['mountPath']: mount for mount in container.get('volumeMounts', [])}
        for variable in container.get('env', []):
            source = variable.get('valueFrom', {})
            if 'secretKeyRef' in source:
                found.append(f'{name}: {variable["name"]} comes from a Secret as an environment variable')
            if variable['name'].endswith('_FILE'):
                path = variable.get('value', '')
                mount = mounts.get(path.rsplit('/', 1)[0]) or mounts.get(path)
                if mount is None or mount['name'] not in secret_volumes:
                    found.append(f'{name}: {variable["name"]} names {path!r}, which no Secret mount provides')
                elif not mount.get('readOnly'):
                    found.append(f'{name}: {variable["name"]}: its Secret mount is not readOnly')
        for source in container.get('envFrom', []):
            if 'secretRef' in source:
                found.append(f'{name}: envFrom a Secret')
    return found


def loopback_only_violations(pod: dict[str, Any], names: tuple[str, ...] = ('falkordb', 'valkey')) -> list[str]:
    """FalkorDB and Valkey listen on 127.0.0.1 only (the pod's containers share it)."""
    found = []
    for container in _containers(pod['spec']):
        if container['name'] in names:
            command = ' '.join([*container.get('command', []), *container.get('args', [])])
            if '--bind 127.0.0.1 ' not in command:
                found.append(f'{container["name"]}: not started with --bind 127.0.0.1')
    return found


def ingress_ports(policy: dict[str, Any]) -> list[tuple[str, int]]:
    """The (protocol, port) pairs a NetworkPolicy's ingress rules admit; a rule without ports admits every port."""
    admitted = []
    for rule in policy['spec'].get('ingress', []):
        if not rule.get('ports'):
            admitted.append(('*', 0))
        admitted += [(port.get('protocol', 'TCP'), port.get('port', 0)) for port in rule.get('ports', [])]
    return admitted
