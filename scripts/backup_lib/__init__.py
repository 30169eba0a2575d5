"""Backup and restore of the OpenCode server's FalkorDB, Valkey and Graphiti memory to Backblaze B2 (or any rclone remote)."""
