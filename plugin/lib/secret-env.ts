/**
 * The agent's shell and tool commands start with OpenCode's own environment, so every secret OpenCode holds (its
 * password, the model providers' keys, the memory passwords' file paths) would be one `env` away from a session, its
 * saved history and the model provider. The `shell.env` hook hands OpenCode the variables to override for each
 * command: every secret-named one is unset, and so is any other variable holding the same value as a secret.
 */
type Env = Record<string, string | undefined>;

/** The names this image and its users give secrets: …PASSWORD, …TOKEN, …SECRET, …_KEY, …_KEYS, and their _FILE forms. */
const SECRET_NAME = /(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|CREDENTIALS?|_KEY|_KEYS|_KEY_ID|APIKEY|_AUTH)(_FILE)?$/i;
/** Whole families that carry credentials under other names. */
const SECRET_PREFIX = /^(RCLONE_CONFIG_|AWS_SECRET|B2_|DD_API|DD_APP)/i;
/** Values this short are left alone where only the value matches: "1" or "true" would hide half the environment. */
const MIN_SECRET_VALUE_LENGTH = 8;

export function namesSecret(name: string): boolean {
  return SECRET_NAME.test(name) || SECRET_PREFIX.test(name);
}

/** Every variable a command must not see: secret-named ones, and those holding a secret-named one's value. */
export function variablesToHide(env: Env): string[] {
  const secretNames = Object.keys(env).filter((name) => env[name] !== undefined && namesSecret(name));
  const secretValues = new Set(
    secretNames.map((name) => env[name]!).filter((value) => value.length >= MIN_SECRET_VALUE_LENGTH),
  );
  const copies = Object.keys(env).filter((name) => env[name] !== undefined && secretValues.has(env[name]!));
  return [...new Set([...secretNames, ...copies])].sort();
}

/**
 * The hook: OpenCode spreads its own environment under what the hook returns, so each hidden name is set to
 * undefined there (a child's environment leaves undefined out), in what other plugins already added as well.
 */
export function hideSecretsFromCommands(processEnv: Env = process.env) {
  return async (_input: unknown, output: { env: Record<string, string> }): Promise<void> => {
    try {
      const merged: Env = { ...processEnv, ...output.env };
      for (const name of variablesToHide(merged)) (output.env as Env)[name] = undefined;
    } catch {
      // fails open, quietly: a command still runs
    }
  };
}
