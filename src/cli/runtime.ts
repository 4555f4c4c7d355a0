// Wires config, fact gathering and the engine the same way for every command.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { createConfigStore, staticConfigStore, loadConfigFile } from '../config/store.js';
import type { ConfigStore } from '../config/store.js';
import { createEngine } from '../engine/evaluate.js';
import type { Engine } from '../engine/evaluate.js';
import { NO_FACT_GATHERER } from '../engine/facts.js';
import type { FactGatherer } from '../engine/facts.js';

export interface Runtime {
  readonly config: ConfigStore;
  readonly engine: Engine;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly configPath?: string;
  readonly logger: Logger;
  readonly metrics?: Registry;
  /** watch the config file and reload it on change (the server does; the CLI does not) */
  readonly watch: boolean;
}

// Creates the config store, the fact gatherer and the engine; throws ConfigError on a bad config file.
export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const config = options.watch
    ? createConfigStore(options.configPath, options.logger)
    : staticConfigStore(loadConfigFile(options.configPath));
  const facts: FactGatherer = NO_FACT_GATHERER;
  const engine = createEngine({ config: () => config.current(), facts });
  return {
    config,
    engine,
    close: async () => config.close(),
  };
}
