import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fixturePath, repoRoot } from './fixture-paths';

test('repoRoot is the folder with nx.json and this lib', (t) => {
  const root = repoRoot();
  t.true(existsSync(join(root, 'nx.json')));
  t.true(existsSync(join(root, 'libs/test-support/src/fixture-paths.ts')));
});

test('fixturePath joins its parts under ../shared/fixtures beside the repo', (t) => {
  const root = repoRoot();
  t.is(relative(root, fixturePath()), join('..', 'shared', 'fixtures'));
  t.is(fixturePath('bert', 'config.json'), join(fixturePath(), 'bert', 'config.json'));
  t.is(fixturePath('traces/public-bert'), fixturePath('traces', 'public-bert'));
  // the fixtures the tests read are there
  const config = JSON.parse(readFileSync(fixturePath('bert', 'config.json'), 'utf8')) as { model_type?: string };
  t.is(config.model_type, 'bert');
  t.true(existsSync(fixturePath('traces', 'public-bert', 'trace.json')));
});
