// Holds the current config and reloads it when its file changes; a bad file keeps the last good config.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './types.js';
import type { Policy } from '../engine/types.js';
import { parseConfig } from './load.js';
import { DEFAULT_CONFIG_YAML } from './defaults.js';
import { applyOverrides } from './overrides.js';
import type { ConfigOverride } from './overrides.js';

export interface ConfigStore {
  current(): Config;
  /** the file being watched, or undefined for the built-in defaults */
  readonly path: string | undefined;
  onChange(listener: (config: Config) => void): void;
  close(): void;
}

// Adds the webhook's own namespace (POD_NAMESPACE, set by the chart) to the excluded namespaces.
function withOwnNamespace(config: Config): Config {
  const own = process.env.POD_NAMESPACE;
  if (!own || config.excludeNamespaces.includes(own)) return config;
  return { ...config, excludeNamespaces: [...config.excludeNamespaces, own] };
}

// Loads the config file (or the built-in default) once for this policy list, with command-line overrides; throws
// ConfigError when it is invalid.
export function loadConfigFile(path: string | undefined, catalog?: readonly Policy[], overrides: readonly ConfigOverride[] = []): Config {
  const text = path === undefined ? DEFAULT_CONFIG_YAML : readFileSync(path, 'utf8');
  const source = `${path ?? 'built-in default config'}${overrides.length > 0 ? ` with ${overrides.map((o) => o.flag).join(' ')}` : ''}`;
  return withOwnNamespace(parseConfig(applyOverrides(text, overrides), source, catalog, path === undefined ? undefined : dirname(path)));
}

// A store that polls the file (which survives the symlink swaps of mounted ConfigMaps) and swaps in valid changes.
export function createConfigStore(path: string | undefined, logger: Logger, intervalMs = 1000, catalog?: readonly Policy[]): ConfigStore {
  let config = loadConfigFile(path, catalog);
  const listeners: Array<(c: Config) => void> = [];
  const reload = (): void => {
    try {
      config = loadConfigFile(path, catalog);
      logger.info({ path }, 'config reloaded');
      for (const listener of listeners) listener(config);
    } catch (err) {
      logger.error({ path, err }, 'config reload failed; keeping the last good config');
    }
  };
  if (path !== undefined) {
    watchFile(path, { interval: intervalMs, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) reload();
    });
  }
  return {
    current: () => config,
    path,
    onChange: (listener) => void listeners.push(listener),
    close: () => {
      if (path !== undefined) unwatchFile(path);
    },
  };
}

/** A store for a fixed config (tests, the offline CLI). */
export function staticConfigStore(config: Config): ConfigStore {
  return { current: () => config, path: undefined, onChange: () => undefined, close: () => undefined };
}
