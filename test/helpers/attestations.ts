// Attestation predicates for tests: the vendored scanner reports and SLSA provenance (test/fixtures/attestations),
// with their scan times moved to a given moment, written where cosign can read them.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const VULN_PREDICATE = 'https://cosign.sigstore.dev/attestation/vuln/v1';
export const SLSA_V1 = 'https://slsa.dev/provenance/v1';
export const SLSA_V02 = 'https://slsa.dev/provenance/v0.2';
export const TRIVY_PREDICATE = 'https://aquasecurity.github.io/trivy/report/json';
export const GRYPE_PREDICATE = 'https://anchore.com/grype/report/json';

export type PredicateFile = 'trivy-cosign-vuln' | 'trivy-report' | 'grype-report' | 'slsa-provenance-v1' | 'slsa-provenance-v0.2';

const dir = new URL('../fixtures/attestations/', import.meta.url);

// The vendored predicate, with every scan time set to `at` (ISO) when given.
export function predicate(name: PredicateFile, at?: Date): Record<string, any> {
  const doc = JSON.parse(readFileSync(new URL(`${name}.json`, dir), 'utf8')) as Record<string, any>;
  if (!at) return doc;
  const iso = at.toISOString();
  if (doc.metadata?.scanFinishedOn) {
    doc.metadata.scanFinishedOn = iso;
    doc.metadata.scanStartedOn = new Date(at.getTime() - 2000).toISOString();
  }
  if (doc.scanner?.result?.CreatedAt) doc.scanner.result.CreatedAt = iso;
  if (doc.CreatedAt) doc.CreatedAt = iso;
  if (doc.descriptor?.timestamp) doc.descriptor.timestamp = iso;
  return doc;
}

let tmp: string | undefined;
let n = 0;

// Writes a predicate to a temporary file for `cosign attest --predicate`.
export function predicateFile(doc: unknown): string {
  if (!tmp) {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-predicates-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    tmp = dir;
  }
  const path = join(tmp, `predicate-${++n}.json`);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

export const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);

// The predicate without the vulnerabilities of these severities (Trivy, cosign vuln or Grype).
export function without(doc: Record<string, any>, ...severities: string[]): Record<string, any> {
  const copy = structuredClone(doc);
  const drop = new Set(severities.map((s) => s.toUpperCase()));
  const trivy = copy.scanner?.result ?? copy;
  for (const r of trivy.Results ?? []) r.Vulnerabilities = (r.Vulnerabilities ?? []).filter((v: { Severity: string }) => !drop.has(v.Severity));
  if (Array.isArray(copy.matches)) copy.matches = copy.matches.filter((m: { vulnerability: { severity: string } }) => !drop.has(m.vulnerability.severity.toUpperCase()));
  return copy;
}
