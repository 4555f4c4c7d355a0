import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const DIGEST = 'sha256:3f1c4a3e0f0b8d4f2c9d8b7a6e5f4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3';
const image = (ref: string) => specWith((s) => (s.containers[0].image = ref));

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'version tag', spec: image('nginx:1.27.3') },
    { name: 'registry with port and tag', spec: image('registry.example.com:5000/team/app:v2') },
    { name: 'digest only', spec: image(`nginx@${DIGEST}`) },
    { name: 'latest with digest (digest is immutable)', spec: image(`nginx:latest@${DIGEST}`) },
    { name: 'requireDigest satisfied', params: { requireDigest: true }, spec: image(`ghcr.io/org/app:1.0@${DIGEST}`) },
    { name: 'custom disallowed tags allow latest-ish names', params: { disallowedTags: ['latest', 'main'] }, spec: image('app:latest-2024') },
    { name: 'windows pods are checked too (pass)', podOnly: true, spec: specWith((s) => { s.os = { name: 'windows' }; s.containers[0].image = 'mcr.microsoft.com/windows/servercore:ltsc2022'; }) },
  ],
  fail: [
    { name: 'no tag', sites: ['containers[0]'], spec: image('nginx') },
    { name: 'latest', sites: ['containers[0]'], spec: image('nginx:latest') },
    { name: 'registry port but no tag', sites: ['containers[0]'], spec: image('registry.example.com:5000/team/app') },
    { name: 'localhost registry, no tag', sites: ['containers[0]'], spec: image('localhost/app') },
    { name: 'custom disallowed tag', params: { disallowedTags: ['latest', 'main'] }, sites: ['containers[0]'], spec: image('app:main') },
    { name: 'requireDigest with tag only', params: { requireDigest: true }, sites: ['containers[0]'], spec: image('nginx:1.27.3') },
    { name: 'unparsable reference', sites: ['containers[0]'], spec: image('Nginx:1.0') },
    { name: 'empty image', sites: ['containers[0]'], spec: image('') },
    { name: 'init container untagged', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox', securityContext: { readOnlyRootFilesystem: true } }])) },
    { name: 'ephemeral container latest', podOnly: true, sites: ['ephemeralContainers[0]'], spec: specWith((s) => (s.ephemeralContainers = [{ name: 'debug', image: 'busybox:latest' }])) },
    { name: 'windows pod untagged', podOnly: true, sites: ['containers[0]'], spec: specWith((s) => { s.os = { name: 'windows' }; s.containers[0].image = 'mcr.microsoft.com/windows/servercore'; }) },
  ],
};
