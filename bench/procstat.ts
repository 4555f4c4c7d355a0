// Samples a process's CPU (utime + stime from /proc/<pid>/stat) and RSS (VmRSS, VmHWM from /proc/<pid>/status).
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcSample {
  /** CPU seconds used so far (user + system) */
  cpuSeconds: number;
  rssBytes: number;
  hwmBytes: number;
}

// One sample of the process; undefined once it is gone.
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name may hold spaces: fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { cpuSeconds: (utime + stime) / clockTicks(), rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

export interface ProcUsage {
  /** average CPU over the window, in percent of one core */
  cpuPercent: number;
  /** highest RSS seen while sampling */
  maxRssBytes: number;
  /** RSS at the end of the window */
  endRssBytes: number;
}

export interface ProcSampler {
  stop(): ProcUsage;
}

// Samples every intervalMs until stop(); the result covers the window from start to stop.
export function startSampler(pid: number, intervalMs = 250): ProcSampler {
  const first = sampleProc(pid);
  const startedAt = performance.now();
  let maxRss = first?.rssBytes ?? 0;
  let last = first;
  const timer = setInterval(() => {
    const s = sampleProc(pid);
    if (!s) return;
    last = s;
    if (s.rssBytes > maxRss) maxRss = s.rssBytes;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const end = sampleProc(pid) ?? last;
      const seconds = (performance.now() - startedAt) / 1000;
      const cpu = first && end && seconds > 0 ? ((end.cpuSeconds - first.cpuSeconds) / seconds) * 100 : 0;
      if (end && end.rssBytes > maxRss) maxRss = end.rssBytes;
      return { cpuPercent: cpu, maxRssBytes: maxRss, endRssBytes: end?.rssBytes ?? 0 };
    },
  };
}

// The machine's busy and total CPU time so far, in clock ticks (the aggregate "cpu" line of /proc/stat).
function machineTicks(): { busy: number; total: number } {
  const fields = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1] ?? '').trim().split(/\s+/).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

// Waits until the whole machine is under `busyFraction` busy over one second (e.g. a control plane that has just
// started has finished its start-up work), or `maxMs` passed; resolves with the last second's busy fraction.
export async function waitForQuietMachine(busyFraction = 0.1, maxMs = 90_000): Promise<number> {
  const until = Date.now() + maxMs;
  for (;;) {
    const a = machineTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const b = machineTicks();
    const busy = b.total > a.total ? (b.busy - a.busy) / (b.total - a.total) : 0;
    if (busy < busyFraction || Date.now() > until) return busy;
  }
}
