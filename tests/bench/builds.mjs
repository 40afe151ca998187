#!/usr/bin/env node
// Two builds of Gatehouse, interleaved on the same machine: did a change make requests cheaper?
// Each round runs every scenario on build A, then on build B, and the table shows the medians
// and spreads over rounds of each build's CPU time per request (from /proc/<pid>/stat) and B/A.
// Taking turns within one sitting is what makes a 5-10% difference readable on a shared, noisy
// machine, where two separate runs of bench/ab.mjs differ by more. Not run in CI.
//
//   cd tests && node bench/builds.mjs <binary A> <binary B> [requests] [rounds] [only]
//
// Scenarios: refresh (HS512, rotating refresh token, new access and ID token) at concurrency 1
// and 8, and userinfo at concurrency 1. `only`, a regular expression, keeps the matching ones.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { basic, expectOk, load, median, passwordTokens, refresher, request, start } from './harness.mjs';

const [binaryA, binaryB, requestsArg, roundsArg, onlyArg] = process.argv.slice(2);
if (!binaryA || !binaryB) {
  console.error('usage: node bench/builds.mjs <binary A> <binary B> [requests] [rounds] [only]');
  process.exit(2);
}
const REQUESTS = Number(requestsArg ?? 3000);
const ROUNDS = Number(roundsArg ?? 7);
const ONLY = new RegExp(onlyArg ?? '');
const ADMIN_PASSWORD = 'bench-admin-password-1';
const FIXTURE = `
  const { createFixture } = await import(${JSON.stringify(new URL('../interop/setup.mjs', import.meta.url).href)});
  const fixture = await createFixture({ grantTypes: ['password_confidential'], prefix: 'builds' });
  console.log('FIXTURE ' + JSON.stringify(fixture));
`;
const dirs = [];
process.on('exit', () => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Starts one build on a fresh data directory, with a client, a member and 9 refresh chains. */
async function launch(binary, tag) {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-builds-${tag}-`));
  dirs.push(dir);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = await start(
    binary,
    [],
    { GATEHOUSE_LISTEN: `127.0.0.1:${port}`, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD, RUST_LOG: 'warn' },
    /http:\/\/127\.0\.0\.1:\d+/,
  );
  const base = `http://127.0.0.1:${port}`;
  // The set-up modules read the server's address when they load: a process of their own per build.
  const setup = await start(
    process.execPath,
    ['--input-type=module', '-e', FIXTURE],
    { GATEHOUSE_URL: base, GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD },
    /^FIXTURE (.*)$/,
  );
  const fixture = JSON.parse(setup.match[1]);
  const auth = basic(fixture.clientId, fixture.clientSecret);
  const tokens = await passwordTokens(base, fixture, 9);
  const access = tokens[0].access_token;
  const userinfo = async () => {
    await expectOk(await request(`${base}/userinfo`, { headers: { authorization: `Bearer ${access}` } }));
  };
  return {
    pid: server.child.pid,
    scenarios: [
      ['refresh HS512', 1, refresher(`${base}/token`, auth, [tokens[8].refresh_token])],
      ['refresh HS512', 8, refresher(`${base}/token`, auth, tokens.slice(0, 8).map((t) => t.refresh_token))],
      ['userinfo', 1, userinfo],
    ],
  };
}

async function main() {
  const builds = [await launch(binaryA, 'a'), await launch(binaryB, 'b')];
  const results = builds[0].scenarios.map(() => builds.map(() => []));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [s, [name, concurrency]] of builds[0].scenarios.entries()) {
      if (!ONLY.test(`${name} c=${concurrency}`)) continue;
      for (const [b, build] of builds.entries()) {
        const call = build.scenarios[s][2];
        await load(build.pid, concurrency, Math.min(50, REQUESTS), call); // warm-up
        results[s][b].push((await load(build.pid, concurrency, REQUESTS, call)).cpu);
      }
    }
  }
  const f = (xs) => `${median(xs).toFixed(0).padStart(5)} µs (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
  for (const [s, [name, concurrency]] of builds[0].scenarios.entries()) {
    const [a, b] = results[s];
    if (a.length === 0) continue;
    // B/A per round (the two ran back to back), then the median of those.
    const ratios = a.map((x, i) => b[i] / x);
    console.log(
      `${name.padEnd(14)} c=${String(concurrency).padEnd(2)} A ${f(a)} | B ${f(b)} | B/A ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
    );
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
