// The name the CLI was started as: "kubectl portcullis" when run as the kubectl plugin, else "portcullis".
import { basename } from 'node:path';

export function programName(argv: readonly string[] = process.argv): string {
  const invoked = basename(argv[1] ?? '');
  return invoked.startsWith('kubectl-portcullis') ? 'kubectl portcullis' : 'portcullis';
}
