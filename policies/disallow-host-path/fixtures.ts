import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'no volumes', spec: specWith(() => undefined) },
    { name: 'emptyDir and configMap', spec: specWith((s) => (s.volumes = [{ name: 'tmp', emptyDir: {} }, { name: 'cfg', configMap: { name: 'c' } }])) },
  ],
  fail: [
    { name: 'hostPath volume', sites: ['pod'], spec: specWith((s) => (s.volumes = [{ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }])) },
    { name: 'hostPath among others', sites: ['pod'], spec: specWith((s) => (s.volumes = [{ name: 'tmp', emptyDir: {} }, { name: 'root', hostPath: { path: '/', type: 'Directory' } }])) },
  ],
};
