#!/usr/bin/env node
// portcullis command-line entry point: serve | audit | scan | cert.
import './serve-node-settings.js'; // first: serve re-executes itself with the image's node settings
import { runServe } from './serve.js';
import { runAudit } from './audit.js';
import { runScan } from './scan.js';
import { runCert } from './cert.js';

const USAGE = `usage: portcullis <command> [flags]

commands:
  serve   run the admission webhook (HTTPS)
  audit   evaluate manifests offline: portcullis audit -f PATH... [--config FILE] [--output table|json|sarif|junit]
  scan    evaluate what runs in a cluster: portcullis scan [--namespace NS]... [--output FORMAT] [--write-reports]
          [--preview-enforce [--policy ID]...]
  cert    write a CA and serving certificate: portcullis cert --out-dir DIR [--san NAME]...

run 'portcullis <command> --help' for its flags`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = { serve: runServe, audit: runAudit, scan: runScan, cert: runCert };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`portcullis: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`portcullis: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
