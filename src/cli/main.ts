#!/usr/bin/env node
// portcullis command-line entry point: serve | audit | scan | cert | test | vap | version.
import './serve-node-settings.js'; // first: serve re-executes itself with the image's node settings
import { programName } from './program.js';

const USAGE = `usage: ${programName()} <command> [flags]

commands:
  serve   run the admission webhook (HTTPS)
  audit   evaluate manifests offline: audit -f PATH... [--config FILE] [-o table|json|yaml|sarif|junit]
  scan    evaluate what runs in a cluster: scan [--namespace NS]... [-o FORMAT] [--write-reports]
          [--preview-enforce [--policy ID]...]
  cert    write a CA and serving certificate: cert --out-dir DIR [--san NAME]... [--force]
  test    run policy test files: test PATH... [-o table|junit] (exit 1 on a mismatch)
  vap     render the fail-safe ValidatingAdmissionPolicies for a config: vap [--config FILE] [-o yaml|json]
  version print the version, the commit it was built from and the supported Kubernetes versions (also --version)

run '${programName()} <command> --help' for its flags`;

type Command = (argv: string[]) => Promise<number>;

// Each command's module is loaded when it runs: serve never loads what only the offline commands use.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.js')).runServe,
  audit: async () => (await import('./audit.js')).runAudit,
  scan: async () => (await import('./scan.js')).runScan,
  cert: async () => (await import('./cert.js')).runCert,
  vap: async () => (await import('./vap.js')).runVap,
  test: async () => (await import('./test.js')).runTest,
  version: async () => (await import('./version.js')).runVersion,
  '--version': async () => (await import('./version.js')).runVersion,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const load = COMMANDS[command];
  if (!load) {
    process.stderr.write(`portcullis: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  return (await load())(rest);
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
