// Holds the current config and reloads it when its file or a custom-policy directory changes; a bad file keeps the last
// good config.
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Config } from './types.js';
import type { Policy } from '../engine/types.js';
import { parseConfig } from './load.js';
import { DEFAULT_CONFIG_YAML } from './defaults.js';
import { applyOverrides, sourceWith } from './overrides.js';
import type { ConfigOverride } from './overrides.js';
import { watchDirectories } from './dir-watch.js';
import { withCelCompiler } from '../custom/compiler.js';
import { getOrCreate } from '../images/metrics.js';

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
  const source = sourceWith(path ?? 'built-in default config', overrides);
  return withOwnNamespace(parseConfig(applyOverrides(text, overrides), source, catalog, path === undefined ? undefined : dirname(path)));
}

export interface StoreOptions {
  /** how often the file and the directories are polled (default 1 s) */
  readonly intervalMs?: number;
  /** a directory change is applied once its files have been quiet this long (default 300 ms) */
  readonly debounceMs?: number;
  /** the policy list (default: the built-ins) */
  readonly catalog?: readonly Policy[];
  /** portcullis_config_reloads_total{result} and portcullis_config_last_reload_successful */
  readonly metrics?: Registry;
}

type Changed = { trigger: 'file' } | { trigger: 'directory'; directories: readonly string[] };

interface ReloadMetrics {
  done(ok: boolean): void;
}

function reloadMetrics(registry: Registry | undefined): ReloadMetrics {
  if (!registry) return { done: () => undefined };
  const registers = [registry];
  const total = getOrCreate(registry, 'portcullis_config_reloads_total', () => new Counter({ name: 'portcullis_config_reloads_total', help: 'Config reloads (the file or a custom-policy directory changed), by result (success, failure)', labelNames: ['result'] as const, registers }));
  const last = getOrCreate(registry, 'portcullis_config_last_reload_successful', () => new Gauge({ name: 'portcullis_config_last_reload_successful', help: '1 when the last config reload succeeded (or none happened), 0 while the last good config is kept after a failure', registers }));
  last.set(1);
  return {
    done(ok) {
      total.inc({ result: ok ? 'success' : 'failure' });
      last.set(ok ? 1 : 0);
    },
  };
}

// A store that polls the file (which survives the symlink swaps of mounted ConfigMaps) and watches the custom-policy
// directories the config names, and swaps in valid changes.
export function createConfigStore(path: string | undefined, logger: Logger, options: StoreOptions = {}): ConfigStore {
  const { intervalMs = 1000, debounceMs = 300, catalog } = options;
  let config = loadConfigFile(path, catalog);
  const listeners: Array<(c: Config) => void> = [];
  const metrics = reloadMetrics(options.metrics);
  let latest = 0;
  const apply = (next: Config, changed: Changed): void => {
    config = next;
    directories.set(config.customPolicyDirectories ?? []);
    metrics.done(true);
    logger.info({ path, ...changed }, 'config reloaded');
    for (const listener of listeners) listener(config);
  };
  // a config that newly declares custom policies loads the CEL compiler first (only then is a reload asynchronous);
  // a slower reload never overwrites a later one
  const reload = (changed: Changed): void => {
    const seq = ++latest;
    withCelCompiler(() => loadConfigFile(path, catalog))
      .then((next) => {
        if (seq === latest) apply(next, changed);
      })
      .catch((err: unknown) => {
        metrics.done(false);
        // err.problems (a ConfigError's) name the file, policy, rule and column of each
        logger.error({ path, ...changed, err }, 'config reload failed; keeping the last good config');
      });
  };
  const directories = watchDirectories((dirs) => reload({ trigger: 'directory', directories: dirs }), intervalMs, debounceMs);
  directories.set(config.customPolicyDirectories ?? []);
  if (path !== undefined) {
    watchFile(path, { interval: intervalMs, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) reload({ trigger: 'file' });
    });
  }
  return {
    current: () => config,
    path,
    onChange: (listener) => void listeners.push(listener),
    close: () => {
      if (path !== undefined) unwatchFile(path);
      directories.close();
    },
  };
}

/** A store for a fixed config (tests, the offline CLI). */
export function staticConfigStore(config: Config): ConfigStore {
  return { current: () => config, path: undefined, onChange: () => undefined, close: () => undefined };
}
