import { specWith } from '../../test/helpers/pods.js';
import type { PolicyFixtures } from '../../test/helpers/fixtures.js';

const sc = (s: any) => s.containers[0].securityContext;
const windows = (s: any) => { s.os = { name: 'windows' }; };

export const fixtures: PolicyFixtures = {
  pass: [
    { name: 'no windowsOptions', spec: specWith(() => undefined) },
    { name: 'hostProcess false on pod and container', podOnly: true, spec: specWith((s) => { windows(s); s.securityContext = { windowsOptions: { hostProcess: false } }; s.containers[0].securityContext = { windowsOptions: { hostProcess: false, runAsUserName: 'ContainerUser' } }; }) },
  ],
  fail: [
    { name: 'pod hostProcess', sites: ['pod'], spec: specWith((s) => { windows(s); s.securityContext.windowsOptions = { hostProcess: true }; }) },
    { name: 'container hostProcess', sites: ['containers[0]'], spec: specWith((s) => { windows(s); sc(s).windowsOptions = { hostProcess: true }; }) },
    { name: 'init container hostProcess', sites: ['initContainers[0]'], spec: specWith((s) => { windows(s); s.initContainers = [{ name: 'init', image: 'mcr.microsoft.com/windows/nanoserver:ltsc2022', securityContext: { windowsOptions: { hostProcess: true } } }]; }) },
  ],
};
