import assert from "node:assert/strict";
import { test } from "node:test";
import { hideSecretsFromCommands, variablesToHide } from "../../plugin/lib/secret-env.ts";

test("secret-named variables, their _FILE forms and copies of their values are hidden; the rest is kept", () => {
  const env = {
    PATH: "/usr/bin",
    HOME: "/root",
    OPENCODE_SERVER_USERNAME: "opencode",
    OPENCODE_SERVER_PASSWORD: "pw-0123456789",
    FALKORDB_PASSWORD_FILE: "/dev/shm/x/falkordb-password",
    VALKEY_HOST: "localhost",
    VALKEY_PORT: "6380",
    OPENAI_API_KEY: "sk-abcdefghijkl",
    MEMORY_API_TOKEN: "tok-abcdefghijkl",
    REDISCLI_AUTH: "redis-abcdefghijkl",
    RCLONE_CONFIG_B2_ACCOUNT: "acct",
    MIRROR_OF_KEY: "sk-abcdefghijkl",
    DEBUG: "1",
  };
  assert.deepEqual(variablesToHide(env), [
    "FALKORDB_PASSWORD_FILE", "MEMORY_API_TOKEN", "MIRROR_OF_KEY", "OPENAI_API_KEY", "OPENCODE_SERVER_PASSWORD",
    "RCLONE_CONFIG_B2_ACCOUNT", "REDISCLI_AUTH",
  ]);
});

test("the hook unsets what it hides (undefined: left out of the child's environment) and never throws", async () => {
  const output = { env: { ADDED_BY_ANOTHER_PLUGIN_TOKEN: "t-123456789" } as Record<string, string> };
  await hideSecretsFromCommands({ PATH: "/bin", GITHUB_TOKEN: "ghp-123456789" })({}, output);
  assert.deepEqual(output, { env: { ADDED_BY_ANOTHER_PLUGIN_TOKEN: undefined, GITHUB_TOKEN: undefined } });
  await hideSecretsFromCommands({})({}, null as never);
});
