// portcullis version (and --version): the package version, the commit it was built from, the Kubernetes it supports.
import { buildInfo } from '../audit/version.js';

/** The Kubernetes versions portcullis supports: the chart's kubeVersion (charts/portcullis/Chart.yaml). */
export const KUBERNETES_SUPPORTED = '>=1.27.0-0';
/** The Kubernetes release the end-to-end suite runs against (K8S_VERSION in scripts/go-tools.sh). */
export const KUBERNETES_TESTED = 'v1.37.2';

// The lines `portcullis version` prints.
export function versionText(): string {
  const { version, commit } = buildInfo();
  return [
    `portcullis ${version}`,
    `commit: ${commit}`,
    `kubernetes: ${KUBERNETES_SUPPORTED} (tested with ${KUBERNETES_TESTED})`,
    `node: ${process.version}`,
  ].join('\n');
}

export async function runVersion(argv: string[]): Promise<number> {
  if (argv.length > 0 && !(argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h'))) {
    process.stderr.write(`portcullis: version takes no arguments, got ${argv.join(' ')}\n`);
    return 2;
  }
  process.stdout.write(`${versionText()}\n`);
  return 0;
}
