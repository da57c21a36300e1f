import test from 'ava';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, startCli } from '@adalora/test-support';

// What a user finds by asking the CLI itself (issue 10): every command listed and helpable, an
// unknown command refused by name, --version, and the environment variables a launcher sets,
// with their precedence: flag > environment variable > config file > default.

/** The command names of the `Commands:` section of a help text. */
function listedCommands(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]);
}

test('the top-level help lists every command, worker included, and `help <command>` works for each', async (t) => {
  const help = await startCli(['--help']).done;
  t.is(help.code, 0, help.out);
  const commands = listedCommands(help.out);
  for (const name of ['coordinator', 'run', 'worker', 'aggregator', 'merge', 'predict', 'report', 'scale', 'compare']) t.true(commands.includes(name), `${name} missing from:\n${help.out}`);
  for (const name of commands.filter((c) => c !== 'help')) {
    const r = await startCli(['help', name]).done;
    t.is(r.code, 0, `help ${name}: ${r.out}`);
    t.true(r.out.startsWith(`Usage: adalora ${name} `), r.out);
    // the command's own --help says the same
    const own = await startCli([name, '--help']).done;
    t.is(own.code, 0, own.out);
    t.is(own.out, r.out);
  }
});

test('an unknown command is an error naming it, with or without --help, and exits non-zero', async (t) => {
  for (const args of [['frobnicate', '--help'], ['frobnicate'], ['help', 'frobnicate']]) {
    const r = await startCli(args).done;
    t.is(r.code, 1, `${args.join(' ')}: ${r.out}`);
    t.regex(r.out, /unknown command 'frobnicate'/);
  }
});

test('--version prints the version of package.json', async (t) => {
  const { version } = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await startCli([flag]).done;
    t.is(r.code, 0, r.out);
    t.is(r.out.trim(), version);
  }
});

test('coordinator settings from the environment: a flag (and --set) beats the variable, which beats the config file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'adalora-env-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // the TLS files are read (and a missing one named) before the backend loads: which path is
  // named shows which setting won
  const config = join(dir, 'job.yaml');
  writeFileSync(config, `cluster:\n  tlsCert: ${join(dir, 'from-file.pem')}\n  tlsKey: ${join(dir, 'key.pem')}\n`);
  const run = async (args: string[], env: Record<string, string>) => (await startCli(['coordinator', '-o', join(dir, 'out'), '--no-progress', ...args], undefined, env).done).out;
  t.regex(await run(['-c', config], {}), /cluster\.tlsCert .*from-file\.pem: cannot read/);
  t.regex(await run([], { ADALORA_CONFIG: config }), /cluster\.tlsCert .*from-file\.pem: cannot read/, 'ADALORA_CONFIG names the config file');
  t.regex(await run(['-c', config], { ADALORA_TLS_CERT: join(dir, 'from-env.pem') }), /cluster\.tlsCert .*from-env\.pem: cannot read/, 'the variable beats the config file');
  t.regex(await run(['-c', config, '--tls-cert', join(dir, 'from-flag.pem')], { ADALORA_TLS_CERT: join(dir, 'from-env.pem') }), /cluster\.tlsCert .*from-flag\.pem: cannot read/, 'the flag beats the variable');
  t.regex(await run(['-c', config, '-s', `cluster.tlsCert=${join(dir, 'from-set.pem')}`], { ADALORA_TLS_CERT: join(dir, 'from-env.pem') }), /cluster\.tlsCert .*from-set\.pem: cannot read/, '--set beats the variable too');
  // a bad value from the environment is refused naming the option
  const bad = await startCli(['coordinator', '--no-progress'], undefined, { ADALORA_MIN_WORKERS: '0' }).done;
  t.is(bad.code, 1, bad.out);
  t.regex(bad.out, /--min-workers <n>' value '0' from env 'ADALORA_MIN_WORKERS' is invalid/);
});

test('worker settings from the environment, checked before tfjs loads; the flag beats the variable', async (t) => {
  const r = await startCli(['worker'], undefined, { ADALORA_SECRET_FILE: '/nonexistent/env-secret' }).done;
  t.is(r.code, 1, r.out);
  t.regex(r.out, /secret file \/nonexistent\/env-secret: cannot read/);
  t.notRegex(r.out, /backend:/, 'no backend loaded');
  const flag = await startCli(['worker', '--secret-file', '/nonexistent/flag-secret'], undefined, { ADALORA_SECRET_FILE: '/nonexistent/env-secret' }).done;
  t.regex(flag.out, /secret file \/nonexistent\/flag-secret: cannot read/);
  const fp = await startCli(['worker'], undefined, { ADALORA_TLS_FINGERPRINT: 'abc' }).done;
  t.is(fp.code, 1, fp.out);
  t.regex(fp.out, /--tls-fingerprint: expected a SHA-256 fingerprint/);
  // the worker index pm2 gives each instance is checked too
  const idx = await startCli(['worker'], undefined, { ADALORA_WORKER_INDEX: 'two' }).done;
  t.is(idx.code, 1, idx.out);
  t.regex(idx.out, /ADALORA_WORKER_INDEX must be an integer/);
});
