// Pod Security Standards profiles: with the podSecurity preset for a profile (every other policy off, no image
// facts), portcullis allows every pass/ Pod of kubernetes/pod-security-admission's testdata for that profile at
// v1.37 and refuses every fail/ Pod, for the check its file name gives. Prints the counts.
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configFromObject } from '../../src/config/load.js';
import { createEngine } from '../../src/engine/evaluate.js';
import type { PodSecurityLevel } from '../../src/engine/types.js';
import { POLICIES } from '../../policies/index.js';
import { evaluateObject } from '../helpers/pods.js';
import type { Json } from '../helpers/pods.js';
import { CORPUS } from './corpus.js';

const VERSION = 'v1.37';

/** The portcullis policy for each PSA check id (file names are the check ids, lowercased, plus an index). */
const POLICY_OF_CHECK: Readonly<Record<string, string>> = {
  windowshostprocess: 'disallow-host-process',
  hostnamespaces: 'disallow-host-namespaces',
  privileged: 'disallow-privileged',
  capabilities_baseline: 'restrict-capabilities',
  hostpathvolumes: 'disallow-host-path',
  hostports: 'disallow-host-ports',
  apparmorprofile: 'restrict-apparmor',
  selinuxoptions: 'restrict-selinux',
  procmount: 'restrict-proc-mount',
  seccompprofile_baseline: 'restrict-seccomp',
  sysctls: 'restrict-sysctls',
  hostprobesandhostlifecycle: 'disallow-host-probes',
  restrictedvolumes: 'restrict-volume-types',
  allowprivilegeescalation: 'disallow-privilege-escalation',
  runasnonroot: 'require-non-root-user',
  runasuser: 'require-non-root-user',
  seccompprofile_restricted: 'restrict-seccomp',
  capabilities_restricted: 'require-drop-all-capabilities',
  procmount_restricted: 'restrict-proc-mount',
};

const BASELINE = [
  'disallow-host-process', 'disallow-host-namespaces', 'disallow-privileged', 'restrict-capabilities', 'disallow-host-path',
  'disallow-host-ports', 'restrict-apparmor', 'restrict-selinux', 'restrict-proc-mount', 'restrict-seccomp', 'restrict-sysctls',
  'disallow-host-probes',
];
const RESTRICTED = [...BASELINE, 'restrict-volume-types', 'disallow-privilege-escalation', 'require-non-root-user', 'require-drop-all-capabilities'];

// The policies a profile's preset turns on, from the policies' own podSecurity metadata.
function profilePolicies(level: PodSecurityLevel): string[] {
  return POLICIES.filter((p) => p.podSecurity && (level === 'restricted' || p.podSecurity.baseline)).map((p) => p.id);
}

// An engine with the profile's preset and every policy outside the profile off (the preset's own choice otherwise).
function engineFor(level: PodSecurityLevel) {
  const inProfile = new Set(profilePolicies(level));
  const off = Object.fromEntries(POLICIES.filter((p) => !inProfile.has(p.id)).map((p) => [p.id, { action: 'off' }]));
  const config = configFromObject({ apiVersion: 'portcullis.dev/v1alpha1', kind: 'PortcullisConfig', podSecurity: { level }, policies: off });
  return createEngine({ config: () => config });
}

function files(level: PodSecurityLevel, verdict: 'pass' | 'fail'): string[] {
  return readdirSync(new URL(`psa/test/testdata/${level}/${VERSION}/${verdict}/`, CORPUS)).filter((f) => f.endsWith('.yaml')).sort();
}

const checkOf = (file: string): string => file.replace(/\d*\.yaml$/, '');

describe('Pod Security Standards profiles (PSA testdata v1.37)', () => {
  it('the presets turn on exactly the policies of each profile', () => {
    expect(profilePolicies('baseline').sort()).toEqual([...BASELINE].sort());
    expect(profilePolicies('restricted').sort()).toEqual([...RESTRICTED].sort());
  });

  const counts: Array<{ level: PodSecurityLevel; verdict: string; files: number; agree: number }> = [];
  for (const level of ['baseline', 'restricted'] as const) {
    for (const verdict of ['pass', 'fail'] as const) {
      it(`${level}: every ${verdict}/ Pod is ${verdict === 'pass' ? 'allowed' : 'refused for its check'}`, async () => {
        const engine = engineFor(level);
        const wrong: string[] = [];
        const list = files(level, verdict);
        for (const file of list) {
          const pod = parse(readFileSync(new URL(`psa/test/testdata/${level}/${VERSION}/${verdict}/${file}`, CORPUS), 'utf8')) as Json;
          const decision = await evaluateObject(engine, { ...pod, metadata: { ...pod.metadata, namespace: 'default' } });
          if (verdict === 'pass') {
            if (!decision.allowed) wrong.push(`${file}: ${decision.message ?? ''}`);
            continue;
          }
          const policy = POLICY_OF_CHECK[checkOf(file)];
          expect(policy, `a policy for check ${checkOf(file)}`).toBeDefined();
          if (decision.allowed || !decision.violations.some((v) => v.policy === policy && v.effect === 'deny')) {
            wrong.push(`${file}: expected a denial by ${policy}, got ${decision.allowed ? 'allowed' : decision.violations.map((v) => v.policy).join(', ')}`);
          }
        }
        counts.push({ level, verdict, files: list.length, agree: list.length - wrong.length });
        console.log(`PSA ${level} ${VERSION} ${verdict}/: ${list.length - wrong.length}/${list.length} ${verdict === 'pass' ? 'allowed' : 'refused for their check'}`);
        expect(wrong).toEqual([]);
      });
    }
  }

  it('covers all 148 files, each agreeing', () => {
    const total = counts.reduce((n, c) => n + c.files, 0);
    const agree = counts.reduce((n, c) => n + c.agree, 0);
    console.log(`PSA profiles ${VERSION}: ${agree}/${total} files agree`);
    expect(total).toBe(148);
    expect(agree).toBe(148);
  });
});
