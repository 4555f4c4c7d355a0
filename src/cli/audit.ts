// portcullis audit: evaluate manifests offline with the same engine as the webhook.
import { POLICIES } from '../../policies/index.js';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError } from '../config/load.js';
import { readManifests, ManifestError } from '../audit/manifests.js';
import { evaluateManifest, wouldBeDenied } from '../audit/offline.js';
import { formatJson, formatTable } from '../audit/format.js';
import { formatSarif } from '../audit/sarif.js';
import { formatJunit } from '../audit/junit.js';
import { packageVersion } from '../audit/version.js';
import type { AuditSubject } from '../audit/subject.js';
import { createRuntime } from './runtime.js';
import { parseCommand } from './flags.js';

const USAGE = `usage: portcullis audit -f PATH... [--config FILE] [--output table|json|sarif|junit]
  -f, --filename PATH   file, directory or - for stdin; repeatable; YAML (multi-document), JSON, List kinds
  --config FILE         PortcullisConfig YAML (default: the built-in config)
  --output FORMAT       table (default), json (portcullis.dev/audit/v1), sarif (SARIF 2.1.0) or junit (JUnit XML)
  --registry            inspect image configs in their registries (default: offline, spec-only rules)
exit status: 0 nothing would be denied, 1 something would be denied, 2 bad input`;

const FLAGS = {
  filename: { type: 'string', short: 'f', multiple: true },
  config: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'table' },
  registry: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

const FORMATTERS: Record<string, (results: readonly AuditSubject[]) => string> = {
  table: formatTable,
  json: formatJson,
  sarif: (results) => formatSarif(results, { version: packageVersion(), policies: POLICIES }),
  junit: (results) => formatJunit(results, { suiteBy: 'file' }),
};

export async function runAudit(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const paths = [...(values.filename ?? []), ...positionals];
  const format = Object.hasOwn(FORMATTERS, values.output) ? FORMATTERS[values.output] : undefined;
  if (paths.length === 0 || !format) {
    process.stderr.write(`portcullis: expected -f PATH and --output table|json|sarif|junit\n${USAGE}\n`);
    return 2;
  }
  const logger = pino({ level: 'warn' }, pino.destination(2));
  let runtime;
  try {
    runtime = await createRuntime({ configPath: values.config, logger, watch: false, offline: !values.registry, policies: POLICIES });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`portcullis: config ${values.config}: ${p.path}: ${p.reason}\n`);
    return 2;
  }
  try {
    const manifests = readManifests(paths, () => readFileSync(0, 'utf8'));
    const results = [];
    for (const m of manifests) results.push(await evaluateManifest(runtime.engine, m, runtime.config.current()));
    process.stdout.write(format(results));
    return results.some(wouldBeDenied) ? 1 : 0;
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    process.stderr.write(`portcullis: ${err.message}\n`);
    return 2;
  } finally {
    await runtime.close();
  }
}
