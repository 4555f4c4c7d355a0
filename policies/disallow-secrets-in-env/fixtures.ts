import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';
import { factsFor, TEST_DIGEST } from '../../test/helpers/facts.js';

// test values assembled at run time, so no scanner mistakes this file for a leak
const GITHUB = ['ghp', '_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8'].join('');
const AWS_ID = ['AKIA', 'IOSFODNN7EXAMPLE'].join('');
const KEY = ['-----BEGIN', ' RSA PRIVATE KEY-----\nMIIEow...\n-----END RSA PRIVATE KEY-----'].join('');
const env = (list: object[]) => specWith((s) => (s.containers[0].env = list));
// one Env array for several fixtures, as one cached image fact is for every review of the image
const BAKED = ['PATH=/usr/bin', `GITHUB_TOKEN=${GITHUB}`];
const imageEnv = (entries: string[]) => factsFor(() => ({ status: 'ok', digest: TEST_DIGEST, user: '1000', platform: 'linux/amd64', env: entries, compressedSize: 1 }));

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'secretKeyRef', spec: env([{ name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }]) },
    { name: 'ordinary values', spec: env([{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'TOKEN_FILE', value: '/var/run/secrets/token' }, { name: 'SIGNING_PUBLIC_KEY', value: 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE' }]) },
    { name: 'low-entropy placeholder under a credential name', spec: env([{ name: 'DB_PASSWORD', value: 'changeme' }, { name: 'API_TOKEN', value: '$(TOKEN)' }]) },
    { name: 'clean image Env', facts: imageEnv(['PATH=/usr/local/bin:/usr/bin', 'NGINX_VERSION=1.27.3']), spec: specWith(() => undefined) },
    { name: 'ignoreNames', params: { ignoreNames: ['SESSION_KEY'] }, spec: env([{ name: 'SESSION_KEY', value: 'q8Zr3vK1xP0mW7tY2nB5' }]) },
    { name: 'ignoreNames on the image Env (an Env reported without them)', params: { ignoreNames: ['GITHUB_TOKEN'] }, facts: imageEnv(BAKED), spec: specWith(() => undefined) },
    { name: 'image Env not inspected by parameter', params: { inspectImageEnv: false }, facts: imageEnv([`GITHUB_TOKEN=${GITHUB}`]), spec: specWith(() => undefined) },
  ],
  fail: [
    { name: 'GitHub token', sites: ['containers[0]'], spec: env([{ name: 'GH', value: GITHUB }]) },
    { name: 'AWS access key ID', sites: ['containers[0]'], spec: env([{ name: 'AWS_ACCESS_KEY_ID', value: AWS_ID }]) },
    { name: 'private key', sites: ['containers[0]'], spec: env([{ name: 'TLS', value: KEY }]) },
    { name: 'high-entropy password', sites: ['containers[0]'], spec: env([{ name: 'DB_PASSWORD', value: 'x9#Lq2!vR7@mK4$w' }]) },
    { name: 'URL with a password', sites: ['containers[0]'], spec: env([{ name: 'DATABASE_URL', value: 'postgres://app:s3cr3tPassw0rd@db:5432/app' }]) },
    { name: 'init container token', sites: ['initContainers[0]'], spec: specWith((s) => (s.initContainers = [{ name: 'init', image: 'busybox:1.36', env: [{ name: 'API_TOKEN', value: 'Zk3pQ9xV2mR8tL5wN1yB' }] }])) },
    { name: 'secret baked into the image Env', facts: imageEnv(BAKED), sites: ['containers[0]'], spec: specWith(() => undefined) },
    { name: 'secret baked into the image Env, after a review with ignoreNames', facts: imageEnv(BAKED), sites: ['containers[0]'], spec: specWith(() => undefined) },
  ],
};
