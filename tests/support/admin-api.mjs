// The admin JSON API for the JavaScript test suites (browser, interop, upstream): a bearer
// token from the built-in public `gatehouse-admin` client, and calls with it.
// Reads GATEHOUSE_URL, GATEHOUSE_ADMIN_USERNAME (default admin) and GATEHOUSE_ADMIN_PASSWORD.

const BASE = (process.env.GATEHOUSE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const ADMIN_USERNAME = process.env.GATEHOUSE_ADMIN_USERNAME || 'admin';
const ADMIN_PASSWORD = process.env.GATEHOUSE_ADMIN_PASSWORD;

let adminTokenPromise;

/** An admin API bearer token: `POST /token` grant_type=password, scope `admin` (cached; retried after a failure). */
export function adminToken() {
  if (!ADMIN_PASSWORD) throw new Error('GATEHOUSE_ADMIN_PASSWORD is not set');
  adminTokenPromise ??= (async () => {
    const res = await fetch(`${BASE}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        client_id: 'gatehouse-admin',
        username: ADMIN_USERNAME,
        password: ADMIN_PASSWORD,
        scope: 'admin',
      }),
    });
    const body = await res.json().catch(() => ({}));
    if (res.status !== 200 || !body.access_token) throw new Error(`admin token: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  })();
  adminTokenPromise.catch(() => {
    adminTokenPromise = undefined;
  });
  return adminTokenPromise;
}

/** Calls the admin JSON API with the bearer token; returns { status, body }. */
export async function adminCall(method, path, body) {
  const res = await fetch(`${BASE}/admin/api${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await adminToken()}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

/** Like `adminCall`, throwing unless the status is 2xx; returns the body. */
export async function adminApi(method, path, body) {
  const { status, body: out } = await adminCall(method, path, body);
  if (status < 200 || status > 299) throw new Error(`${method} /admin/api${path}: ${status} ${JSON.stringify(out)}`);
  return out;
}
