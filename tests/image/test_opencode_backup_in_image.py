"""OpenCode's database backed up and restored by the image's own scripts, in the image: `backup --only opencode` from
inside the running server's container (to an rclone `local` remote on a volume), `restore` refused while that server
runs, then restored by a one-off container of the same image as uid 10001 on a read-only root into an empty data
volume, which a new server lists."""
from __future__ import annotations

from tests.support.podman import Podman
from tests.support.podman import podman as podman_command

from .test_state_volumes import DATA, NON_ROOT_READ_ONLY, api, session_titles, start_server

BACKUPS = '/backups'
# made with `scripts/backup --new-key` for the tests only (tests/backup/conftest.py): backups are always encrypted
BACKUP_KEY = 'AGE-SECRET-KEY-14VF5MVRNNCQ63DD55L0E7UFWRVYXN9K64ETJM00V7XXFZYV8RN4QET552H'
BACKUP_ENV = {
    'BACKUP_TARGET': 'rclone',
    'RCLONE_CONFIG_LOCALDISK_TYPE': 'local',
    'RCLONE_CONFIG': '/tmp/no-rclone.conf',
    'BACKUP_RCLONE_REMOTE': f'localdisk:{BACKUPS}',
    'BACKUP_PREFIX': 'image-test',
    'BACKUP_ENCRYPTION_KEY': BACKUP_KEY,
}


def env_options() -> list[str]:
    return [option for name in BACKUP_ENV for option in ('-e', name)]


def test_backup_in_the_running_image_and_restore_as_non_root_into_a_new_volume(opencode_image: str,
                                                                                 podman_session: Podman):
    backups = podman_session.volume('backups')
    volumes = {podman_session.volume('data'): DATA}
    server = start_server(podman_session, opencode_image, {**volumes, backups: BACKUPS})
    for title in ('Orion planning', 'Vega notes'):
        api(server, 'POST', '/session', {'title': title})

    backup = server.exec('/app/scripts/backup', '--only', 'opencode', '--no-prune', env=BACKUP_ENV, check=False,
                         timeout=300)
    assert backup.returncode == 0, backup.stdout + backup.stderr
    assert 'opencode/opencode.db' in backup.stdout

    refused = server.exec('/app/scripts/restore', '--only', 'opencode', '--replace', env=BACKUP_ENV, check=False,
                          timeout=300)
    assert refused.returncode == 1
    assert 'stop the OpenCode server' in refused.stderr and 'opencode serve' in refused.stderr, refused.stderr
    server.stop()

    fresh = podman_session.volume('fresh-data')
    restore = podman_command(
        'run', '--rm', *NON_ROOT_READ_ONLY, '--network', 'none', '-v', f'{fresh}:{DATA}', '-v', f'{backups}:{BACKUPS}',
        *env_options(), '--entrypoint', '/app/scripts/restore', opencode_image, '--only', 'opencode',
        env=BACKUP_ENV, check=False, timeout=600,
    )
    assert restore.returncode == 0, restore.stdout + restore.stderr
    assert 'passes integrity_check' in restore.stdout

    restored = start_server(podman_session, opencode_image, {fresh: DATA}, *NON_ROOT_READ_ONLY)
    assert {'Orion planning', 'Vega notes'} <= session_titles(restored)
    api(restored, 'POST', '/session', {'title': 'after the restore'})
