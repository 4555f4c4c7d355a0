// Locates the Go tools built by scripts/go-tools.sh.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export type GoTool =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kubectl'
  | 'helm'
  | 'cosign2'
  | 'cosign3'
  | 'crane'
  | 'psa-webhook'
  | 'ocireg';

// The bin folder of $PORTCULLIS_TOOLS (default ~/.cache/portcullis/tools).
export function toolsBin(): string {
  const root = process.env.PORTCULLIS_TOOLS ?? join(homedir(), '.cache', 'portcullis', 'tools');
  return join(root, 'bin');
}

// The path of a built tool; throws with the command that builds it when it is missing.
export function toolPath(tool: GoTool, bin = toolsBin()): string {
  const p = join(bin, tool);
  if (!existsSync(p)) {
    throw new Error(`expected ${tool} at ${p}, got nothing: run scripts/go-tools.sh`);
  }
  return p;
}

// True when every listed tool has been built.
export function haveTools(tools: GoTool[], bin = toolsBin()): boolean {
  return tools.every((t) => existsSync(join(bin, t)));
}
