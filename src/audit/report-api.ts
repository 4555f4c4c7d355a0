// The two report APIs portcullis writes: OpenReports (openreports.io/v1alpha1 Report, ClusterReport), the successor
// that Kyverno 1.15 writes and Policy Reporter reads, and the wg-policy prototype (wgpolicyk8s.io/v1alpha2
// PolicyReport, ClusterPolicyReport). Both carry the same results; `auto` takes whichever the cluster serves,
// OpenReports first.
import type { KubeClient } from '../kube/client.js';
import { PortcullisError } from '../errors.js';

export interface ReportApi {
  readonly name: 'openreports' | 'wgpolicyk8s';
  readonly group: string;
  readonly version: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly clusterKind: string;
  readonly plural: string;
  readonly clusterPlural: string;
}

export const OPENREPORTS: ReportApi = {
  name: 'openreports',
  group: 'openreports.io',
  version: 'v1alpha1',
  apiVersion: 'openreports.io/v1alpha1',
  kind: 'Report',
  clusterKind: 'ClusterReport',
  plural: 'reports',
  clusterPlural: 'clusterreports',
};

export const WGPOLICY: ReportApi = {
  name: 'wgpolicyk8s',
  group: 'wgpolicyk8s.io',
  version: 'v1alpha2',
  apiVersion: 'wgpolicyk8s.io/v1alpha2',
  kind: 'PolicyReport',
  clusterKind: 'ClusterPolicyReport',
  plural: 'policyreports',
  clusterPlural: 'clusterpolicyreports',
};

export const REPORT_API_CHOICES = ['auto', 'openreports', 'wgpolicyk8s'] as const;
export type ReportApiChoice = (typeof REPORT_API_CHOICES)[number];

export class ReportCrdMissingError extends PortcullisError<'POLICY_REPORT_CRD_MISSING'> {
  constructor(wanted: string) {
    super('POLICY_REPORT_CRD_MISSING', `report CRDs: expected ${wanted} served by the cluster, got none: apply deploy/crds/ (or enable the chart's CRDs)`);
  }
}

// Checks a --report-api value.
export function parseReportApiChoice(value: string | undefined, flag = '--report-api'): ReportApiChoice {
  const v = value ?? 'auto';
  if (!(REPORT_API_CHOICES as readonly string[]).includes(v)) throw new Error(`${flag}: expected ${REPORT_API_CHOICES.join('|')}, got "${v}"`);
  return v as ReportApiChoice;
}

interface GroupList {
  groups?: Array<{ name?: string; versions?: Array<{ version?: string }> }>;
}

// The API to write: the one chosen, or with `auto` the first of OpenReports and wg-policy the cluster serves
// (one GET /apis, the API group list). Throws ReportCrdMissingError when `auto` finds neither.
export async function resolveReportApi(client: KubeClient, choice: ReportApiChoice): Promise<ReportApi> {
  if (choice === 'openreports') return OPENREPORTS;
  if (choice === 'wgpolicyk8s') return WGPOLICY;
  const list = await client.request<GroupList>({ path: '/apis' });
  const serves = (api: ReportApi) => (list.groups ?? []).some((g) => g.name === api.group && (g.versions ?? []).some((v) => v.version === api.version));
  const found = [OPENREPORTS, WGPOLICY].find(serves);
  if (!found) throw new ReportCrdMissingError(`${OPENREPORTS.apiVersion} or ${WGPOLICY.apiVersion}`);
  return found;
}
