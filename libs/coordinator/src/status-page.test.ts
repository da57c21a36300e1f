import test from 'ava';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runView } from './run-view';
import { StatusPage, statusToken } from './status-page';

async function serve(page: StatusPage): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    if (!page.handle(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const close = (s: Server) => new Promise((r) => s.close(r));

test('with a run secret the page and its data need the token derived from it; the URL never holds the secret', async (t) => {
  const secret = new TextEncoder().encode('correct horse battery staple');
  const page = new StatusPage(() => runView([], []), secret);
  const token = statusToken(secret);
  t.is(page.path, `/status?token=${token}`);
  t.false(page.path.includes(Buffer.from(secret).toString('hex')));
  t.false(page.path.includes('horse'));
  t.not(token, statusToken(new TextEncoder().encode('another secret')));
  const { server, base } = await serve(page);
  try {
    t.is((await fetch(`${base}/status`)).status, 401);
    t.is((await fetch(`${base}/status/run.json?token=${'0'.repeat(32)}`)).status, 401);
    t.is((await fetch(`${base}/status/run.json?token=${token}x`)).status, 401);
    const html = await fetch(`${base}${page.path}`);
    t.is(html.status, 200);
    t.regex(html.headers.get('content-type') ?? '', /text\/html/);
    t.regex(await html.text(), /uPlot/);
    const data = await fetch(`${base}/status/run.json`, { headers: { authorization: `Bearer ${token}` } });
    t.is(data.status, 200);
    t.deepEqual(((await data.json()) as { steps: { step: number[] } }).steps.step, []);
    t.is((await fetch(`${base}/status/run.json?token=${token}`, { method: 'POST' })).status, 405);
    t.is((await fetch(`${base}/other`)).status, 404, 'other paths are left to the next handler');
  } finally {
    await close(server);
  }
});

test('without a run secret the page answers loopback clients only', async (t) => {
  const page = new StatusPage(() => runView([], []), null);
  t.is(page.path, '/status');
  const from = (remoteAddress: string) => ({ url: '/status/run.json', method: 'GET', headers: {}, socket: { remoteAddress } }) as unknown as IncomingMessage;
  t.true(page.authorizes(from('127.0.0.1')));
  t.true(page.authorizes(from('::ffff:127.0.0.1')));
  t.true(page.authorizes(from('::1')));
  t.false(page.authorizes(from('10.1.2.3')));
  t.false(page.authorizes(from('::ffff:192.168.0.7')));
  const { server, base } = await serve(page);
  try {
    t.is((await fetch(`${base}/status`)).status, 200);
  } finally {
    await close(server);
  }
});
