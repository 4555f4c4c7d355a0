import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'no host namespaces', spec: specWith(() => undefined) },
    { name: 'explicit false', spec: specWith((s) => { s.hostNetwork = false; s.hostPID = false; s.hostIPC = false; }) },
  ],
  fail: [
    { name: 'hostNetwork', sites: ['pod'], spec: specWith((s) => (s.hostNetwork = true)) },
    { name: 'hostPID', sites: ['pod'], spec: specWith((s) => (s.hostPID = true)) },
    { name: 'hostIPC', sites: ['pod'], spec: specWith((s) => (s.hostIPC = true)) },
    { name: 'windows pod with hostNetwork', podOnly: true, sites: ['pod'], spec: specWith((s) => { s.os = { name: 'windows' }; s.hostNetwork = true; }) },
  ],
};
