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
