import { describe, expect, it } from 'vitest';
import { podSiteOf } from './podspecs.js';
import { WorkloadError } from './k8s.js';

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' }, ownerReferences: [{ kind: 'Job', name: 'j' }] },
  spec: {
    hostNetwork: true,
    hostPID: false,
    restartPolicy: 'Never',
    securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ name: 'kernel.msgmax', value: '65536' }], windowsOptions: { hostProcess: false } },
    volumes: [{ name: 'h', hostPath: { path: '/etc' } }, { name: 'e', emptyDir: {} }, { name: 'bare' }],
    containers: [
      {
        name: 'app',
        image: 'app:1',
        ports: [{ containerPort: 8080, hostPort: 80 }],
        livenessProbe: { httpGet: { path: '/', port: 8080, host: '10.0.0.1' } },
        readinessProbe: { exec: { command: ['true'] } },
        lifecycle: { preStop: { tcpSocket: { port: 1, host: 'h' } } },
        resources: { limits: { cpu: 1, memory: '128Mi' }, requests: { cpu: '500m' } },
        env: [{ name: 'A', value: 'x' }, { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
        securityContext: {
          privileged: true,
          allowPrivilegeEscalation: false,
          procMount: 'Unmasked',
          seLinuxOptions: { type: 'spc_t' },
          appArmorProfile: { type: 'Localhost', localhostProfile: 'p' },
          capabilities: { add: ['NET_RAW'] },
        },
      },
    ],
  },
};

describe('the workload decoder', () => {
  it('yields the typed pod fields the policies read', () => {
    const site = podSiteOf(pod, '', 'Pod')!;
    expect(site.kind).toBe('Pod');
    expect(site.ownerKinds).toEqual(['Job']);
    expect(site.annotations).toEqual(pod.metadata.annotations);
    const { spec } = site;
    expect(spec).toMatchObject({ hostNetwork: true, hostPID: false, restartPolicy: 'Never' });
    expect(spec.securityContext).toMatchObject({ seccompProfile: { type: 'RuntimeDefault' }, sysctls: [{ name: 'kernel.msgmax', value: '65536' }], windowsOptions: { hostProcess: false } });
    expect(spec.volumes).toEqual([{ name: 'h', source: 'hostPath', hostPath: '/etc' }, { name: 'e', source: 'emptyDir' }, { name: 'bare', source: 'emptyDir' }]);
    const c = spec.containers[0]!;
    expect(c.ports).toEqual([{ containerPort: 8080, hostPort: 80 }]);
    expect(c.livenessProbe).toEqual({ actions: ['httpGet'], httpGetHost: '10.0.0.1' });
    expect(c.readinessProbe).toEqual({ actions: ['exec'] });
    expect(c.lifecycle?.preStop).toEqual({ actions: ['tcpSocket'], tcpSocketHost: 'h' });
    expect(c.resources).toEqual({ limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '500m' } });
    expect(c.env).toEqual([{ name: 'A', value: 'x', fromSource: false }, { name: 'B', fromSource: true }]);
    expect(c.securityContext).toMatchObject({ privileged: true, allowPrivilegeEscalation: false, procMount: 'Unmasked', seLinuxOptions: { type: 'spc_t', user: '', role: '', level: '' }, appArmorProfile: { type: 'Localhost', localhostProfile: 'p' } });
  });

  it('reads the pod template metadata of a controller', () => {
    const deploy = { spec: { template: { metadata: { annotations: { a: 'b' } }, spec: { containers: [] } } } };
    expect(podSiteOf(deploy, 'apps', 'Deployment')?.annotations).toEqual({ a: 'b' });
  });

  it('names a mistyped field with code INVALID_FIELD', () => {
    const bad = { spec: { containers: [{ name: 'a', ports: [{ hostPort: '80' }] }] } };
    expect(() => podSiteOf(bad, '', 'Pod')).toThrowError(expect.objectContaining({ code: 'INVALID_FIELD', path: 'spec.containers[0].ports[0].hostPort' }));
    expect(() => podSiteOf({ spec: { securityContext: { sysctls: 'x' } } }, '', 'Pod')).toThrowError(WorkloadError);
  });
});
