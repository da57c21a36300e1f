/**
 * Workspace module boundaries (STYLE.md, "Ten habits" #1 and #2), checked on the import
 * specifiers of every .ts file under apps/, libs/ and tools/:
 * - another project is reached only through its alias `@adalora/<name>` (its src/index.ts):
 *   no relative path into its folder, no `@adalora/<name>/...` deep import;
 * - libs/config and libs/wasm-simd depend on no other workspace project, libs/protocol on
 *   libs/wasm-simd only, libs/adalora-core on libs/config (its AdaLoraConfig) and libs/wasm-simd only;
 * - adalora-core never imports `ws`; protocol never imports `@tensorflow/*`; config imports
 *   neither (the CLI checks a config before it loads tfjs);
 * - libs never import apps; nothing imports from apps/ or tools/, and apps do not import each other;
 * - test support (libs/test-support) is imported only by test files (`*.test.ts`) and tools/,
 *   never by product code; a test file may import it even in adalora-core or protocol, and it
 *   may itself import any lib;
 * - the CLIs' entry points load no `@tensorflow/*` through their static imports, so that a bad
 *   config or flag is refused, and `--help` printed, before tfjs is loaded (STYLE.md #15).
 */
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, sep } from 'node:path';
import { repoRoot as findRepoRoot } from '@adalora/test-support';

// ---------------------------------------------------------------------------------------------
// Import specifiers of a TypeScript source, without a parser: a small lexer blanks comments and
// hides string / template / regex contents, so that `from '…'` inside a string or a comment is
// not taken for an import.

/** Code with comments removed and every string literal replaced by `"#<index into strings>"`. */
function lex(src: string): { code: string; strings: string[] } {
  const strings: string[] = [];
  let code = '';
  let i = 0;
  // one entry per open template substitution `${`: its depth of nested `{`
  const templates: number[] = [];

  const prevSignificant = () => code.trimEnd();
  const regexAllowed = () => {
    const before = prevSignificant();
    if (before === '') return true;
    if (/[(,=:[!&|?{};+\-*%<>~^]$/.test(before)) return true;
    return /(?:^|[^\w$.])(?:return|typeof|case|do|else|in|of|new|delete|void|throw|instanceof|yield|await)$/.test(before);
  };
  /** Scans template text from i (just after '`' or a substitution's '}'), to its end or next `${`. */
  const templateText = () => {
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') {
        i += 2;
      } else if (c === '`') {
        code += '`';
        i++;
        return;
      } else if (c === '$' && src[i + 1] === '{') {
        code += '${';
        i += 2;
        templates.push(0);
        return;
      } else i++;
    }
  };

  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (c === '/' && d === '/') {
      while (i < src.length && src[i] !== '\n') i++;
      code += ' ';
    } else if (c === '/' && d === '*') {
      const end = src.indexOf('*/', i + 2);
      i = end < 0 ? src.length : end + 2;
      code += ' ';
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = '';
      while (j < src.length && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\') {
          value += src[j + 1] ?? '';
          j += 2;
        } else value += src[j++];
      }
      strings.push(value);
      code += `"#${strings.length - 1}"`;
      i = j + 1;
    } else if (c === '`') {
      code += '`';
      i++;
      templateText();
    } else if (c === '/' && regexAllowed()) {
      // a regex literal ends on this line; if none does, it was a division after all
      let j = i + 1;
      let inClass = false;
      for (; j < src.length && src[j] !== '\n'; j++) {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        else if (src[j] === '/' && !inClass) break;
      }
      if (j < src.length && src[j] === '/') {
        code += '/R/';
        i = j + 1;
        while (i < src.length && /[a-z]/.test(src[i])) i++;
      } else {
        code += c;
        i++;
      }
    } else if (templates.length > 0 && (c === '{' || c === '}')) {
      const top = templates.length - 1;
      code += c;
      i++;
      if (c === '{') templates[top]++;
      else if (templates[top] > 0) templates[top]--;
      else {
        // the '}' that closes a `${`: back in the template's text
        templates.pop();
        templateText();
      }
    } else {
      code += c;
      i++;
    }
  }
  return { code, strings };
}

/** Every module specifier a source imports: static, type-only, re-export, side-effect, dynamic, require. */
function importSpecifiers(src: string): string[] {
  const { code, strings } = lex(src);
  const out: string[] = [];
  const patterns = [
    /\bfrom\s*"#(\d+)"/g, // import … from 'x', export … from 'x'
    /\bimport\s*"#(\d+)"/g, // import 'x'
    /\bimport\s*\(\s*"#(\d+)"/g, // import('x'), also in type positions
    /\brequire\s*\(\s*"#(\d+)"\s*\)/g, // require('x'), import x = require('x')
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) out.push(strings[Number(m[1])]);
  return out;
}

/**
 * The specifiers a module loads when it is loaded: static imports and re-exports, not
 * `import()` and not `import type` / `export type` (erased). Other imports whose names are all
 * types count, to be safe: the walk below may only over-report.
 */
function staticImportSpecifiers(src: string): string[] {
  const { code, strings } = lex(src);
  const out: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\b(\s+type\b)?[^;"]*?\bfrom\s*"#(\d+)"/g)) if (m[1] === undefined) out.push(strings[Number(m[2])]);
  for (const m of code.matchAll(/\bimport\s*"#(\d+)"/g)) out.push(strings[Number(m[1])]);
  for (const m of code.matchAll(/\brequire\s*\(\s*"#(\d+)"\s*\)/g)) out.push(strings[Number(m[1])]);
  return out;
}

/**
 * The external packages a module loads, itself or through the workspace files it statically
 * imports (relative paths and `@adalora/*` aliases followed to their files).
 */
function packagesLoadedBy(root: string, entry: string, targets: ReadonlyMap<string, readonly string[]>): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const resolveFile = (path: string) => [path, `${path}.ts`, join(path, 'index.ts')].find((p) => p.endsWith('.ts') && existsSync(p));
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of staticImportSpecifiers(readFileSync(file, 'utf8'))) {
      const alias = targets.get(specifier);
      const next = specifier.startsWith('.') ? resolveFile(join(dirname(file), specifier)) : alias !== undefined ? join(root, alias[0]) : undefined;
      if (next !== undefined) visit(next);
      else if (!specifier.startsWith('.')) packages.add(specifier);
      else throw new Error(`${relative(root, file)}: cannot resolve '${specifier}'`);
    }
  };
  visit(join(root, entry));
  return packages;
}

// ---------------------------------------------------------------------------------------------
// The rules.

interface SourceImports {
  /** repo-relative, '/'-separated */
  readonly file: string;
  readonly specifiers: readonly string[];
}

interface Violation {
  readonly file: string;
  readonly specifier: string;
  readonly rule: string;
}

/** 'libs/<name>', 'apps/<name>' or 'tools' for a repo-relative path inside one; else undefined. */
function projectOf(path: string): string | undefined {
  const parts = path.split('/');
  if ((parts[0] === 'libs' || parts[0] === 'apps') && parts.length >= 3) return `${parts[0]}/${parts[1]}`;
  if (parts[0] === 'tools' && parts.length >= 2) return 'tools';
  return undefined;
}

/** Libs at the bottom of the graph → the only workspace projects each may depend on. */
const LEAF_LIBS: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['libs/config', new Set<string>()],
  ['libs/wasm-simd', new Set<string>()],
  // the wire's per-value passes (Σ x² of every received tensor) run as SIMD kernels
  ['libs/protocol', new Set(['libs/wasm-simd'])],
  // the adapters are built from a config; the optimizer runs as SIMD kernels
  ['libs/adalora-core', new Set(['libs/config', 'libs/wasm-simd'])],
]);
/** The project of code shared by tests and benchmarks only. */
const TEST_SUPPORT = 'libs/test-support';
/** Files that may import test support: tests anywhere, and the tools (benchmarks, workspace tests). */
const mayUseTestSupport = (file: string, project: string) => file.endsWith('.test.ts') || project === 'tools';
type PackageRule = readonly [(s: string) => boolean, string];
const isWs = (s: string) => s === 'ws' || s.startsWith('ws/');
const isTfjs = (s: string) => s.startsWith('@tensorflow/');
/** External packages a project must not import: project → [test, what the rule says] each. */
const BANNED_PACKAGES: ReadonlyMap<string, readonly PackageRule[]> = new Map([
  ['libs/adalora-core', [[isWs, 'adalora-core never imports ws']] as const],
  ['libs/protocol', [[isTfjs, 'protocol never imports @tensorflow/*']] as const],
  [
    'libs/config',
    [
      [isTfjs, 'config never imports @tensorflow/*'],
      [isWs, 'config never imports ws'],
    ] as const,
  ],
]);

/**
 * The boundary violations among `files`' imports. `aliases` maps each `@adalora/<name>` alias to
 * its project folder ('libs/adalora-core').
 */
function checkBoundaries(files: readonly SourceImports[], aliases: ReadonlyMap<string, string>): Violation[] {
  const out: Violation[] = [];
  for (const { file, specifiers } of files) {
    const from = projectOf(file);
    if (from === undefined) continue;
    for (const specifier of specifiers) {
      const flag = (rule: string) => out.push({ file, specifier, rule });
      /** Rules on a dependency of `from` on workspace project `to`, however it is imported. */
      const dependsOn = (to: string) => {
        if (to === from) return;
        if (to === TEST_SUPPORT) {
          if (!mayUseTestSupport(file, from)) flag(`only test files and tools/ import test support (${from} product code -> ${TEST_SUPPORT})`);
        } else if (to.startsWith('apps/') || to === 'tools') {
          if (from.startsWith('apps/') && to.startsWith('apps/')) flag(`apps do not import each other (${from} -> ${to})`);
          else if (from.startsWith('libs/') && to.startsWith('apps/')) flag(`libs never import apps (${from} -> ${to})`);
          else flag(`nothing imports from apps/ or tools/ (${from} -> ${to})`);
        } else {
          const allowed = LEAF_LIBS.get(from);
          if (allowed === undefined || allowed.has(to)) return;
          flag(allowed.size === 0 ? `${from} depends on no other workspace project (imports ${to})` : `${from} depends on no workspace project but ${[...allowed].join(', ')} (imports ${to})`);
        }
      };

      if (specifier.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(file), specifier));
        const to = projectOf(target);
        if (to === undefined || to === from) continue;
        flag(`relative import into another project (${to}): import it through its alias`);
        dependsOn(to);
      } else if (/^\/|^(apps|libs|tools)\//.test(specifier)) {
        flag('path into a project folder: import another project only through its @adalora/<name> alias');
        const to = projectOf(specifier.replace(/^\/+/, ''));
        if (to !== undefined) dependsOn(to);
      } else if (specifier.startsWith('@adalora/')) {
        const exact = aliases.get(specifier);
        if (exact !== undefined) {
          if (exact === from) flag(`${from} imports itself through its alias: use a relative import`);
          dependsOn(exact);
          continue;
        }
        const base = [...aliases.keys()].find((a) => specifier.startsWith(`${a}/`));
        if (base === undefined) {
          flag('unknown @adalora alias (not in tsconfig.base.json paths)');
          continue;
        }
        flag(`deep import into ${aliases.get(base)}: import '${base}' (its src/index.ts) only`);
        dependsOn(aliases.get(base)!);
      } else {
        for (const [banned, rule] of BANNED_PACKAGES.get(from) ?? []) if (banned(specifier)) flag(rule);
      }
    }
  }
  return out;
}

const formatViolations = (vs: readonly Violation[]) => vs.map((v) => `${v.file}: '${v.specifier}': ${v.rule}`).join('\n');

// ---------------------------------------------------------------------------------------------
// The workspace.

const repoRoot = findRepoRoot();
const toPosix = (p: string) => p.split(sep).join('/');

/** tsconfig.base.json `paths`: alias → project folder ('./libs/x/src/index.ts' → 'libs/x'), and raw targets. */
function readAliases(root: string): { aliases: Map<string, string>; targets: Map<string, string[]> } {
  const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } };
  const aliases = new Map<string, string>();
  const targets = new Map<string, string[]>();
  for (const [alias, paths] of Object.entries(tsconfig.compilerOptions.paths)) {
    targets.set(alias, paths);
    const project = projectOf(posix.normalize(paths[0]));
    if (project !== undefined) aliases.set(alias, project);
  }
  return { aliases, targets };
}

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name.startsWith('.')) return [];
    const full = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(full);
    return e.isFile() && e.name.endsWith('.ts') ? [full] : [];
  });
}

function scanWorkspace(root: string): SourceImports[] {
  return ['apps', 'libs', 'tools'].flatMap((top) =>
    tsFiles(join(root, top)).map((full) => ({ file: toPosix(relative(root, full)), specifiers: importSpecifiers(readFileSync(full, 'utf8')) })),
  );
}

// ---------------------------------------------------------------------------------------------
// The checks on this repo.

test('every lib has exactly one @adalora alias, mapped to its src/index.ts', (t) => {
  const root = repoRoot;
  const { aliases, targets } = readAliases(root);
  const libs = readdirSync(join(root, 'libs'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(root, 'libs', e.name, 'src', 'index.ts')))
    .map((e) => `libs/${e.name}`);
  t.true(libs.length >= 7, `libs found: ${libs.join(', ')}`);
  for (const lib of libs) {
    const names = [...aliases].filter(([, p]) => p === lib).map(([a]) => a);
    t.is(names.length, 1, `${lib}: aliases ${names.join(', ') || 'none'}`);
  }
  for (const [alias, paths] of targets) {
    t.true(alias.startsWith('@adalora/'), alias);
    t.deepEqual(paths.length, 1, `${alias}: one target`);
    t.regex(posix.normalize(paths[0]), /^libs\/[^/]+\/src\/index\.ts$/, `${alias} -> ${paths[0]}`);
    t.true(existsSync(join(root, paths[0])), `${alias} -> ${paths[0]} exists`);
  }
  // the names STYLE.md and the brief use
  t.is(aliases.get('@adalora/core'), 'libs/adalora-core');
  for (const name of ['config', 'protocol', 'models', 'data', 'backend', 'training', 'worker', 'coordinator', 'test-support', 'wasm-simd']) t.is(aliases.get(`@adalora/${name}`), `libs/${name}`);
});

test('apps/, libs/ and tools/ keep the module boundaries', (t) => {
  const { aliases } = readAliases(repoRoot);
  const files = scanWorkspace(repoRoot);
  // guard against a scan that silently finds nothing
  t.true(files.length > 50, `scanned ${files.length} files`);
  t.true(
    files.some((f) => f.specifiers.includes('@adalora/core')),
    'no file imports @adalora/core: is the scanner broken?',
  );
  t.true(
    files.some((f) => f.file.endsWith('.test.ts') && f.specifiers.includes('@adalora/test-support')),
    'no test imports @adalora/test-support: is the scanner broken?',
  );
  const violations = checkBoundaries(files, aliases);
  t.deepEqual(violations, [], `module boundary violations:\n${formatViolations(violations)}`);
});

test('the CLI entry points load no tfjs before their flags and config are checked', (t) => {
  const { targets } = readAliases(repoRoot);
  const tfjs = (entry: string) => [...packagesLoadedBy(repoRoot, entry, targets)].filter((p) => p.startsWith('@tensorflow/')).sort();
  // the coordinator's CLI, `adalora worker` (apps/worker, through @adalora/worker's index, which
  // reaches the session and the client by dynamic imports), and the worker process `adalora run` spawns
  for (const entry of ['apps/coordinator/src/main.ts', 'apps/worker/src/main.ts', 'libs/worker/src/worker-main.ts']) {
    t.deepEqual(tfjs(entry), [], `${entry} loads tfjs through its static imports: import it with await import(...) once the config is valid`);
  }
  // the walk does find tfjs where it is: in what the coordinator CLI loads once the config is valid
  t.true(tfjs('apps/coordinator/src/runtime.ts').includes('@tensorflow/tfjs'));
});

test('staticImportSpecifiers: no import(), no type-only imports', (t) => {
  const src = `
import { a } from './a';
import type { B } from './b';
export type { C } from './c';
import d, { type E } from './d';
export * from './f';
import './g';
const h = await import('./h');
type I = import('./i').I;
`;
  t.deepEqual(staticImportSpecifiers(src), ['./a', './d', './f', './g']);
});

test('scan + check on a throw-away workspace with one violation of each kind', (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'boundaries-'));
  t.teardown(() => rmSync(ws, { recursive: true, force: true }));
  const put = (path: string, text: string) => {
    mkdirSync(dirname(join(ws, path)), { recursive: true });
    writeFileSync(join(ws, path), text);
  };
  put(
    'tsconfig.base.json',
    JSON.stringify({ compilerOptions: { paths: { '@adalora/core': ['./libs/adalora-core/src/index.ts'], '@adalora/models': ['./libs/models/src/index.ts'], '@adalora/test-support': ['./libs/test-support/src/index.ts'] } } }),
  );
  put('libs/adalora-core/src/index.ts', "export * from './a';\n");
  put('libs/adalora-core/src/a.ts', "import { WebSocket } from 'ws';\n// import x from '@adalora/models';\n");
  put('libs/models/src/index.ts', "export { x } from '../../adalora-core/src/a';\nexport * from './ok';\n");
  put('apps/worker/src/main.ts', "import { y } from '@adalora/models/src/linear';\nimport '../../coordinator/src/main';\nimport { z } from '@adalora/core';\n");
  put('apps/coordinator/src/main.ts', "const s = \"from '../../worker/src/main'\";\n");
  put('libs/test-support/src/index.ts', "import { x } from '@adalora/models';\nimport { y } from '@adalora/core';\n");
  put('libs/adalora-core/src/a.test.ts', "import { fixturePath } from '@adalora/test-support';\n");
  put('libs/models/src/b.ts', "import { fixturePath } from '@adalora/test-support';\n");
  put('tools/bench.ts', "import { fixturePath } from '@adalora/test-support';\n");
  const { aliases } = readAliases(ws);
  const found = formatViolations(checkBoundaries(scanWorkspace(ws), aliases)).split('\n').sort();
  t.deepEqual(found, [
    "apps/worker/src/main.ts: '../../coordinator/src/main': apps do not import each other (apps/worker -> apps/coordinator)",
    "apps/worker/src/main.ts: '../../coordinator/src/main': relative import into another project (apps/coordinator): import it through its alias",
    "apps/worker/src/main.ts: '@adalora/models/src/linear': deep import into libs/models: import '@adalora/models' (its src/index.ts) only",
    "libs/adalora-core/src/a.ts: 'ws': adalora-core never imports ws",
    "libs/models/src/b.ts: '@adalora/test-support': only test files and tools/ import test support (libs/models product code -> libs/test-support)",
    "libs/models/src/index.ts: '../../adalora-core/src/a': relative import into another project (libs/adalora-core): import it through its alias",
  ]);
});

// ---------------------------------------------------------------------------------------------
// The checker on synthetic inputs: each rule must fire.

const ALIASES = new Map([
  ['@adalora/config', 'libs/config'],
  ['@adalora/core', 'libs/adalora-core'],
  ['@adalora/protocol', 'libs/protocol'],
  ['@adalora/models', 'libs/models'],
  ['@adalora/training', 'libs/training'],
  ['@adalora/test-support', 'libs/test-support'],
  ['@adalora/worker', 'libs/worker'],
  ['@adalora/coordinator', 'libs/coordinator'],
  ['@adalora/wasm-simd', 'libs/wasm-simd'],
]);

const check = (file: string, ...specifiers: string[]) => checkBoundaries([{ file, specifiers }], ALIASES);
const rules = (file: string, ...specifiers: string[]) => check(file, ...specifiers).map((v) => v.rule);

test('checker: allowed imports give no violation', (t) => {
  t.deepEqual(check('libs/models/src/a.ts', './b', '../src/c', '@adalora/core', '@tensorflow/tfjs', 'node:fs', 'ws'), []);
  t.deepEqual(check('libs/adalora-core/src/a.ts', './b', '@tensorflow/tfjs', 'node:path'), []);
  t.deepEqual(check('libs/protocol/src/x/a.ts', '../b', 'ws', 'msgpackr'), []);
  t.deepEqual(check('apps/worker/src/main.ts', '@adalora/training', '@adalora/models', 'commander', './util'), []);
  t.deepEqual(check('tools/bench.ts', '@adalora/core', './helper'), []);
});

test('checker: a relative path into another project is flagged', (t) => {
  t.deepEqual(check('libs/training/src/a.ts', '../../models/src/linear'), [
    { file: 'libs/training/src/a.ts', specifier: '../../models/src/linear', rule: 'relative import into another project (libs/models): import it through its alias' },
  ]);
  t.is(check('apps/worker/src/main.ts', '../../../libs/training/src/index').length, 1);
  // a relative path that leaves and re-enters its own project is fine
  t.deepEqual(check('libs/training/src/a/b.ts', '../../../training/src/c'), []);
});

test('checker: deep alias imports and unknown aliases are flagged', (t) => {
  t.deepEqual(rules('libs/training/src/a.ts', '@adalora/core/src/adamw'), ["deep import into libs/adalora-core: import '@adalora/core' (its src/index.ts) only"]);
  t.deepEqual(rules('apps/worker/src/a.ts', '@adalora/models/linear'), ["deep import into libs/models: import '@adalora/models' (its src/index.ts) only"]);
  t.deepEqual(rules('apps/worker/src/a.ts', '@adalora/nope'), ['unknown @adalora alias (not in tsconfig.base.json paths)']);
  // '@adalora/core-x' is not a deep import of '@adalora/core'
  t.deepEqual(rules('apps/worker/src/a.ts', '@adalora/core-x'), ['unknown @adalora alias (not in tsconfig.base.json paths)']);
  t.deepEqual(rules('libs/models/src/a.ts', 'libs/adalora-core/src/index'), ['path into a project folder: import another project only through its @adalora/<name> alias']);
});

test('checker: a lib importing itself through its alias is flagged', (t) => {
  t.deepEqual(rules('libs/training/src/a.ts', '@adalora/training'), ['libs/training imports itself through its alias: use a relative import']);
});

test('checker: config and wasm-simd depend on no workspace project, protocol on wasm-simd only, adalora-core on config and wasm-simd only', (t) => {
  t.deepEqual(check('libs/adalora-core/src/a.ts', '@adalora/config'), []);
  t.deepEqual(rules('libs/adalora-core/src/a.ts', '@adalora/models'), ['libs/adalora-core depends on no workspace project but libs/config, libs/wasm-simd (imports libs/models)']);
  t.deepEqual(rules('libs/adalora-core/src/a.ts', '../../training/src/a'), [
    'relative import into another project (libs/training): import it through its alias',
    'libs/adalora-core depends on no workspace project but libs/config, libs/wasm-simd (imports libs/training)',
  ]);
  t.deepEqual(rules('libs/config/src/a.ts', '@adalora/core'), ['libs/config depends on no other workspace project (imports libs/adalora-core)']);
  t.deepEqual(rules('libs/config/src/a.ts', '@adalora/training'), ['libs/config depends on no other workspace project (imports libs/training)']);
  t.deepEqual(rules('libs/protocol/src/a.ts', '@adalora/config'), ['libs/protocol depends on no workspace project but libs/wasm-simd (imports libs/config)']);
  t.deepEqual(check('libs/protocol/src/a.ts', '@adalora/wasm-simd'), []);
  t.deepEqual(rules('libs/wasm-simd/src/a.ts', '@adalora/protocol'), ['libs/wasm-simd depends on no other workspace project (imports libs/protocol)']);
  t.deepEqual(rules('libs/protocol/src/a.ts', '@adalora/core'), ['libs/protocol depends on no workspace project but libs/wasm-simd (imports libs/adalora-core)']);
  t.deepEqual(rules('libs/protocol/src/a.ts', '../../adalora-core/src/adamw'), [
    'relative import into another project (libs/adalora-core): import it through its alias',
    'libs/protocol depends on no workspace project but libs/wasm-simd (imports libs/adalora-core)',
  ]);
  // other libs may depend on them
  t.deepEqual(check('libs/models/src/a.ts', '@adalora/core', '@adalora/protocol', '@adalora/config'), []);
});

test('checker: banned packages per project', (t) => {
  t.deepEqual(rules('libs/adalora-core/src/a.ts', 'ws'), ['adalora-core never imports ws']);
  t.deepEqual(rules('libs/adalora-core/src/a.ts', 'ws/lib/sender'), ['adalora-core never imports ws']);
  t.deepEqual(check('libs/adalora-core/src/a.ts', 'wsx', 'fws'), []);
  t.deepEqual(rules('libs/protocol/src/a.ts', '@tensorflow/tfjs'), ['protocol never imports @tensorflow/*']);
  t.deepEqual(rules('libs/protocol/src/a.ts', '@tensorflow/tfjs-core/dist/ops'), ['protocol never imports @tensorflow/*']);
  t.deepEqual(check('libs/protocol/src/a.ts', 'tensorflow'), []);
  t.deepEqual(rules('libs/config/src/a.ts', '@tensorflow/tfjs-core'), ['config never imports @tensorflow/*']);
  t.deepEqual(rules('libs/config/src/a.ts', 'ws'), ['config never imports ws']);
  t.deepEqual(check('libs/config/src/a.ts', 'yaml', 'node:fs', './b'), []);
});

test('checker: libs never import apps; nothing imports apps/ or tools/; apps do not import each other', (t) => {
  t.deepEqual(rules('libs/training/src/a.ts', '../../../apps/coordinator/src/job'), [
    'relative import into another project (apps/coordinator): import it through its alias',
    'libs never import apps (libs/training -> apps/coordinator)',
  ]);
  // the coordinator's runtime is a lib: the CLI app may use it, it may not reach back into the app
  t.deepEqual(rules('libs/coordinator/src/a.ts', '../../../apps/coordinator/src/local-workers'), [
    'relative import into another project (apps/coordinator): import it through its alias',
    'libs never import apps (libs/coordinator -> apps/coordinator)',
  ]);
  t.deepEqual(check('apps/coordinator/src/main.ts', '@adalora/coordinator', '@adalora/worker'), []);
  t.deepEqual(check('libs/coordinator/src/a.ts', '@adalora/worker', '@adalora/training'), []);
  t.deepEqual(rules('libs/models/src/a.ts', '../../../tools/bench-allocator'), [
    'relative import into another project (tools): import it through its alias',
    'nothing imports from apps/ or tools/ (libs/models -> tools)',
  ]);
  t.deepEqual(rules('apps/worker/src/main.ts', '../../coordinator/src/main'), [
    'relative import into another project (apps/coordinator): import it through its alias',
    'apps do not import each other (apps/worker -> apps/coordinator)',
  ]);
  t.true(rules('tools/bench.ts', '../apps/worker/src/main').includes('nothing imports from apps/ or tools/ (tools -> apps/worker)'));
});

test('checker: test support is for test files and tools/ only', (t) => {
  // allowed: tests anywhere (also in the leaf libs), tools, and test support importing any lib
  t.deepEqual(check('libs/models/src/bert.test.ts', '@adalora/test-support'), []);
  t.deepEqual(check('libs/adalora-core/src/config.test.ts', '@adalora/test-support'), []);
  t.deepEqual(check('libs/protocol/src/codec.test.ts', '@adalora/test-support'), []);
  t.deepEqual(check('apps/coordinator/src/cli.test.ts', '@adalora/test-support'), []);
  t.deepEqual(check('tools/bench-encoder-step.ts', '@adalora/test-support'), []);
  t.deepEqual(check('libs/test-support/src/a.ts', '@adalora/core', '@adalora/models', '@adalora/training', './b'), []);
  // product code may not, however it reaches it
  t.deepEqual(rules('libs/training/src/run-config.ts', '@adalora/test-support'), ['only test files and tools/ import test support (libs/training product code -> libs/test-support)']);
  t.deepEqual(rules('apps/worker/src/main.ts', '@adalora/test-support'), ['only test files and tools/ import test support (apps/worker product code -> libs/test-support)']);
  t.deepEqual(rules('libs/adalora-core/src/config.ts', '@adalora/test-support'), ['only test files and tools/ import test support (libs/adalora-core product code -> libs/test-support)']);
  t.deepEqual(rules('libs/models/src/a.ts', '../../test-support/src/fixture-paths'), [
    'relative import into another project (libs/test-support): import it through its alias',
    'only test files and tools/ import test support (libs/models product code -> libs/test-support)',
  ]);
  // a file named like a test but not ending in .test.ts is product code
  t.is(rules('libs/models/src/test-helpers.ts', '@adalora/test-support').length, 1);
  // a test file in a leaf lib still may not import other libs directly
  t.deepEqual(rules('libs/protocol/src/codec.test.ts', '@adalora/core'), ['libs/protocol depends on no workspace project but libs/wasm-simd (imports libs/adalora-core)']);
});

test('checker: violations of several files are all reported, formatted as file: specifier: rule', (t) => {
  const vs = checkBoundaries(
    [
      { file: 'libs/adalora-core/src/a.ts', specifiers: ['ws', './ok'] },
      { file: 'libs/protocol/src/b.ts', specifiers: ['@tensorflow/tfjs'] },
      { file: 'apps/worker/src/c.ts', specifiers: ['@adalora/core/src/x'] },
    ],
    ALIASES,
  );
  t.is(vs.length, 3);
  t.is(
    formatViolations(vs),
    [
      "libs/adalora-core/src/a.ts: 'ws': adalora-core never imports ws",
      "libs/protocol/src/b.ts: '@tensorflow/tfjs': protocol never imports @tensorflow/*",
      "apps/worker/src/c.ts: '@adalora/core/src/x': deep import into libs/adalora-core: import '@adalora/core' (its src/index.ts) only",
    ].join('\n'),
  );
});

test('importSpecifiers: every import form, including type-only and multi-line', (t) => {
  const src = `
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { A } from "./a";
import {
  b,
  type C,
} from './b';
import d, { e } from'./d';
export { f } from './f';
export * from './g';
export * as h from './h';
export type { I } from './i';
const j = await import('./j');
type K = import('./k').K;
const l = require('./l');
import m = require('./m');
const n = import(\`./n\`); // a template: not a literal specifier, ignored
`;
  t.deepEqual(importSpecifiers(src).sort(), ['./a', './b', './d', './f', './g', './h', './i', './j', './k', './l', './m', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'].sort());
});

test('importSpecifiers: no imports taken from comments, strings, templates or regexes', (t) => {
  const src = `
// import x from 'comment-line';
/* import y from 'comment-block';
   export * from "still-comment"; */
/** @example import { z } from '@adalora/core/src/jsdoc' */
const url = 'ws://127.0.0.1:7070'; import { real1 } from './real1';
const s = "import q from 'in-a-string'";
const tpl = \`export * from 'in-a-template' \${ { a: 'from' }.a } import('in-template-text')\`; import './real2';
const re = /import a from 'in-a-regex'/g;
const div = 4 / 2 / 1; export { real3 } from './real3';
const cls = /[/'"]/; const esc = 'it\\'s'; import type { T } from './real4';
const nested = \`a \${ \`b \${ 'c' } d\` } e\`; export * from './real5';
`;
  t.deepEqual(importSpecifiers(src), ['./real1', './real3', './real4', './real5', './real2']);
});
