"""Fill real FalkorDB and Redis (standing in for Valkey), back up, wipe, restore, and get the same data back."""
import json

from backup_lib import backup_cli, restore_cli
from backup_lib.hashing import sha256_of_file

import pytest

from .conftest import BACKUP_KEY_RECIPIENT, FALKORDB_PASSWORD, MEMORY_MANAGER, run_cli
from .helpers import backup_folders_on_disk, current_state, decrypt, fill, manifest_on_disk, wipe
from .memory_data import GROUPS, graph_state
from .servers import start_falkordb

EXPECTED_FILES = sorted(
    ["falkordb/dump.rdb", "falkordb/keys.jsonl.gz", "valkey/dump.rdb", "valkey/keys.jsonl.gz"]
    + ([f"graphiti/{group}.json" for group in GROUPS] if MEMORY_MANAGER.is_file() else [])
)


def test_round_trip_b2sdk_raw_simulator(backup_env, b2_simulator, capsys):
    servers = backup_env
    before = fill(servers)
    assert set(before[0]) == set(GROUPS)

    assert backup_cli.main([], b2_api_factory=b2_simulator.factory) == 0
    names = b2_simulator.stored_names()
    manifests = [name for name in names if name.endswith("/manifest.json.age")]
    assert len(manifests) == 1
    folder = manifests[0].rsplit("/", 1)[0]
    assert folder.startswith("opencode-server/")
    # every object is encrypted: nothing but .age files leaves the machine
    assert sorted(name[len(folder) + 1 :] for name in names) == sorted(
        [name + ".age" for name in EXPECTED_FILES] + ["manifest.json.age"]
    )
    # the manifest went up last: its upload is the newest object of the backup
    bucket = b2_simulator.admin_bucket()
    uploaded = sorted(bucket.ls(folder + "/", recursive=True), key=lambda item: item[0].upload_timestamp)
    assert uploaded[-1][0].file_name == manifests[0]

    wipe(servers)
    assert current_state(servers) != before
    assert restore_cli.main([], b2_api_factory=b2_simulator.factory) == 0
    assert current_state(servers) == before
    output = capsys.readouterr()
    assert FALKORDB_PASSWORD not in output.out + output.err


def test_round_trip_rclone_local_remote(backup_env, rclone_local_remote, tmp_path):
    servers = backup_env
    before = fill(servers)

    result = run_cli("backup")
    assert result.returncode == 0, result.stderr
    [folder] = backup_folders_on_disk(rclone_local_remote)
    manifest = manifest_on_disk(folder)
    assert sorted(entry["name"] for entry in manifest["files"]) == EXPECTED_FILES
    assert manifest["encryption"] == {"scheme": "age-x25519", "recipient": BACKUP_KEY_RECIPIENT}
    for entry in manifest["files"]:
        stored = folder / entry["object"]
        assert entry["object"] == entry["name"] + ".age"
        assert stored.stat().st_size == entry["object_size"]
        assert sha256_of_file(stored) == entry["object_sha256"]
        assert len(decrypt(stored.read_bytes())) == entry["size"]
    assert manifest["versions"]["falkordb"]["modules"]["graph"]
    assert manifest["key_counts"]["valkey"] == 4
    assert manifest["started_at"] <= manifest["finished_at"]

    wipe(servers)
    result = run_cli("restore", "--backup", folder.name)
    assert result.returncode == 0, result.stderr
    assert current_state(servers) == before


def test_restore_refuses_to_overwrite_existing_keys_rclone_local_remote(backup_env, rclone_local_remote):
    servers = backup_env
    fill(servers)
    assert run_cli("backup").returncode == 0
    servers.valkey.client().set("memory:lease", "someone-else")
    servers.falkordb.client().flushall()

    result = run_cli("restore")
    assert result.returncode == 1
    assert "--replace" in result.stderr and "nothing was restored" in result.stderr
    # checked for every part before loading any: FalkorDB (wiped above) stays empty
    assert servers.falkordb.client().dbsize() == 0
    assert servers.valkey.client().get("memory:lease") == b"someone-else"

    result = run_cli("restore", "--replace")
    assert result.returncode == 0, result.stderr
    assert servers.valkey.client().get("memory:lease") == b"worker-1"
    assert servers.falkordb.client().dbsize() > 0


def test_rdb_of_backup_loads_into_a_stopped_server_rclone_local_remote(backup_env, rclone_local_remote, tmp_path):
    """The disaster-recovery path of scripts/README.md: the RDB placed as the dump file of a fresh server."""
    servers = backup_env
    before_graphs, _ = fill(servers)
    assert run_cli("backup").returncode == 0
    [folder] = backup_folders_on_disk(rclone_local_remote)
    recovery_dir = tmp_path / "recovered"
    recovery_dir.mkdir()
    (recovery_dir / "dump.rdb").write_bytes(decrypt((folder / "falkordb" / "dump.rdb.age").read_bytes()))
    recovered = start_falkordb(recovery_dir, FALKORDB_PASSWORD)
    try:
        assert graph_state("127.0.0.1", recovered.port, FALKORDB_PASSWORD) == before_graphs
    finally:
        recovered.stop()


def test_manifest_records_versions_and_checksums_b2sdk_raw_simulator(backup_env, b2_simulator, tmp_path):
    fill(backup_env)
    assert backup_cli.main(["--only", "valkey"], b2_api_factory=b2_simulator.factory) == 0
    [manifest_name] = [name for name in b2_simulator.stored_names() if name.endswith("manifest.json.age")]
    local = tmp_path / "manifest.json.age"
    b2_simulator.admin_bucket().download_file_by_name(manifest_name).save_to(str(local))
    manifest = json.loads(decrypt(local.read_bytes()))
    assert [entry["name"] for entry in manifest["files"]] == ["valkey/dump.rdb", "valkey/keys.jsonl.gz"]
    assert manifest["versions"]["valkey"]["version"]
    assert manifest["versions"]["tools"]["b2sdk"] == "2.13.2"
    assert manifest["versions"]["tools"]["pyrage"] == "1.4.0"
    assert all(len(entry["sha256"]) == len(entry["object_sha256"]) == 64 for entry in manifest["files"])


@pytest.mark.skipif(not MEMORY_MANAGER.is_file(), reason="graphiti/memory_manager.py is not there yet")
def test_graphiti_export_round_trip_rclone_local_remote(backup_env, rclone_local_remote):
    """The portable route: the memory manager's JSON export imported into an emptied FalkorDB."""
    servers = backup_env
    before_graphs, before_valkey = fill(servers)
    assert run_cli("backup").returncode == 0
    servers.falkordb.client().flushall()

    result = run_cli("restore", "--only", "graphiti")
    assert result.returncode == 0, result.stderr
    after_graphs = graph_state("127.0.0.1", servers.falkordb.port, FALKORDB_PASSWORD)
    for group in GROUPS:
        assert after_graphs[group]["nodes"] == before_graphs[group]["nodes"]
        assert after_graphs[group]["edges"] == before_graphs[group]["edges"]
    assert current_state(servers)[1] == before_valkey  # Valkey was not part of this restore


@pytest.mark.skipif(not MEMORY_MANAGER.is_file(), reason="graphiti/memory_manager.py is not there yet")
def test_graphiti_restore_refuses_a_non_empty_graph_b2sdk_raw_simulator(backup_env, b2_simulator, capsys):
    fill(backup_env)
    assert backup_cli.main(["--only", "graphiti", "--groups", GROUPS[0]], b2_api_factory=b2_simulator.factory) == 0
    assert restore_cli.main(["--only", "graphiti"], b2_api_factory=b2_simulator.factory) == 1
    assert "--wipe" in capsys.readouterr().err


def test_list_json_gives_each_backups_status_and_authenticated_manifest_rclone_local_remote(backup_env, rclone_local_remote):
    """What the pod tests read instead of the (now encrypted) manifest files."""
    fill(backup_env)
    assert run_cli("backup", "--only", "valkey").returncode == 0
    [folder] = backup_folders_on_disk(rclone_local_remote)
    (folder.parent / "20250101T000000.000Z").mkdir()
    (folder.parent / "20250101T000000.000Z" / "partial.age").write_bytes(b"x")
    result = run_cli("restore", "--list", "--json")
    assert result.returncode == 0, result.stderr
    listed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(entry["timestamp"], entry["status"]) for entry in listed] == [
        ("20250101T000000.000Z", "incomplete"), (folder.name, "complete")
    ]
    assert listed[1]["manifest"]["timestamp"] == folder.name and listed[1]["manifest"]["started_at"]
