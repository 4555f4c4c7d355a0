// portcullis scan: evaluate what already runs in a cluster with the same engine as the webhook.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, KubeApiError, loadKubeConfig } from '../kube/client.js';
import { scanCluster } from '../audit/scan.js';
import { enforcePreview, formatPreviewTable, formatScanJson, formatScanTable, formatScanYaml } from '../audit/scan-format.js';
import { formatSarif } from '../audit/sarif.js';
import { formatJunit } from '../audit/junit.js';
import { wouldBeDenied } from '../audit/subject.js';
import { buildPolicyReports } from '../audit/reports.js';
import { ReportCrdMissingError, syncPolicyReports } from '../audit/report-sync.js';
import { parseReportApiChoice, resolveReportApi } from '../audit/report-api.js';
import { clusterExceptions, EXCEPTION_FLAGS, EXCEPTION_USAGE, exceptionFiles } from './exceptions.js';
import { ManifestError } from '../audit/manifests.js';
import { DurationError } from '../certs/duration.js';
import { progressBar } from '../audit/progress.js';
import { packageVersion } from '../audit/version.js';
import { POLICIES } from '../../policies/index.js';
import { stringify } from 'yaml';
import { useColor } from '../audit/table.js';
import { parseCommand } from './flags.js';
import { CONFIG_FLAGS, CONFIG_USAGE, openRuntime, OUTPUT_FORMATS } from './common.js';
import { cliLogger } from './log.js';
import { programName } from './program.js';

const USAGE = `usage: ${programName()} scan [--kubeconfig FILE] [--context NAME] [--namespace NS]... [--config FILE]
                       [--set ID.KEY=VALUE]... [--policy ID=ACTION]... [-o table|json|yaml|sarif|junit]
                       [--write-reports [--report-api auto|openreports|wgpolicyk8s]] [--exceptions PATH]...
                       [--preview-enforce [--policy ID]...]
  --kubeconfig FILE     kubeconfig (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --context NAME        kubeconfig context (default: the current one)
  -n, --namespace NS    scan only this namespace; repeatable (default: all)
${CONFIG_USAGE}
                        (json and yaml: portcullis.dev/scan/v1)
  --write-reports       write policy reports (one per namespace) and a cluster report
  --report-api API      auto (default: openreports.io/v1alpha1 Reports when the cluster serves them, else
                        wgpolicyk8s.io/v1alpha2 PolicyReports), openreports or wgpolicyk8s
${EXCEPTION_USAGE}
  --exception-namespace NS  also apply the PolicyExceptions in this cluster namespace (where the server reads
                        them, e.g. portcullis); repeatable
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
  ...CONFIG_FLAGS,
  'write-reports': { type: 'boolean', default: false },
  'report-api': { type: 'string', default: 'auto' },
  ...EXCEPTION_FLAGS,
  'exception-namespace': { type: 'string', multiple: true },
  'preview-enforce': { type: 'boolean', default: false },
  policy: { type: 'string', multiple: true },
  'page-size': { type: 'string', default: '500' },
  offline: { type: 'boolean', default: false },
  'no-progress': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

// A kubeconfig to use: --kubeconfig, $KUBECONFIG, ~/.kube/config, or a Pod's service account.
function kubeconfigAvailable(file: string | undefined): boolean {
  if (file || process.env.KUBECONFIG) return true;
  return existsSync(join(homedir(), '.kube', 'config')) || Boolean(process.env.KUBERNETES_SERVICE_HOST);
}

export async function runScan(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const fail = (message: string): number => {
    process.stderr.write(`portcullis: ${message}\n`);
    return 2;
  };
  const output = values.output;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(output)) return fail(`--output: expected ${OUTPUT_FORMATS.join('|')}, got "${output}"\n${USAGE}`);
  if (values['preview-enforce'] && !['table', 'json', 'yaml'].includes(output)) return fail(`--preview-enforce: expected --output table|json|yaml, got "${output}"`);
  const policyActions = (values.policy ?? []).filter((p) => p.includes('='));
  const previewPolicies = (values.policy ?? []).filter((p) => !p.includes('='));
  if (previewPolicies.length && !values['preview-enforce']) return fail('--policy ID: only with --preview-enforce (to change an action: --policy ID=ACTION)');
  const pageSize = Number(values['page-size']);
  if (!Number.isInteger(pageSize) || pageSize < 1) return fail(`--page-size: expected a positive integer, got "${values['page-size']}"`);

  let reportApi;
  let exceptions;
  const logger = cliLogger();
  try {
    reportApi = parseReportApiChoice(values['report-api']);
    exceptions = exceptionFiles(values.exceptions, values['exception-max-duration'], logger, (values['exception-namespace'] ?? []).length > 0);
  } catch (err) {
    if (err instanceof ManifestError || err instanceof DurationError) return fail(`--exceptions: ${err.message}`);
    return fail((err as Error).message);
  }
  if (!kubeconfigAvailable(values.kubeconfig)) {
    return fail('scan needs a cluster: expected --kubeconfig FILE, $KUBECONFIG or ~/.kube/config, got none (inside a Pod the service account is used)');
  }
  const runtime = await openRuntime({ config: values.config, set: values.set, policyActions, offline: values.offline, exceptions }, logger);
  if (typeof runtime === 'number') return runtime;
  const known = runtime.config.current().catalog.map((p) => p.id);
  const unknown = previewPolicies.find((p) => !known.includes(p));
  if (unknown !== undefined) {
    await runtime.close();
    return fail(`--policy: expected a built-in or declared custom policy id (${known.join(', ')}), got "${unknown}"`);
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
    if (exceptions && values['exception-namespace']?.length) await clusterExceptions(client, values['exception-namespace'], exceptions);
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
      const built = buildPolicyReports(report.results, { now: new Date(), policies: POLICIES, api: await resolveReportApi(client, reportApi) });
      const sync = await syncPolicyReports(client, built, { namespaces });
      process.stderr.write(`policy reports: ${sync.created} created, ${sync.updated} updated, ${sync.unchanged} unchanged, ${sync.deleted} deleted (${built.api.apiVersion})\n`);
    }
    if (values['preview-enforce']) {
      const preview = enforcePreview(report.results, runtime.config.current(), { policies: previewPolicies, namespaces });
      process.stdout.write(output === 'json' ? `${JSON.stringify(preview, null, 2)}\n` : output === 'yaml' ? stringify(preview, { lineWidth: 0 }) : formatPreviewTable(preview));
      return preview.summary.workloads > 0 ? 1 : 0;
    }
    const text =
      output === 'json' ? formatScanJson(report.results, report.stats)
      : output === 'yaml' ? formatScanYaml(report.results, report.stats)
      : output === 'sarif' ? formatSarif(report.results, { version: packageVersion(), policies: POLICIES })
      : output === 'junit' ? formatJunit(report.results, { suiteBy: 'namespace' })
      : formatScanTable(report.results, report.stats, { color: !values['no-color'] && useColor(process.stdout) });
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
