"""The image suite: the committed Containerfile built by tools/harness/build-image.sh, run with Podman
(tests/support/podman.py). Its fixtures: `opencode_image` (session-scoped tag) and `podman_session` (what a test
starts, removed by id afterwards)."""
from tests.support.podman import opencode_image, podman_session  # noqa: F401  (pytest fixtures)
