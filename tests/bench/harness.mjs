// What the benchmarks share: starting servers, reading a process's CPU time and RSS from /proc,
// and driving requests at a concurrency.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createInterface } from 'node:readline';

const TICK_MICROS = 10_000; // USER_HZ = 100

export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MICROS;
}

export function rssMiB(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line.split(/\s+/)[1]) / 1024;
}

const children = new Set();
process.on('exit', () => children.forEach((child) => child.kill()));
// Interrupted or killed, exit so that the line above stops the servers (and temporary
// directories go): by default a signal ends node without its exit handlers.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(1));

/** Starts a process (stopped when this one exits) and resolves with it and the first stdout line matching `ready`. */
export function start(command, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    children.add(child);
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

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
export const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

/**
 * Runs `requests` calls of `call(worker, index)` from `concurrency` workers; CPU µs/request of
 * pid, latency p50/p99 and every latency (ms, by index). `call` may instead be { prepare(n) },
 * which makes (untimed) the call for n requests.
 */
export async function load(pid, concurrency, requests, side) {
  const call = side.prepare ? await side.prepare(requests) : side;
  const latencies = [];
  let next = 0;
  const before = cpuMicros(pid);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (next < requests) {
        const index = next;
        next += 1;
        const t0 = performance.now();
        await call(worker, index);
        latencies[index] = performance.now() - t0;
      }
    }),
  );
  const cpu = (cpuMicros(pid) - before) / requests;
  return { cpu, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), latencies };
}

/**
 * The timed requests' client: node:http on kept-alive connections. `fetch` (undici) took about
 * 500 µs of CPU per request here, 3-5 times what the servers take, so the load generator was
 * what limited the load (about 2,000 requests a second at concurrency 8, either server), and a
 * server that kept up slept and woke between requests, paying for its wake-ups; node:http
 * takes about 100 µs. Answers what `expectOk` reads: `ok`, `status`, `url`, `json()`, `text()`.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export function request(url, { method = 'GET', headers = {}, body } = {}) {
  const text = body === undefined ? undefined : String(body);
  const sent = { ...headers };
  if (text !== undefined) {
    sent['content-type'] ??= 'application/x-www-form-urlencoded';
    sent['content-length'] = Buffer.byteLength(text);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: sent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const received = Buffer.concat(chunks).toString();
        const status = res.statusCode;
        resolve({ ok: status >= 200 && status < 300, status, url: String(url), text: async () => received, json: async () => JSON.parse(received) });
      });
    });
    req.on('error', reject);
    req.end(text);
  });
}

export async function expectOk(response) {
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** A refresh chain per worker: each call spends the worker's token and keeps the new one. */
export function refresher(tokenUrl, auth, tokens) {
  return async (worker) => {
    const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens[worker] });
    const json = await expectOk(await request(tokenUrl, { method: 'POST', headers: { authorization: auth }, body }));
    if (!json.id_token) throw new Error('no id_token');
    tokens[worker] = json.refresh_token;
  };
}

export const basic = (id, secret) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** `n` token responses from Gatehouse's password grant for the fixture's member (each with a refresh token). */
export async function passwordTokens(base, fixture, n) {
  const auth = basic(fixture.clientId, fixture.clientSecret);
  const tokens = [];
  for (let i = 0; i < n; i += 1) {
    const body = new URLSearchParams({
      grant_type: 'password',
      username: fixture.member.username,
      password: fixture.member.password,
      scope: 'openid offline_access profile email',
    });
    tokens.push(await expectOk(await fetch(`${base}/token`, { method: 'POST', headers: { authorization: auth }, body })));
  }
  return tokens;
}
