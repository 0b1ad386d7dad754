/**
 * Reads the configuration once from the environment (the only place that reads `process.env` for configuration).
 * The schema and its defaults are shared/domain/config.ts.
 */
import { type Config, parseConfig } from './domain/config.js';

let cached: { env: NodeJS.ProcessEnv; config: Config } | undefined;

/** The configuration from `env` (default: process.env), parsed once per environment object. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  if (cached && cached.env === env) return cached.config;
  const config = parseConfig(env);
  cached = { env, config };
  return config;
}

/** Forgets the parsed configuration (tests that change the environment). */
export function resetConfig(): void {
  cached = undefined;
}
