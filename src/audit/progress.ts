// A one-line progress bar on stderr, drawn only when stderr is a terminal.
import type { ScanProgress } from './scan.js';

export interface ProgressBar {
  update(p: ScanProgress): void;
  done(): void;
}

const WIDTH = 30;

export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  if (!stream.isTTY) return { update: () => undefined, done: () => undefined };
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const t = Date.now();
      if (t - last < 100 && p.kind !== 'done') return;
      last = t;
      const total = p.podsTotal;
      const fraction = total ? Math.min(1, p.pods / total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const bar = total ? `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${p.pods}/${total} pods` : `listing ${p.kind}s`;
      stream.write(`\r\x1b[2K${bar}  ${p.listed} objects, ${p.evaluated} evaluated`);
      drawn = true;
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
