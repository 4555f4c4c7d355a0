// The server's background audit: every interval, the replica holding the Lease scans the cluster, updates the
// PolicyReports and the portcullis_audit_* metrics. Off by default (interval 0).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Config } from '../config/types.js';
import type { Engine } from '../engine/evaluate.js';
import type { KubeClient } from '../kube/client.js';
import { createKubeClient, loadKubeConfig } from '../kube/client.js';
import { claimScanSlot, releaseLease } from './lease.js';
import type { LeaseOptions } from './lease.js';
import { scanCluster } from './scan.js';
import type { ScanReport } from './scan.js';
import { buildPolicyReports } from './reports.js';
import { syncPolicyReports } from './report-sync.js';
import type { SyncStats } from './report-sync.js';
import { parseReportApiChoice, resolveReportApi } from './report-api.js';
import type { ReportApiChoice } from './report-api.js';

export interface BackgroundAuditOptions {
  readonly client: KubeClient;
  readonly engine: Engine;
  readonly config: () => Config;
  readonly logger: Logger;
  /** the server's metrics registry */
  readonly registry?: Registry;
  readonly intervalMs: number;
  readonly lease: Omit<LeaseOptions, 'leaseDurationSeconds'> & { readonly leaseDurationSeconds?: number };
  /** how often each replica checks the Lease (default: interval/4, between 5 s and 60 s) */
  readonly tickMs?: number;
  readonly writeReports: boolean;
  /** which report API to write (default auto: OpenReports when served, else wg-policy) */
  readonly reportApi?: ReportApiChoice;
  readonly pageSize?: number;
  readonly maxReportResults?: number;
  /** called after each scan this replica ran, with the time of the slot it claimed in the Lease (tests, logs) */
  readonly onScan?: (report: ScanReport, sync: SyncStats | undefined, slot: Date) => void;
}

export interface BackgroundAudit {
  /** whether this replica held the Lease at the last check */
  readonly leader: () => boolean;
  /** the scans this replica has run */
  readonly scans: () => number;
  stop(): Promise<void>;
}

interface AuditMetrics {
  violations: Gauge<'policy' | 'namespace' | 'action'>;
  scans: Counter<'result'>;
  lastScan: Gauge;
  duration: Gauge;
  leader: Gauge;
}

function metric<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

function auditMetrics(registry: Registry): AuditMetrics {
  const registers = [registry];
  return {
    violations: metric(registry, 'portcullis_audit_violations', () => new Gauge({
      name: 'portcullis_audit_violations',
      help: 'Violations found by the last background audit, by policy, namespace and configured action',
      labelNames: ['policy', 'namespace', 'action'] as const,
      registers,
    })),
    scans: metric(registry, 'portcullis_audit_scans_total', () => new Counter({
      name: 'portcullis_audit_scans_total',
      help: 'Background audit scans run by this replica, by result (ok, error)',
      labelNames: ['result'] as const,
      registers,
    })),
    lastScan: metric(registry, 'portcullis_audit_last_scan_timestamp_seconds', () => new Gauge({
      name: 'portcullis_audit_last_scan_timestamp_seconds',
      help: 'When the last background audit scan by this replica finished (Unix time)',
      registers,
    })),
    duration: metric(registry, 'portcullis_audit_scan_duration_seconds', () => new Gauge({
      name: 'portcullis_audit_scan_duration_seconds',
      help: 'How long the last background audit scan by this replica took',
      registers,
    })),
    leader: metric(registry, 'portcullis_audit_leader', () => new Gauge({
      name: 'portcullis_audit_leader',
      help: '1 while this replica holds the background audit Lease',
      registers,
    })),
  };
}

// Sets the violation gauge from one scan (series of fixed workloads disappear).
export function recordViolations(gauge: AuditMetrics['violations'], report: ScanReport, config: Config): void {
  gauge.reset();
  const counts = new Map<string, { policy: string; namespace: string; action: string; n: number }>();
  for (const r of report.results) {
    for (const v of r.decision.violations) {
      const action = config.policies[v.policy]?.action ?? v.effect;
      const key = `${v.policy}\u0000${r.namespace ?? ''}\u0000${action}`;
      const c = counts.get(key) ?? { policy: v.policy, namespace: r.namespace ?? '', action, n: 0 };
      c.n++;
      counts.set(key, c);
    }
  }
  for (const c of counts.values()) gauge.set({ policy: c.policy, namespace: c.namespace, action: c.action }, c.n);
}

// Starts the loop; the first Lease check happens at once.
export function startBackgroundAudit(options: BackgroundAuditOptions): BackgroundAudit {
  const { client, logger, intervalMs } = options;
  const tickMs = options.tickMs ?? Math.min(60_000, Math.max(5_000, Math.floor(intervalMs / 4)));
  const lease: LeaseOptions = { ...options.lease, leaseDurationSeconds: options.lease.leaseDurationSeconds ?? Math.max(15, Math.ceil((tickMs * 3) / 1000)) };
  const metrics = options.registry ? auditMetrics(options.registry) : undefined;
  let leader = false;
  let scans = 0;
  let scanning: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const scan = async (slot: Date): Promise<void> => {
    const config = options.config();
    const started = performance.now();
    try {
      const report = await scanCluster({ client, engine: options.engine, config: () => config, ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
      let sync: SyncStats | undefined;
      if (options.writeReports) {
        const api = await resolveReportApi(client, options.reportApi ?? 'auto');
        const built = buildPolicyReports(report.results, { now: new Date(), policies: config.catalog, api, ...(options.maxReportResults ? { maxResults: options.maxReportResults } : {}) });
        sync = await syncPolicyReports(client, built);
      }
      scans++;
      if (metrics) {
        recordViolations(metrics.violations, report, config);
        metrics.scans.inc({ result: 'ok' });
        metrics.lastScan.set(Date.now() / 1000);
        metrics.duration.set((performance.now() - started) / 1000);
      }
      logger.info({ slot: slot.toISOString(), workloads: report.stats.workloads, pods: report.stats.pods, calls: report.stats.calls, durationMs: report.stats.durationMs, reports: sync, ...(sync ? { reportApi: options.reportApi ?? 'auto' } : {}) }, 'background audit scan finished');
      options.onScan?.(report, sync, slot);
    } catch (err) {
      metrics?.scans.inc({ result: 'error' });
      logger.error({ err }, 'background audit scan failed');
    }
  };

  const tick = async (): Promise<void> => {
    if (stopped) return;
    try {
      const at = new Date();
      // while a scan still runs, only renew: the next slot is claimed when this replica can use it
      const slot = await claimScanSlot(client, lease, scanning ? Number.POSITIVE_INFINITY : intervalMs, at);
      if (slot.leader !== leader) logger.info({ identity: lease.identity, leader: slot.leader }, 'background audit lease changed hands');
      leader = slot.leader;
      metrics?.leader.set(leader ? 1 : 0);
      if (slot.scan && !scanning) {
        scanning = scan(at).finally(() => {
          scanning = undefined;
        });
      }
    } catch (err) {
      logger.warn({ err }, 'background audit lease check failed');
    }
    if (!stopped) {
      timer = setTimeout(() => void tick(), tickMs);
      timer.unref();
    }
  };
  void tick();

  return {
    leader: () => leader,
    scans: () => scans,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await scanning;
      if (leader) await releaseLease(client, lease);
      metrics?.leader.set(0);
    },
  };
}

/** Flags `portcullis serve` adds for the background audit (spread into its parseArgs options). */
export const AUDIT_SERVE_FLAGS = {
  'audit-interval': { type: 'string', default: '0' },
  'audit-reports': { type: 'boolean', default: false },
  'audit-lease-namespace': { type: 'string' },
  'audit-lease-name': { type: 'string', default: 'portcullis-audit' },
  'report-api': { type: 'string', default: 'auto' },
} as const;

export const AUDIT_SERVE_USAGE = `  --audit-interval MIN  background audit every MIN minutes on one replica (Lease); 0 = off (default)
  --audit-reports       the background audit writes policy reports (see --report-api)
  --report-api API      auto (default: openreports.io/v1alpha1 when the cluster serves it, else
                        wgpolicyk8s.io/v1alpha2), openreports or wgpolicyk8s
  --audit-lease-namespace NS  namespace of the Lease (default: --namespace, $POD_NAMESPACE, else the kubeconfig's)
  --audit-lease-name NAME     Lease name (default portcullis-audit)`;

export interface AuditServeValues {
  'audit-interval'?: string;
  'audit-reports'?: boolean;
  'audit-lease-namespace'?: string;
  'audit-lease-name'?: string;
  'report-api'?: string;
  /** serve's --kubeconfig and --namespace (default: in-cluster, $KUBECONFIG, ~/.kube/config; $POD_NAMESPACE) */
  kubeconfig?: string;
  namespace?: string;
}

// Starts the background audit from `portcullis serve` flags; undefined when --audit-interval is 0.
export async function startBackgroundAuditFromFlags(
  values: AuditServeValues,
  deps: { engine: Engine; config: () => Config; logger: Logger; registry: Registry },
): Promise<BackgroundAudit | undefined> {
  const minutes = Number(values['audit-interval'] ?? '0');
  if (!Number.isFinite(minutes) || minutes < 0) throw new Error(`--audit-interval: expected a number of minutes, got "${values['audit-interval']}"`);
  if (minutes === 0) return undefined;
  const reportApi = parseReportApiChoice(values['report-api']);
  const kc = await loadKubeConfig(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {});
  const client = createKubeClient(kc);
  const identity = `${process.env.POD_NAME ?? hostname()}_${randomBytes(4).toString('hex')}`;
  const audit = startBackgroundAudit({
    client,
    engine: deps.engine,
    config: deps.config,
    logger: deps.logger.child({ component: 'background-audit' }),
    registry: deps.registry,
    intervalMs: minutes * 60_000,
    lease: { namespace: values['audit-lease-namespace'] ?? values.namespace ?? process.env.POD_NAMESPACE ?? client.namespace, name: values['audit-lease-name'] ?? 'portcullis-audit', identity },
    writeReports: values['audit-reports'] === true,
    reportApi,
  });
  deps.logger.info({ intervalMinutes: minutes, identity, reports: values['audit-reports'] === true }, 'background audit enabled');
  return {
    ...audit,
    async stop() {
      await audit.stop();
      client.close();
    },
  };
}
