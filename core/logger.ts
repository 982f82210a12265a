/**
 * Structured logs: one JSON object a line on stderr, with a scope (provider, account, date, job id) on
 * every line. Secrets never reach a log: the logger is given the secret values it must never print
 * (keys, passwords, tokens from the configuration) and replaces any occurrence with `***`, in the
 * message and in every field.
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  child(scope: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  scope?: Record<string, unknown>;
  /** Values that must never be printed. Short values (under 6 characters) are ignored: too common to mask. */
  secrets?: readonly string[];
  write?: (line: string) => void;
  now?: () => Date;
  /** The lowest level written (default `info`; `RECON_LOG_LEVEL` sets it for the CLI). */
  level?: 'info' | 'warn' | 'error';
}

const LEVELS = { info: 0, warn: 1, error: 2 } as const;

const processSecrets = new Set<string>();

/**
 * Secrets the whole process must never print (the CLI's error output uses them too). A multi-line
 * secret (a PEM key) is also masked line by line, and in its JSON-escaped form, as logs serialise it.
 */
export function registerSecrets(values: readonly string[]): void {
  for (const v of values) for (const form of secretForms(v)) processSecrets.add(form);
}

function secretForms(secret: string): string[] {
  if (secret.length < 6) return [];
  const forms = [secret, JSON.stringify(secret).slice(1, -1)];
  for (const line of secret.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) forms.push(line);
  return forms;
}

export function registeredSecrets(): string[] {
  return [...processSecrets];
}

export function redact(text: string, secrets: readonly string[] = registeredSecrets()): string {
  let out = text;
  for (const s of secrets) if (s.length >= 6) out = out.split(s).join('***');
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const own = (options.secrets ?? []).flatMap(secretForms);
  const secrets = () => [...own, ...processSecrets].sort((a, b) => b.length - a.length);
  const write = options.write ?? ((line: string) => void process.stderr.write(line + '\n'));
  const now = options.now ?? (() => new Date());
  const scope = options.scope ?? {};
  const min = LEVELS[options.level ?? 'info'];
  const emit = (level: keyof typeof LEVELS, event: string, fields: Record<string, unknown> = {}) => {
    if (LEVELS[level] < min) return;
    const record = { time: now().toISOString(), level, event, ...scope, ...fields };
    write(redact(JSON.stringify(record, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v)), secrets()));
  };
  return {
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (more) => createLogger({ ...options, scope: { ...scope, ...more } }),
  };
}

/** A logger that drops everything (library defaults, tests that do not look). */
export const silentLogger: Logger = createLogger({ write: () => undefined });
