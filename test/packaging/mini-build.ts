// Executes the Dockerfile's stages without Docker: each stage gets its own directory standing in for its root
// filesystem; WORKDIR, COPY (from the build context through .dockerignore, or --from an earlier stage) and RUN (in
// bash, BuildKit --mount options dropped) are carried out; the other instructions are metadata the caller reads.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import picomatch from 'picomatch';
import { REPO_ROOT } from './dockerfile.js';
import type { Stage } from './dockerfile.js';

// Docker's .dockerignore semantics: the last matching pattern wins, "!" re-includes.
export function dockerignore(text: string): (path: string) => boolean {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return (path) => {
    let out = false;
    for (const line of lines) {
      const negate = line.startsWith('!');
      const pattern = negate ? line.slice(1) : line;
      if (picomatch.isMatch(path, pattern, { dot: true }) || picomatch.isMatch(path, `${pattern}/**`, { dot: true })) out = !negate;
    }
    return out;
  };
}

export interface BuiltStage {
  readonly name: string;
  /** the directory standing in for the stage's root filesystem */
  readonly root: string;
  readonly workdir: string;
  readonly log: string[];
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

// Runs every stage but the last; returns the stages by name, and a copier for the last stage's COPY lines.
export function buildStages(stages: readonly Stage[], workspace: string, env: NodeJS.ProcessEnv): Map<string, BuiltStage> {
  const ignored = dockerignore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
  const built = new Map<string, BuiltStage>();
  stages.forEach((stage, i) => {
    const name = stage.name ?? String(i);
    const root = join(workspace, name);
    mkdirSync(root, { recursive: true });
    let workdir = '/';
    const log: string[] = [];
    const at = (p: string) => join(root, posix.isAbsolute(p) ? p : posix.join(workdir, p));
    for (const ins of stage.instructions) {
      if (ins.keyword === 'WORKDIR') {
        workdir = posix.resolve(workdir, ins.args);
        mkdirSync(at('.'), { recursive: true });
      } else if (ins.keyword === 'COPY') {
        copy(ins.args, at, built, ignored);
      } else if (ins.keyword === 'RUN' && i < stages.length - 1) {
        const command = ins.args.replace(/--mount=\S+\s*/g, '').trim();
        const res = spawnSync('bash', ['-eo', 'pipefail', '-c', command], { cwd: at('.'), env, encoding: 'utf8', timeout: 600_000 });
        log.push(`RUN ${command}\n${res.stdout}${res.stderr}`);
        if (res.status !== 0) throw new Error(`stage ${name}: expected "${command}" to exit 0, got ${res.status}:\n${res.stderr}`);
      }
    }
    built.set(name, { name, root, workdir, log });
  });
  return built;
}

// COPY [--from=stage] [--chown=...] src... dest
function copy(args: string, at: (p: string) => string, built: Map<string, BuiltStage>, ignored: (p: string) => boolean): void {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  const dest = paths.pop() as string;
  const intoDir = dest.endsWith('/') || dest === '.' || paths.length > 1;
  for (const src of paths) {
    if (from !== undefined) {
      const stage = built.get(from);
      if (!stage) throw new Error(`COPY --from=${from}: expected an earlier stage, got none`);
      const source = join(stage.root, src);
      const target = intoDir ? join(at(dest), posix.basename(src)) : at(dest);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(source, target, { recursive: true });
      continue;
    }
    // from the build context, through .dockerignore
    const source = join(REPO_ROOT, src);
    if (!existsSync(source) || ignored(src)) throw new Error(`COPY ${src}: not in the build context (missing or .dockerignored)`);
    if (statSync(source).isDirectory()) {
      for (const file of walk(source)) {
        const rel = relative(REPO_ROOT, file);
        if (ignored(rel)) continue;
        const target = join(at(dest), relative(source, file));
        mkdirSync(dirname(target), { recursive: true });
        cpSync(file, target);
      }
    } else {
      const target = intoDir ? join(at(dest), posix.basename(src)) : at(dest);
      mkdirSync(dirname(target), { recursive: true });
      cpSync(source, target);
    }
  }
}
