import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const volumes = (s: any, list: object[]) => (s.volumes = list);

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'no volumes', spec: specWith(() => undefined) },
    { name: 'a volume without a source (defaulted to emptyDir)', spec: specWith((s) => volumes(s, [{ name: 'bare' }])) },
    {
      name: 'every allowed type',
      spec: specWith((s) => volumes(s, [
        { name: 'a', configMap: { name: 'c' } }, { name: 'b', secret: { secretName: 's' } }, { name: 'c', emptyDir: {} },
        { name: 'd', projected: { sources: [] } }, { name: 'e', downwardAPI: {} }, { name: 'f', persistentVolumeClaim: { claimName: 'p' } },
        { name: 'g', csi: { driver: 'x' } }, { name: 'h', ephemeral: { volumeClaimTemplate: { spec: {} } } }, { name: 'i', image: { reference: 'r:1' } },
      ])),
    },
  ],
  fail: [
    { name: 'hostPath', sites: ['pod'], spec: specWith((s) => volumes(s, [{ name: 'h', hostPath: { path: '/' } }])) },
    { name: 'nfs', sites: ['pod'], spec: specWith((s) => volumes(s, [{ name: 'n', nfs: { server: 'nfs', path: '/' } }])) },
    { name: 'gitRepo among allowed ones', sites: ['pod'], spec: specWith((s) => volumes(s, [{ name: 'tmp', emptyDir: {} }, { name: 'src', gitRepo: { repository: 'https://example.com/r.git' } }])) },
  ],
};
