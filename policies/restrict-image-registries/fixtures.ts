import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const ALLOWED = { allowed: ['registry.example.com/**', 'docker.io/library/*'] };
const image = (ref: string) => specWith((s) => (s.containers[0].image = ref));

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'allowed registry', params: ALLOWED, spec: specWith(() => undefined) },
    { name: 'docker official image, normalized', params: ALLOWED, spec: image('nginx:1.27') },
    { name: 'by digest', params: ALLOWED, spec: image('registry.example.com/team/app@sha256:3f1c4a3e0f0b8d4f2c9d8b7a6e5f4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3') },
  ],
  fail: [
    { name: 'other registry', params: ALLOWED, sites: ['containers[0]'], spec: image('ghcr.io/someone/app:1.0') },
    { name: 'docker hub user image (not library/*)', params: ALLOWED, sites: ['containers[0]'], spec: image('someone/app:1.0') },
    { name: 'look-alike host', params: ALLOWED, sites: ['containers[0]'], spec: image('registry.example.com.evil.io/team/app:1') },
    { name: 'unparsable reference', params: ALLOWED, sites: ['containers[0]'], spec: image('Registry.Example.com/App:1') },
    { name: 'init container from another registry', params: ALLOWED, sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'quay.io/x/y:1' }])) },
  ],
};
