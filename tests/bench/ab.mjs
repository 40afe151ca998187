#!/usr/bin/env node
// Gatehouse against node `oidc-provider` on the same machine, interleaved: for each scenario the
// two servers take turns, `rounds` times, and the table shows medians and spreads of the server
// process's CPU time per request (from /proc/<pid>/stat, so the load generator is not counted),
// latency p50/p99, the CPU ratio, and RSS idle and after load. Not run in CI.
//
//   cd tests && node bench/ab.mjs <gatehouse-server binary> [requests] [rounds] [flows] [only]
//
// `only`, a regular expression, keeps the rows whose name and concurrency match (e.g.
// 'refresh HS512 c=1').
// `requests` per timed run (default 2000) for every scenario but the full flow, which runs
// `flows` times (default 1000: each makes a member, whose password is hashed; a p99 of 1000 is
// the tenth-worst sample, where of 200 it was the second-worst and one slow flow decided it). /proc counts CPU in
// 10 ms ticks, so a run of n requests reads to within 10 ms / n per request: 5 µs at 2000,
// which a ratio of 0.2 against ~450 µs needs.
// Build the binary with `cargo build --release -p gatehouse-server`, the build that ships (the
// `perf` profile, without LTO, costs ~10% more CPU per refresh; a debug build measures the debug
// build). Scenarios: discovery, JWKS,
// userinfo; the full authorization-code flow (HS512); code exchange (authorization_code with
// PKCE, new access, refresh and ID token) and refresh (rotating refresh token, new access and ID
// token) signed HS512, RS256 and ES256, refresh at concurrency 1, 8 and 32. Gatehouse's refresh
// tokens come from the password grant; the provider's from its own models
// (tests/bench/oidc_provider_server.mjs).
//
// The full flow is what a browser and its client do over HTTP with cookies, one flow per fresh
// cookie jar and account new to the client (Gatehouse remembers consent per member and client, and
// does not carry prompt=consent through its sign-in page), `prompt=consent` (the provider keeps
// offline_access only with it), PKCE, scope `openid offline_access profile email`: authorize (to
// the sign-in page), sign-in (posting the password, to the consent page), consent (to the redirect
// with the code), token (code exchange), userinfo, their sum, and the sum without sign-in. Each
// step is measured at concurrency 1 across `requests` flows: all flows take the step, one after
// another, between two readings of the server's CPU (so the 10 ms tick of /proc averages out), then
// the next step. Gatehouse verifies the member's argon2id password hash at sign-in; oidc-provider's
// development interactions accept any login with no password hash, so its sign-in step has no
// password check to pay for. Code exchange spends codes made the same way for a member already
// signed in (authorize, consent), made before each timed run.

import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { parseForms } from '../support/html.mjs';
import { basic, expectOk, load, median, passwordTokens, percentile, refresher, request, rssMiB, start } from './harness.mjs';

const DATA_DIR = mkdtempSync(join(tmpdir(), 'gatehouse-ab-'));

const [binary, requestsArg, roundsArg, flowsArg, onlyArg] = process.argv.slice(2);
if (!binary) {
  console.error('usage: node bench/ab.mjs <gatehouse-server binary> [requests] [rounds] [flows] [only]');
  process.exit(2);
}
const REQUESTS = Number(requestsArg ?? 2000);
const ROUNDS = Number(roundsArg ?? 3);
const FLOWS = Number(flowsArg ?? 1000);
const ONLY = new RegExp(onlyArg ?? '');
const ADMIN_PASSWORD = 'bench-admin-password-1';
const PROVIDER_SECRET = 'bench-secret-'.padEnd(96, 'x');

/**
 * Runs `walk(pause)` one stretch at a time: each call of the returned function resumes the walk
 * and resolves with the kind of the next `pause(kind)` it awaits, or with { done: result }.
 */
function stepwise(walk) {
  let waiting;
  let resume;
  const pause = (kind) =>
    new Promise((resolve) => {
      resume = resolve;
      waiting.resolve(kind);
    });
  return () =>
    new Promise((resolve, reject) => {
      const first = !waiting;
      waiting = { resolve, reject };
      if (first) walk(pause).then((result) => waiting.resolve({ done: result }), (e) => waiting.reject(e));
      else resume();
    });
}

/** A PKCE pair (RFC 7636, S256). */
function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * One server's side of the code flow: `walk(url, jar, pause, account)` drives its pages as
 * `account` (see browse() in tests/interop/setup.mjs); codes come back on `redirectUri`;
 * `accounts(n)` makes n accounts that have not used the client yet (untimed).
 */
function codeFlow({ pid, authorizeUrl, tokenUrl, userinfoUrl, clientId, redirectUri, auth, walk, accounts }) {
  const SCOPE = 'openid offline_access profile email';
  const begin = (jar, account) => {
    const { verifier, challenge } = pkce();
    const url = new URL(authorizeUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: redirectUri,
      scope: SCOPE,
      state: randomBytes(8).toString('hex'),
      nonce: randomBytes(8).toString('hex'),
      code_challenge: challenge,
      code_challenge_method: 'S256',
      prompt: 'consent',
    });
    return { verifier, next: stepwise((pause) => walk(url, jar, pause, account)) };
  };
  const codeOf = ({ done }) => {
    const code = done?.location.searchParams.get('code');
    if (!code || !done.location.href.startsWith(redirectUri)) throw new Error(`no code: ${done?.location}`);
    return code;
  };
  const exchange = async ({ code, verifier }) => {
    const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
    const json = await expectOk(await request(tokenUrl, { method: 'POST', headers: { authorization: auth }, body }));
    if (!json.id_token || !json.refresh_token || !json.access_token) throw new Error(`code exchange: ${JSON.stringify(json)}`);
    return json;
  };
  const expect = async (flow, kind) => {
    const at = await flow.next();
    if (at !== kind) throw new Error(`expected the ${kind} page, got ${JSON.stringify(at)}`);
  };
  return {
    pid,
    /** Signs a new account in, in `jar`, through a whole flow. */
    async signIn(jar) {
      const flow = begin(jar, (await accounts(1))[0]);
      while (typeof (await flow.next()) === 'string');
    },
    /** Codes for `n` exchanges, made through a signed-in `jar` (authorize, consent). */
    codes: (jar) => ({
      async prepare(n) {
        const codes = [];
        for (let i = 0; i < n; i += 1) {
          const flow = begin(jar);
          await expect(flow, 'consent');
          codes.push({ code: codeOf(await flow.next()), verifier: flow.verifier });
        }
        return (_, i) => exchange(codes[i]);
      },
    }),
    /**
     * `n` whole flows, each a new account in a new cookie jar (so each signs in and consents),
     * step by step: per step { cpu, p50, p99, latencies } in FLOW_STEPS order.
     */
    async flows(n) {
      const flows = (await accounts(n)).map((account) => begin(undefined, account));
      const steps = [];
      steps.push(await load(pid, 1, n, async (_, i) => expect(flows[i], 'signin')));
      steps.push(await load(pid, 1, n, async (_, i) => expect(flows[i], 'consent')));
      steps.push(await load(pid, 1, n, async (_, i) => { flows[i].code = codeOf(await flows[i].next()); }));
      steps.push(await load(pid, 1, n, async (_, i) => { flows[i].tokens = await exchange(flows[i]); }));
      steps.push(await load(pid, 1, n, async (_, i) => expectOk(await request(userinfoUrl, { headers: { authorization: `Bearer ${flows[i].tokens.access_token}` } }))));
      return steps;
    },
  };
}

const FLOW_STEPS = ['authorize', 'sign-in', 'consent', 'token', 'userinfo', 'total', 'total w/o sign-in'];

/** browse()'s answer for oidc-provider's development interactions: `login` signs in (any password), then consent. */
const devInteraction = (login) => (res, html) => {
  const form = parseForms(html).find((f) => f.method === 'post' && ['login', 'consent'].includes(f.hidden.prompt));
  if (res.status !== 200 || !form) return undefined;
  if (form.hidden.prompt === 'login') return { kind: 'signin', action: form.action, fields: { prompt: 'login', login, password: 'any' } };
  return { kind: 'consent', action: form.action, fields: { prompt: 'consent' } };
};


async function main() {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const gatehouse = await start(
    binary,
    [],
    {
      GATEHOUSE_LISTEN: `127.0.0.1:${port}`,
      GATEHOUSE_DATA_DIR: DATA_DIR,
      GATEHOUSE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      RUST_LOG: 'warn',
    },
    /http:\/\/127\.0\.0\.1:\d+/,
  );
  const BASE = `http://127.0.0.1:${port}`;
  process.env.GATEHOUSE_URL = BASE;
  process.env.GATEHOUSE_ADMIN_PASSWORD = ADMIN_PASSWORD;
  const { CookieJar, MEMBER_PASSWORD, adminApi, authorizeInBrowser, browse, createFixture, setSigning } = await import('../interop/setup.mjs');
  const gPid = gatehouse.child.pid;
  const idle = { gatehouse: rssMiB(gPid) };
  const fixture = await createFixture({ grantTypes: ['password_confidential'], prefix: 'bench' });
  const gAuth = basic(fixture.clientId, fixture.clientSecret);
  const gTokens = await passwordTokens(BASE, fixture, 32);

  const gAccess = gTokens[0].access_token;
  const gRefresh = gTokens.map((t) => t.refresh_token);

  const gFlow = codeFlow({
    pid: gPid,
    authorizeUrl: `${BASE}/authorize`,
    tokenUrl: `${BASE}/token`,
    userinfoUrl: `${BASE}/userinfo`,
    clientId: fixture.clientId,
    redirectUri: fixture.redirectUri,
    auth: gAuth,
    walk: (url, jar, pause, account) => authorizeInBrowser(url, { ...account, jar, pause }),
    // Gatehouse remembers consent per member and client, so each flow needs a new member.
    accounts: async (n) => {
      const made = [];
      for (let i = 0; i < n; i += 1) {
        const username = `${fixture.run}-m${(memberCount += 1)}`;
        await adminApi('POST', '/contacts', { username, email: `${username}@example.org`, first_name: 'Bob', last_name: 'Smith', password: MEMBER_PASSWORD });
        made.push({ username, password: MEMBER_PASSWORD });
      }
      return made;
    },
  });
  let memberCount = 0;
  let accountCount = 0;
  const gSignedIn = new CookieJar();
  await gFlow.signIn(gSignedIn);

  const summary = (xs) => {
    const cpu = xs.map((x) => x.cpu);
    return { cpu: median(cpu), spread: [Math.min(...cpu), Math.max(...cpu)], p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)) };
  };
  /** Prints one row: the medians over rounds of each side's runs `g` and `p`, with spreads. */
  function report(name, concurrency, g, p) {
    const row = { gatehouse: summary(g), provider: summary(p) };
    const f = (x) => `${x.cpu.toFixed(0).padStart(6)} µs (${x.spread.map((s) => s.toFixed(0)).join('–')}) p50 ${x.p50.toFixed(2)} p99 ${x.p99.toFixed(2)} ms`;
    console.log(`${name.padEnd(22)} c=${String(concurrency).padEnd(3)} gatehouse ${f(row.gatehouse)} | oidc-provider ${f(row.provider)} | CPU ratio ${(row.gatehouse.cpu / row.provider.cpu).toFixed(2)}`);
    return row;
  }
  const rss = {};
  async function compare(name, concurrency, gCall, provider, pCall) {
    if (!ONLY.test(`${name} c=${concurrency}`)) return undefined;
    const g = [];
    const p = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      await load(gPid, concurrency, Math.min(50, REQUESTS), gCall); // warm-up
      g.push(await load(gPid, concurrency, REQUESTS, gCall));
      await load(provider.child.pid, concurrency, Math.min(50, REQUESTS), pCall);
      p.push(await load(provider.child.pid, concurrency, REQUESTS, pCall));
    }
    return report(name, concurrency, g, p);
  }
  /** The full flow, step by step, then each flow's sum of steps with and without the sign-in (latency: the sum of its steps'). */
  async function compareFlows(pFlow) {
    if (!ONLY.test('flow')) return;
    const g = [];
    const p = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [flow, runs] of [[gFlow, g], [pFlow, p]]) {
        await flow.flows(Math.min(20, FLOWS)); // warm-up
        const steps = await flow.flows(FLOWS);
        const sum = (parts) => {
          const latencies = parts[0].latencies.map((_, i) => parts.reduce((total, step) => total + step.latencies[i], 0));
          return { cpu: parts.reduce((total, step) => total + step.cpu, 0), p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
        };
        runs.push([...steps, sum(steps), sum(steps.filter((_, k) => FLOW_STEPS[k] !== 'sign-in'))]);
      }
    }
    FLOW_STEPS.forEach((step, k) => report(`flow ${step}`, 1, g.map((r) => r[k]), p.map((r) => r[k])));
    console.log('  (sign-in: Gatehouse verifies an argon2id password hash; oidc-provider\'s development interactions accept any login without one)');
  }

  const refreshRows = {};
  for (const alg of ['HS512', 'RS256', 'ES256']) {
    await setSigning(alg);
    const provider = await start('node', ['bench/oidc_provider_server.mjs', alg, '32'], {}, /^TOKENS (.*)$/);
    const pTokens = JSON.parse(provider.match[1]);
    const pIssuer = provider.lines.find((l) => l.startsWith('READY ')).slice(6);
    const pPid = provider.child.pid;
    idle.provider ??= rssMiB(pPid);
    const pAuth = basic('bench-client', PROVIDER_SECRET);
    const pFlow = codeFlow({
      pid: pPid,
      authorizeUrl: `${pIssuer}/auth`,
      tokenUrl: `${pIssuer}/token`,
      userinfoUrl: `${pIssuer}/me`,
      clientId: 'bench-client',
      redirectUri: 'http://127.0.0.1:9/callback',
      auth: pAuth,
      walk: (url, jar, pause, account) => browse(url, { origin: new URL(pIssuer).origin, jar, answer: devInteraction(account), pause }),
      accounts: async (n) => Array.from({ length: n }, () => `member-${(accountCount += 1)}`),
    });
    const pSignedIn = new CookieJar();
    await pFlow.signIn(pSignedIn);
    if (alg === 'HS512') {
      const pAccess = (await expectOk(await request(`${pIssuer}/token`, { method: 'POST', headers: { authorization: pAuth }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: pTokens[0] }) })));
      pTokens[0] = pAccess.refresh_token;
      const get = (url, headers = {}) => async () => expectOk(await request(url, { headers }));
      await compare('discovery', 1, get(`${BASE}/.well-known/openid-configuration`), provider, get(`${pIssuer}/.well-known/openid-configuration`));
      await compare('jwks', 1, get(`${BASE}/jwks`), provider, get(`${pIssuer}/jwks`));
      await compare('userinfo', 1, get(`${BASE}/userinfo`, { authorization: `Bearer ${gAccess}` }), provider, get(`${pIssuer}/me`, { authorization: `Bearer ${pAccess.access_token}` }));
      await compareFlows(pFlow);
    }
    await compare(`code exchange ${alg}`, 1, gFlow.codes(gSignedIn), provider, pFlow.codes(pSignedIn));
    for (const concurrency of [1, 8, 32]) {
      const row = await compare(`refresh ${alg}`, concurrency, refresher(`${BASE}/token`, gAuth, gRefresh), provider, refresher(`${pIssuer}/token`, pAuth, pTokens));
      refreshRows[`${alg} ${concurrency}`] = row;
    }
    rss.provider = Math.max(rss.provider ?? 0, rssMiB(pPid));
    provider.child.kill();
  }
  // What RS256 could reach at best: Gatehouse's RS256 refresh less its HS512 one is the RSA
  // signature (and its encoding); over oidc-provider's RS256 refresh, that is the ratio left if
  // everything else Gatehouse does cost nothing. The two rows come from different rounds.
  for (const concurrency of [1, 8, 32]) {
    const [hs, rs] = [refreshRows[`HS512 ${concurrency}`], refreshRows[`RS256 ${concurrency}`]];
    if (!hs || !rs) continue;
    const signature = rs.gatehouse.cpu - hs.gatehouse.cpu;
    console.log(`refresh RS256 c=${concurrency}: the signature alone (Gatehouse's RS256 - HS512 refresh) ${signature.toFixed(0)} µs = ${(signature / rs.provider.cpu).toFixed(2)} of oidc-provider's RS256 refresh, whose own RS256 - HS512 is ${(rs.provider.cpu - hs.provider.cpu).toFixed(0)} µs`);
  }
  rss.gatehouse = rssMiB(gPid);
  await setSigning('HS512');
  gatehouse.child.kill();
  console.log(`RSS idle: gatehouse ${idle.gatehouse.toFixed(1)} MiB, oidc-provider ${idle.provider.toFixed(1)} MiB; after load: gatehouse ${rss.gatehouse.toFixed(1)} MiB, oidc-provider ${rss.provider.toFixed(1)} MiB`);
  process.exit(0);
}

process.on('exit', () => rmSync(DATA_DIR, { recursive: true, force: true }));
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
