#!/usr/bin/env node
// Gatehouse against node `oidc-provider` on the same machine, interleaved: for each scenario the
// two servers take turns, `rounds` times, and the table shows medians and spreads of the server
// process's CPU time per request (from /proc/<pid>/stat, so the load generator is not counted),
// latency p50/p99, the CPU ratio, and RSS idle and after load. Not run in CI.
//
//   cd tests && node bench/ab.mjs <gatehouse-server binary> [requests] [rounds]
//
// Build the binary with `cargo build --release -p gatehouse-server` for numbers worth
// publishing (a debug build measures the debug build). Scenarios: discovery, JWKS, userinfo,
// and refresh (rotating refresh token, new access and ID token) signed HS512, RS256 and ES256
// at concurrency 1, 8 and 32. Gatehouse's refresh tokens come from the password grant; the
// provider's from its own models (tests/bench/oidc_provider_server.mjs).

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const [binary, requestsArg, roundsArg] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node bench/ab.mjs <gatehouse-server binary> [requests] [rounds]');
  process.exit(2);
}
const REQUESTS = Number(requestsArg ?? 400);
const ROUNDS = Number(roundsArg ?? 3);
const ADMIN_PASSWORD = 'bench-admin-password-1';
const PROVIDER_SECRET = 'bench-secret-'.padEnd(96, 'x');
const TICK_MICROS = 10_000; // USER_HZ = 100

function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
}

function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

/** Starts a process and resolves with it and the first stdout line matching `ready`. */
function start(command, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = [];
    const reader = createInterface({ input: child.stdout });
    reader.on('line', (line) => {
      lines.push(line);
      const match = line.match(ready);
      if (match) resolve({ child, match, lines, reader });
    });
    child.on('exit', (code) => reject(new Error(`${command} exited with ${code}: ${lines.join('\n')}`)));
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/** Runs `requests` calls of `call(worker)` from `concurrency` workers; CPU µs/request of pid, latencies. */
async function load(pid, concurrency, requests, call) {
  const latencies = [];
  let next = 0;
  const before = cpuMicros(pid);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < requests) {
        next += 1;
        const t0 = performance.now();
        await call(worker);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { cpu: (cpuMicros(pid) - before) / requests, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}

async function expectOk(response) {
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** A refresh chain per worker: each call spends the worker's token and keeps the new one. */
function refresher(tokenUrl, auth, tokens) {
  return async (worker) => {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens[worker] });
    const json = await expectOk(await fetch(tokenUrl, { method: 'POST', headers: { authorization: auth }, body }));
    if (!json.id_token) throw new Error('no id_token');
    tokens[worker] = json.refresh_token;
  };
}

const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function main() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const gatehouse = await start(
    binary,
    [],
    {
      GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
      GATEHOUSE_DATA_DIR: mkdtempSync(join(tmpdir(), 'gatehouse-ab-')),
      GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      RUST_LOG: 'warn',
    },
    /http:\/\/127\.0\.0\.1:\d+/,
  );
  const BASE = `http://127.0.0.1:${port}`;
  process.env.GATEHOUSE_URL = BASE;
  process.env.GATEHOUSE_ADMIN_PASSWORD = ADMIN_PASSWORD;
  const { createFixture, setSigning } = await import('../interop/setup.mjs');
  const gPid = gatehouse.child.pid;
  const idle = { gatehouse: rssMiB(gPid) };
  const fixture = await createFixture({ grantTypes: ['password_confidential'], prefix: 'bench' });
  const gAuth = basic(fixture.clientId, fixture.clientSecret);
  const gTokens = [];
  for (let i = 0; i < 32; i += 1) {
    const body = new URLSearchParams({
      grant_type: 'password',
      username: fixture.member.username,
      password: fixture.member.password,
      scope: 'openid offline_access profile email',
    });
    gTokens.push(await expectOk(await fetch(`${BASE}/token`, { method: 'POST', headers: { authorization: gAuth }, body })));
  }
  const gAccess = gTokens[0].access_token;
  const gRefresh = gTokens.map((t) => t.refresh_token);

  const rows = [];
  const rss = {};
  async function compare(name, concurrency, gCall, provider, pCall) {
    const g = [];
    const p = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      await load(gPid, concurrency, Math.min(50, REQUESTS), gCall); // warm-up
      g.push(await load(gPid, concurrency, REQUESTS, gCall));
      await load(provider.child.pid, concurrency, Math.min(50, REQUESTS), pCall);
      p.push(await load(provider.child.pid, concurrency, REQUESTS, pCall));
    }
    const cpu = (xs) => xs.map((x) => x.cpu);
    const row = {
      name,
      concurrency,
      gatehouse: { cpu: median(cpu(g)), spread: [Math.min(...cpu(g)), Math.max(...cpu(g))], p50: median(g.map((x) => x.p50)), p99: median(g.map((x) => x.p99)) },
      provider: { cpu: median(cpu(p)), spread: [Math.min(...cpu(p)), Math.max(...cpu(p))], p50: median(p.map((x) => x.p50)), p99: median(p.map((x) => x.p99)) },
    };
    rows.push(row);
    const f = (x) => `${x.cpu.toFixed(0).padStart(6)} µs (${x.spread.map((s) => s.toFixed(0)).join('–')}) p50 ${x.p50.toFixed(2)} p99 ${x.p99.toFixed(2)} ms`;
    console.log(`${name.padEnd(16)} c=${String(concurrency).padEnd(3)} gatehouse ${f(row.gatehouse)} | oidc-provider ${f(row.provider)} | CPU ratio ${(row.gatehouse.cpu / row.provider.cpu).toFixed(2)}`);
  }

  for (const alg of ['HS512', 'RS256', 'ES256']) {
    await setSigning(alg);
    const provider = await start('node', ['bench/oidc_provider_server.mjs', alg, '32'], {}, /^TOKENS (.*)$/);
    const pTokens = JSON.parse(provider.match[1]);
    const pIssuer = provider.lines.find((l) => l.startsWith('READY ')).slice(6);
    const pPid = provider.child.pid;
    idle.provider ??= rssMiB(pPid);
    const pAuth = basic('bench-client', PROVIDER_SECRET);
    if (alg === 'HS512') {
      const pAccess = (await expectOk(await fetch(`${pIssuer}/token`, { method: 'POST', headers: { authorization: pAuth }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pTokens[0] }) })));
      pTokens[0] = pAccess.refresh_token;
      const get = (url, headers = {}) => async () => expectOk(await fetch(url, { headers }));
      await compare('discovery', 1, get(`${BASE}/.well-known/openid-configuration`), provider, get(`${pIssuer}/.well-known/openid-configuration`));
      await compare('jwks', 1, get(`${BASE}/jwks`), provider, get(`${pIssuer}/jwks`));
      await compare('userinfo', 1, get(`${BASE}/userinfo`, { authorization: `Bearer ${gAccess}` }), provider, get(`${pIssuer}/me`, { authorization: `Bearer ${pAccess.access_token}` }));
    }
    for (const concurrency of [1, 8, 32]) {
      await compare(`refresh ${alg}`, concurrency, refresher(`${BASE}/token`, gAuth, gRefresh), provider, refresher(`${pIssuer}/token`, pAuth, pTokens));
    }
    rss.provider = Math.max(rss.provider ?? 0, rssMiB(pPid));
    provider.child.kill();
  }
  rss.gatehouse = rssMiB(gPid);
  await setSigning('HS512');
  gatehouse.child.kill();
  console.log(`RSS idle: gatehouse ${idle.gatehouse.toFixed(1)} MiB, oidc-provider ${idle.provider.toFixed(1)} MiB; after load: gatehouse ${rss.gatehouse.toFixed(1)} MiB, oidc-provider ${rss.provider.toFixed(1)} MiB`);
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
