// portcullis scan: evaluate what already runs in a cluster with the same engine as the webhook.
import { pino } from 'pino';
import { ConfigError } from '../config/load.js';
import { createKubeClient, KubeApiError, loadKubeConfig } from '../kube/client.js';
import { scanCluster } from '../audit/scan.js';
import { enforcePreview, formatPreviewTable, formatScanJson, formatScanTable, formatScanYaml } from '../audit/scan-format.js';
import { formatSarif } from '../audit/sarif.js';
import { formatJunit } from '../audit/junit.js';
import { wouldBeDenied } from '../audit/subject.js';
import { buildPolicyReports } from '../audit/reports.js';
import { ReportCrdMissingError, syncPolicyReports } from '../audit/report-sync.js';
import { progressBar } from '../audit/progress.js';
import { packageVersion } from '../audit/version.js';
import { POLICIES, POLICY_IDS } from '../../policies/index.js';
import { stringify } from 'yaml';
import { createRuntime } from './runtime.js';
import { parseCommand } from './flags.js';

const USAGE = `usage: portcullis scan [--kubeconfig FILE] [--context NAME] [--namespace NS]... [--config FILE]
                       [--output table|json|yaml|sarif|junit] [--write-reports]
                       [--preview-enforce [--policy ID]...]
  --kubeconfig FILE     kubeconfig (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --context NAME        kubeconfig context (default: the current one)
  -n, --namespace NS    scan only this namespace; repeatable (default: all)
  --config FILE         PortcullisConfig YAML (default: the built-in config)
  -o, --output FORMAT   table (default), json or yaml (portcullis.dev/scan/v1), sarif (SARIF 2.1.0), junit
  --write-reports       write wgpolicyk8s.io/v1alpha2 PolicyReports (one per namespace) and a ClusterPolicyReport
  --preview-enforce     show which workloads would be refused if the policies (--policy) or namespaces
                        (--namespace) were switched from audit to enforce, with the fix for each
  --policy ID           with --preview-enforce: a policy to switch; repeatable (default: all)
  --offline             no registry traffic: image-dependent checks use spec-only rules
  --page-size N         objects per list call (default 500)
  --no-progress         no progress bar on stderr
exit status: 0 nothing would be denied, 1 something would be denied (or refused in the preview), 2 bad input or API error`;

const FLAGS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n', multiple: true },
  config: { type: 'string' },
  output: { type: 'string', short: 'o', default: 'table' },
  'write-reports': { type: 'boolean', default: false },
  'preview-enforce': { type: 'boolean', default: false },
  policy: { type: 'string', multiple: true },
  'page-size': { type: 'string', default: '500' },
  offline: { type: 'boolean', default: false },
  'no-progress': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

const OUTPUTS = ['table', 'json', 'yaml', 'sarif', 'junit'];

export async function runScan(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const fail = (message: string): number => {
    process.stderr.write(`portcullis: ${message}\n`);
    return 2;
  };
  const output = values.output;
  if (!OUTPUTS.includes(output)) return fail(`--output: expected ${OUTPUTS.join('|')}, got "${output}"\n${USAGE}`);
  if (values['preview-enforce'] && !['table', 'json', 'yaml'].includes(output)) return fail(`--preview-enforce: expected --output table|json|yaml, got "${output}"`);
  if (values.policy?.length && !values['preview-enforce']) return fail('--policy: only with --preview-enforce');
  for (const p of values.policy ?? []) if (!POLICY_IDS.includes(p)) return fail(`--policy: expected one of ${POLICY_IDS.join(', ')}, got "${p}"`);
  const pageSize = Number(values['page-size']);
  if (!Number.isInteger(pageSize) || pageSize < 1) return fail(`--page-size: expected a positive integer, got "${values['page-size']}"`);

  const logger = pino({ level: 'warn' }, pino.destination(2));
  let runtime;
  try {
    runtime = await createRuntime({ configPath: values.config, logger, watch: false, offline: values.offline, policies: POLICIES });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`portcullis: config ${values.config}: ${p.path}: ${p.reason}\n`);
    return 2;
  }
  let client;
  try {
    client = createKubeClient(await loadKubeConfig({ ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}), ...(values.context ? { context: values.context } : {}) }));
  } catch (err) {
    await runtime.close();
    return fail(`kubeconfig: ${(err as Error).message}`);
  }
  const bar = values['no-progress'] ? undefined : progressBar();
  try {
    const namespaces = values.namespace ?? [];
    const report = await scanCluster({
      client,
      engine: runtime.engine,
      config: () => runtime.config.current(),
      namespaces,
      pageSize,
      ...(bar ? { onProgress: (p) => bar.update(p) } : {}),
    });
    bar?.done();
    if (values['write-reports']) {
      const built = buildPolicyReports(report.results, { now: new Date(), policies: POLICIES });
      const sync = await syncPolicyReports(client, built, { namespaces });
      process.stderr.write(`policy reports: ${sync.created} created, ${sync.updated} updated, ${sync.unchanged} unchanged, ${sync.deleted} deleted\n`);
    }
    if (values['preview-enforce']) {
      const preview = enforcePreview(report.results, runtime.config.current(), { policies: values.policy ?? [], namespaces });
      process.stdout.write(output === 'json' ? `${JSON.stringify(preview, null, 2)}\n` : output === 'yaml' ? stringify(preview, { lineWidth: 0 }) : formatPreviewTable(preview));
      return preview.summary.workloads > 0 ? 1 : 0;
    }
    const text =
      output === 'json' ? formatScanJson(report.results, report.stats)
      : output === 'yaml' ? formatScanYaml(report.results, report.stats)
      : output === 'sarif' ? formatSarif(report.results, { version: packageVersion(), policies: POLICIES })
      : output === 'junit' ? formatJunit(report.results, { suiteBy: 'namespace' })
      : formatScanTable(report.results, report.stats);
    process.stdout.write(text);
    return report.results.some(wouldBeDenied) ? 1 : 0;
  } catch (err) {
    bar?.done();
    if (err instanceof KubeApiError || err instanceof ReportCrdMissingError) return fail(err.message);
    if (err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+/.test((err as NodeJS.ErrnoException).code ?? '')) {
      return fail(`cannot reach the API server: ${err.message}`);
    }
    throw err;
  } finally {
    client.close();
    await runtime.close();
  }
}
