import { resolve } from 'node:path';

/** Configuration read once from the environment, with named defaults (see CONTRACT.md). */
export interface Config {
  /** PostgreSQL connection string; when unset the embedded PGlite under `home` is used. */
  databaseUrl: string | undefined;
  /** Where walletrecon keeps its local state: the PGlite data and the statement archive. */
  home: string;
  /** Where original statement files are kept, byte for byte. */
  archiveDir: string;
  /** Where daily runs write their reports. */
  reportsDir: string;
  redisUrl: string;
  /** Contracted fee schedules (RECON_FEES_FILE) that daily runs check every line's fee against. */
  feesFile: string | undefined;
  /** Matching rules in priority order (RECON_RULES_FILE, JSON); default: reconcile/rules.ts DEFAULT_RULES. */
  rulesFile: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const home = resolve(env.RECON_HOME ?? '.recon');
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    home,
    archiveDir: resolve(env.RECON_ARCHIVE_DIR ?? `${home}/archive`),
    reportsDir: resolve(env.REPORTS_DIR ?? 'reports'),
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    feesFile: env.RECON_FEES_FILE || undefined,
    rulesFile: env.RECON_RULES_FILE || undefined,
  };
}
