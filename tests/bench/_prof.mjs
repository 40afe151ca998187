// ad-hoc profiling driver (not committed)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, load, passwordTokens, refresher, start } from './harness.mjs';
const [binary, requests, conc] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'gh-prof-'));
const port = 21000 + Math.floor(Math.random() * 1000);
const ADMIN_PASSWORD = 'bench-admin-password-1';
const server = await start(binary, [], { GATEHOUSE_LISTEN: `127.0.0.1:${port}`, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD, RUST_LOG: 'warn' }, /http:\/\/127\.0\.0\.1:\d+/);
const base = `http://127.0.0.1:${port}`;
const FIXTURE = `
  const { createFixture } = await import(${JSON.stringify(new URL('../interop/setup.mjs', import.meta.url).href)});
  const fixture = await createFixture({ grantTypes: ['password_confidential'], prefix: 'prof' });
  console.log('FIXTURE ' + JSON.stringify(fixture));
`;
const setup = await start(process.execPath, ['--input-type=module', '-e', FIXTURE], { GATEHOUSE_URL: base, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD }, /^FIXTURE (.*)$/);
const fixture = JSON.parse(setup.match[1]);
const auth = basic(fixture.clientId, fixture.clientSecret);
const c = Number(conc ?? 1);
const tokens = await passwordTokens(base, fixture, c);
const call = refresher(`${base}/token`, auth, tokens.map((t) => t.refresh_token));
await load(server.child.pid, c, 500, call);
console.log('PID', server.child.pid);
await new Promise((r) => setTimeout(r, 1500));
const r = await load(server.child.pid, c, Number(requests ?? 20000), call);
console.log('cpu us/req', r.cpu.toFixed(1), 'p50', r.p50.toFixed(3));
server.child.kill();
process.exit(0);
