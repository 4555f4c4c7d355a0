// Watches the custom-policy directories: inotify (fs.watch) for a prompt reaction, and a poll of each policy file's
// identity (followed through symlinks, so a ConfigMap's `..data` swap counts) for what fs.watch misses. A change is
// reported once the directories have been quiet for `debounceMs`.
import { readdirSync, statSync, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { POLICY_FILE } from '../custom/load.js';

export interface DirectoryWatch {
  /** watch exactly these directories (after a reload that changed customPolicies.directories) */
  set(dirs: readonly string[]): void;
  close(): void;
}

// What the loader would read in the directory: each policy file's name, inode, size and mtime; or why it cannot.
export function fingerprint(dir: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => POLICY_FILE.test(n)).sort();
  } catch (err) {
    return `unreadable:${(err as NodeJS.ErrnoException).code ?? ''}`;
  }
  return names
    .map((name) => {
      try {
        const s = statSync(join(dir, name));
        return `${name}:${s.ino}:${s.size}:${s.mtimeMs}`;
      } catch (err) {
        return `${name}:${(err as NodeJS.ErrnoException).code ?? ''}`;
      }
    })
    .join('\n');
}

interface Watched {
  seen: string;
  watcher?: FSWatcher;
}

// Calls onChange (debounced) when a watched directory's policy files change; timers are unref()ed.
export function watchDirectories(onChange: (dirs: readonly string[]) => void, intervalMs: number, debounceMs: number): DirectoryWatch {
  const watched = new Map<string, Watched>();
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const fire = () => {
    timer = undefined;
    const dirs = [...changed];
    changed.clear();
    onChange(dirs);
  };
  const check = (dir: string) => {
    const w = watched.get(dir);
    if (!w) return;
    const now = fingerprint(dir);
    if (now === w.seen) return;
    w.seen = now;
    changed.add(dir);
    clearTimeout(timer);
    timer = setTimeout(fire, debounceMs);
    timer.unref();
  };
  // fs.watch where the directory exists (re-armed by the poll when it appears or its watcher fails)
  const arm = (dir: string, w: Watched) => {
    if (w.watcher) return;
    try {
      w.watcher = watch(dir, { persistent: false }, () => check(dir));
      w.watcher.on('error', () => {
        w.watcher?.close();
        delete w.watcher;
      });
    } catch {
      // absent or unreadable: the poll notices when it appears
    }
  };
  const poll = setInterval(() => {
    for (const [dir, w] of watched) {
      arm(dir, w);
      check(dir);
    }
  }, intervalMs);
  poll.unref();
  return {
    set(dirs) {
      for (const [dir, w] of watched) {
        if (dirs.includes(dir)) continue;
        w.watcher?.close();
        watched.delete(dir);
      }
      for (const dir of dirs) {
        if (watched.has(dir)) continue;
        const w: Watched = { seen: fingerprint(dir) };
        watched.set(dir, w);
        arm(dir, w);
      }
    },
    close() {
      clearInterval(poll);
      clearTimeout(timer);
      for (const w of watched.values()) w.watcher?.close();
      watched.clear();
    },
  };
}
