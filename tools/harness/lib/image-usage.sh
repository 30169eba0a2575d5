# How to use the image the harness proved, from a plain shell: the harness builds in a Podman store of its own
# (lib/engine.sh), so the plain `podman` needs that store's two configuration files. Sourced by prove-image.sh;
# tests/image/test_image_usage.py runs the printed lines as they are.

# The name the proved image keeps after the run.
KEPT_IMAGE=localhost/opencode-server:latest

# print_image_usage WORK_DIR: the lines a user copies, indented by two spaces, after one line saying what they are.
print_image_usage() {
  local conf_dir="$1/podman"
  echo "the image: $KEPT_IMAGE, kept in the harness's Podman store; from a plain shell:"
  echo "  export CONTAINERS_CONF=$conf_dir/containers.conf CONTAINERS_STORAGE_CONF=$conf_dir/storage.conf"
  echo "  printf '%s' \"\$OPENCODE_SERVER_PASSWORD\" | podman secret create opencode-server-password -"
  echo "  podman run -d --name opencode -p 4096:4096 --secret opencode-server-password -e OPENCODE_SERVER_PASSWORD_FILE=/run/secrets/opencode-server-password $KEPT_IMAGE"
}
