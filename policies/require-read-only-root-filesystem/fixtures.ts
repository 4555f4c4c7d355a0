import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'every container read-only', spec: specWith(() => undefined) },
    {
      name: 'init container read-only too',
      spec: specWith((s) => {
        s.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { readOnlyRootFilesystem: true } }];
      }),
    },
    { name: 'windows pods are exempt', podOnly: true, spec: specWith((s) => { s.os = { name: 'windows' }; delete s.containers[0].securityContext; }) },
  ],
  fail: [
    { name: 'unset', sites: ['containers[0]'], spec: specWith((s) => delete s.containers[0].securityContext.readOnlyRootFilesystem) },
    { name: 'false', sites: ['containers[0]'], spec: specWith((s) => (s.containers[0].securityContext.readOnlyRootFilesystem = false)) },
    { name: 'no securityContext', sites: ['containers[0]'], spec: specWith((s) => delete s.containers[0].securityContext) },
    {
      name: 'second container writable',
      sites: ['containers[1]'],
      spec: specWith((s) => s.containers.push({ name: 'sidecar', image: 'envoy:1.30', securityContext: {} })),
    },
    { name: 'init container writable', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36' }])) },
    {
      name: 'ephemeral container writable',
      podOnly: true,
      sites: ['ephemeralContainers[0]'],
      spec: specWith((s) => (s.ephemeralContainers = [{ name: 'debug', image: 'busybox:1.36', targetContainerName: 'app' }])),
    },
  ],
};
