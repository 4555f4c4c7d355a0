import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';
import { imageError, imageUser } from '../../test/helpers/facts.js';

const noUser = (tweak: (s: any) => void = () => undefined) =>
  specWith((s) => {
    delete s.securityContext.runAsUser;
    tweak(s);
  });
const noUserNoNonRoot = () => noUser((s) => delete s.securityContext.runAsNonRoot);

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'pod runAsUser 10001 and runAsNonRoot', spec: specWith(() => undefined) },
    { name: 'container runAsUser overrides pod 0', spec: specWith((s) => { s.securityContext.runAsUser = 1000; s.containers[0].securityContext.runAsUser = 1000; }) },
    { name: 'runAsUser without runAsNonRoot', spec: specWith((s) => delete s.securityContext.runAsNonRoot) },
    { name: 'no UID, runAsNonRoot true, no image facts (kubelet enforces)', spec: noUser() },
    { name: 'no UID, image User 1000', facts: imageUser('1000'), spec: noUserNoNonRoot() },
    { name: 'no UID, image User 65532:65532', facts: imageUser('65532:65532'), spec: noUserNoNonRoot() },
    { name: 'named image user allowed by parameter', params: { allowNamedUsers: true }, facts: imageUser('nginx'), spec: noUserNoNonRoot() },
    { name: 'registry error falls back to spec rule (runAsNonRoot true)', facts: imageError('registry.example.com: 503 Service Unavailable after 2 tries'), spec: noUser() },
    { name: 'onError allow', params: { onError: 'allow' }, facts: imageError('registry.example.com: timeout'), spec: noUserNoNonRoot() },
    { name: 'requireRunAsNonRoot satisfied', params: { requireRunAsNonRoot: true }, spec: specWith(() => undefined) },
    { name: 'windows pods are exempt', podOnly: true, spec: specWith((s) => { s.os = { name: 'windows' }; delete s.securityContext; }) },
  ],
  fail: [
    { name: 'container runAsUser 0', sites: ['containers[0]'], spec: specWith((s) => (s.containers[0].securityContext.runAsUser = 0)) },
    { name: 'pod runAsUser 0 inherited', sites: ['containers[0]'], spec: specWith((s) => (s.securityContext.runAsUser = 0)) },
    { name: 'pod runAsUser 0, every container overrides', sites: ['pod'], spec: specWith((s) => { s.securityContext.runAsUser = 0; s.containers[0].securityContext.runAsUser = 1000; }) },
    { name: 'runAsNonRoot true with UID 0', sites: ['containers[0]'], spec: specWith((s) => { s.containers[0].securityContext.runAsUser = 0; s.containers[0].securityContext.runAsNonRoot = true; }) },
    { name: 'no UID and runAsNonRoot unset, no image facts', sites: ['containers[0]'], spec: noUserNoNonRoot() },
    { name: 'no UID and runAsNonRoot false on container', sites: ['containers[0]'], spec: noUser((s) => (s.containers[0].securityContext.runAsNonRoot = false)) },
    { name: 'image User empty (root)', facts: imageUser(''), sites: ['containers[0]'], spec: noUserNoNonRoot() },
    { name: 'image User 0', facts: imageUser('0'), sites: ['containers[0]'], spec: noUserNoNonRoot() },
    { name: 'image User root', facts: imageUser('root'), sites: ['containers[0]'], spec: noUser() },
    { name: 'image User 0:0', facts: imageUser('0:0'), sites: ['containers[0]'], spec: noUserNoNonRoot() },
    { name: 'image User nginx (named)', facts: imageUser('nginx'), sites: ['containers[0]'], spec: noUserNoNonRoot() },
    { name: 'onError deny', params: { onError: 'deny' }, facts: imageError('registry.example.com: 401 Unauthorized'), sites: ['containers[0]'], spec: noUser() },
    { name: 'registry error falls back to spec rule (runAsNonRoot unset)', facts: imageError('registry.example.com: 429 Too Many Requests after 2 tries'), sites: ['containers[0]'], spec: noUserNoNonRoot() },
    { name: 'requireRunAsNonRoot with only runAsUser', params: { requireRunAsNonRoot: true }, sites: ['containers[0]'], spec: specWith((s) => delete s.securityContext.runAsNonRoot) },
    { name: 'requireRunAsNonRoot, pod false overridden by every container', params: { requireRunAsNonRoot: true }, sites: ['pod'], spec: specWith((s) => { s.securityContext.runAsNonRoot = false; s.containers[0].securityContext.runAsNonRoot = true; }) },
    { name: 'init container root', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', securityContext: { runAsUser: 0 } }])) },
    { name: 'ephemeral debug container root', podOnly: true, sites: ['ephemeralContainers[0]'], spec: specWith((s) => (s.ephemeralContainers = [{ name: 'debug', image: 'busybox:1.36', securityContext: { runAsUser: 0 } }])) },
  ],
};
