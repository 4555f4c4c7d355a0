// A generated certificate directory belongs to one running process: a pid file claims it, and a second server
// started on the same directory is refused instead of silently replacing the first one's CA.
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PortcullisError } from '../errors.js';

export class CertDirInUseError extends PortcullisError<'CERT_DIR_IN_USE'> {
  readonly pid: number;
  constructor(dir: string, pid: number) {
    super('CERT_DIR_IN_USE', `--cert-dir ${dir}: expected a directory no other server uses, got one in use by portcullis process ${pid} (its CA is ${join(dir, 'ca.crt')}): give this server its own --cert-dir, or stop process ${pid}`);
    this.pid = pid;
  }
}

const PID_FILE = 'portcullis.pid';

// Whether a process with this id runs (EPERM: it runs, as another user).
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holder(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

// Claims dir for this process (a stale claim of a process that has ended is taken over); returns the release.
export function claimCertDir(dir: string): () => void {
  const file = join(dir, PID_FILE);
  try {
    const fd = openSync(file, 'wx', 0o600);
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const pid = holder(file);
    if (pid !== undefined && pid !== process.pid && alive(pid)) throw new CertDirInUseError(dir, pid);
    writeFileSync(file, `${process.pid}\n`, { mode: 0o600 });
  }
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.removeListener('exit', release);
    if (holder(file) === process.pid) unlinkSync(file);
  };
  process.once('exit', release);
  return release;
}
