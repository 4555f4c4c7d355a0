// portcullis audit: evaluate manifests offline with the same engine as the webhook.
import { POLICIES } from '../../policies/index.js';
import { readFileSync } from 'node:fs';
import { readManifests, ManifestError } from '../audit/manifests.js';
import { evaluateManifest, wouldBeDenied } from '../audit/offline.js';
import type { ResourceResult } from '../audit/offline.js';
import { formatJson, formatTable, formatYaml } from '../audit/format.js';
import { formatSarif } from '../audit/sarif.js';
import { formatJunit } from '../audit/junit.js';
import { packageVersion } from '../audit/version.js';
import { DEFAULT_POD_TEMPLATE_PATHS } from '../audit/pod-templates.js';
import { resourceId } from '../audit/subject.js';
import { useColor } from '../audit/table.js';
import { parseCommand } from './flags.js';
import { CONFIG_FLAGS, CONFIG_USAGE, openRuntime, OUTPUT_FORMATS } from './common.js';
import { cliLogger } from './log.js';
import { programName } from './program.js';
import { EXCEPTION_FLAGS, EXCEPTION_USAGE, exceptionFiles } from './exceptions.js';
import { DurationError } from '../certs/duration.js';

const USAGE = `usage: ${programName()} audit -f PATH... [--config FILE] [--set ID.KEY=VALUE]... [--policy ID=ACTION]...
                        [-o table|json|yaml|sarif|junit] [--registry] [--allow-empty] [--pod-template-path PATH]...
                        [--exceptions PATH]...
  -f, --filename PATH   file, directory or - for stdin; repeatable; YAML (multi-document), JSON, List kinds
${CONFIG_USAGE}
  --registry            inspect image configs in their registries (default: offline, spec-only rules)
  --pod-template-path P where custom resources carry a pod spec (dotted, e.g. spec.workload.template.spec);
                        repeatable; tried after ${DEFAULT_POD_TEMPLATE_PATHS.join(' and ')}
${EXCEPTION_USAGE}
  --allow-empty         exit 0 when there is nothing to check (an empty directory, no pod-carrying resource, a
                        document that is not a Kubernetes object) instead of 2
exit status: 0 nothing would be denied, 1 something would be denied, 2 bad input or nothing to check`;

const FLAGS = {
  filename: { type: 'string', short: 'f', multiple: true },
  ...CONFIG_FLAGS,
  policy: { type: 'string', multiple: true },
  registry: { type: 'boolean', default: false },
  'pod-template-path': { type: 'string', multiple: true },
  'allow-empty': { type: 'boolean', default: false },
  ...EXCEPTION_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

type Formatter = (results: readonly ResourceResult[], color: boolean) => string;

const FORMATTERS: Record<(typeof OUTPUT_FORMATS)[number], Formatter> = {
  table: (results, color) => formatTable(results, { color }),
  json: formatJson,
  yaml: formatYaml,
  sarif: (results) => formatSarif(results, { version: packageVersion(), policies: POLICIES }),
  junit: (results) => formatJunit(results, { suiteBy: 'file' }),
};

// Why the input is refused when --allow-empty is not given: documents that are not objects, or nothing checked.
function emptiness(results: readonly ResourceResult[], paths: readonly string[]): string[] {
  const problems = results
    .filter((r) => r.notAnObject)
    .map((r) => `${r.file}:${r.line}: document ${r.doc} is not a Kubernetes object (expected apiVersion and kind)`);
  if (results.some((r) => !r.decision.skipped)) return problems;
  const skipped = results.filter((r) => !r.notAnObject).map((r) => `${resourceId(r)} (${r.file}:${r.line}): ${r.decision.skipped}`);
  if (skipped.length === 0 && problems.length > 0) return problems;
  return [...problems, `nothing to check in ${paths.join(', ')}: ${results.length === 0 ? 'no Kubernetes object' : `no resource carries a pod spec (skipped: ${skipped.join('; ')})`}`];
}

export async function runAudit(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE, true);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  const paths = [...(values.filename ?? []), ...positionals];
  const output = values.output as (typeof OUTPUT_FORMATS)[number];
  if (paths.length === 0) return usageError('expected -f PATH (a file, a directory or - for stdin)');
  if (!OUTPUT_FORMATS.includes(output)) return usageError(`--output: expected ${OUTPUT_FORMATS.join('|')}, got "${values.output}"`);
  const logger = cliLogger();
  let exceptions;
  try {
    exceptions = exceptionFiles(values.exceptions, values['exception-max-duration'], logger);
  } catch (err) {
    if (!(err instanceof ManifestError || err instanceof DurationError)) throw err;
    process.stderr.write(`portcullis: --exceptions: ${err.message}\n`);
    return 2;
  }
  const runtime = await openRuntime({ config: values.config, set: values.set, policyActions: values.policy ?? [], offline: !values.registry, exceptions }, logger);
  if (typeof runtime === 'number') return runtime;
  try {
    const manifests = readManifests(paths, () => readFileSync(0, 'utf8'), { allowEmpty: values['allow-empty'] });
    const podTemplatePaths = [...DEFAULT_POD_TEMPLATE_PATHS, ...(values['pod-template-path'] ?? [])];
    const results: ResourceResult[] = [];
    for (const m of manifests) results.push(await evaluateManifest(runtime.engine, m, runtime.config.current(), { podTemplatePaths }));
    const problems = values['allow-empty'] ? [] : emptiness(results, paths);
    if (problems.length > 0) {
      for (const p of problems) process.stderr.write(`portcullis: ${p}\n`);
      process.stderr.write('portcullis: pass --allow-empty to accept this\n');
      return 2;
    }
    process.stdout.write(FORMATTERS[output](results, !values['no-color'] && useColor(process.stdout)));
    return results.some(wouldBeDenied) ? 1 : 0;
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    process.stderr.write(`portcullis: ${err.message}\n`);
    return 2;
  } finally {
    await runtime.close();
  }
}

function usageError(message: string): number {
  process.stderr.write(`portcullis: ${message}\n${USAGE}\n`);
  return 2;
}
