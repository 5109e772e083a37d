// Shared by the browser tests (node --test runs only *.test.mjs files): the server's
// address, the CLI that makes the first admin, TOTP codes, and API set-up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const BASE = process.env.FUZHEN_URL ?? 'http://127.0.0.1:3000';
export const SHOTS = process.env.FUZHEN_SCREENSHOTS;
const DATA_DIR = process.env.FUZHEN_DATA_DIR;

export const launchOptions = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
};

/// The CLI that makes the first admin; returns its first password.
export function createAdmin(username) {
  const out = execFileSync('./target/release/server', ['staff', 'create-admin', username, '测试管理员'], {
    env: { ...process.env, FUZHEN_MODE: 'dev', FUZHEN_DATA_DIR: DATA_DIR, RUST_LOG: 'warn' },
  }).toString();
  const password = out.match(/shown once: (\S+)/)?.[1];
  assert.ok(password, out);
  return password;
}

/// RFC 6238 with SHA-1, 6 digits, 30 s: what an authenticator app shows.
export function totp(base32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

/// What the console SMS sender sent to a phone: the dev outbox, read with the dev token
/// the server keeps in its data dir.
export async function outbox(phone) {
  const token = readFileSync(`${DATA_DIR}/secrets/fuzhen_dev_token`, 'utf8').trim();
  const res = await fetch(`${BASE}/api/v1/dev/sms-outbox?phone=${phone}`, { headers: { 'x-fuzhen-dev-token': token } });
  assert.equal(res.status, 200, 'the dev outbox answers with the token');
  return (await res.json()).messages;
}

/// The last SMS code sent to a phone (the console sender's dev outbox).
export async function lastCode(phone) {
  for (let i = 0; i < 50; i++) {
    const code = (await outbox(phone)).at(-1)?.code;
    if (code) return code;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no SMS code for ${phone}`);
}

/// The CSRF header for a context's API calls.
export async function csrfHeaders(api) {
  const { csrf_token } = await (await api.get(`${BASE}/api/v1/csrf`)).json();
  return { 'x-csrf-token': csrf_token };
}

/// Registers a patient through the API in a browser context (its cookies log it in).
export async function registerPatient(api, { phone, idNumber, name }) {
  const headers = await csrfHeaders(api);
  assert.equal((await api.post(`${BASE}/api/v1/sms-codes`, { headers, data: { phone, purpose: 'register' } })).status(), 202);
  const { current } = await (await api.get(`${BASE}/api/v1/consents`)).json();
  const res = await api.post(`${BASE}/api/v1/registrations`, {
    headers,
    data: { phone, code: await lastCode(phone), password: '一句只有我知道的话 2026', real_name: name, id_number: idNumber, consents: current },
  });
  assert.equal(res.status(), 201, await res.text());
  return headers;
}

/// Logs a staff member in through the API and enrols an authenticator.
export async function staffLogin(api, username, password) {
  const headers = await csrfHeaders(api);
  const res = await api.post(`${BASE}/api/v1/staff/sessions`, { headers, data: { username, password } });
  assert.equal(res.status(), 200, await res.text());
  const { secret } = await (await api.get(`${BASE}/api/v1/staff/enrolment`)).json();
  const enrolled = await api.post(`${BASE}/api/v1/staff/enrolment`, { headers, data: { code: totp(secret) } });
  assert.equal(enrolled.status(), 200, await enrolled.text());
  return headers;
}

/// A staff account made with four eyes (R-SEC-1): `asker` (an admin's API context and
/// headers) asks, `approver` (another admin's) approves, and the owner sets their own
/// password with the code sent to their phone. Returns that password; the owner then
/// logs in with `staffLogin`.
export async function onboardStaff(asker, approver, { username, display_name, role, phone, department }) {
  const made = await asker.api.post(`${BASE}/api/v1/staff/accounts`, {
    headers: asker.headers, data: { username, display_name, role, phone, department },
  });
  assert.equal(made.status(), 201, await made.text());
  const { id } = await made.json();
  const approved = await approver.api.post(`${BASE}/api/v1/staff/accounts/${id}/approval`, { headers: approver.headers });
  assert.equal(approved.status(), 204, await approved.text());
  const password = `${username} 自己设的密码 2026`;
  const owner = await fetch(`${BASE}/api/v1/csrf`);
  const cookie = owner.headers.get('set-cookie').split(';')[0];
  const { csrf_token } = await owner.json();
  const activated = await fetch(`${BASE}/api/v1/staff/activation`, {
    method: 'POST',
    headers: { cookie, 'x-csrf-token': csrf_token, 'content-type': 'application/json' },
    body: JSON.stringify({ username, code: await lastCode(phone), password }),
  });
  assert.equal(activated.status, 200, await activated.text());
  return password;
}

/// A one-page PDF, written out with its cross-reference table.
export function minimalPdf() {
  const objects = ['<</Type/Catalog/Pages 2 0 R>>', '<</Type/Pages/Kids[3 0 R]/Count 1>>', '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>'];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((body, i) => { offsets.push(out.length); out += `${i + 1} 0 obj${body}endobj\n`; });
  const xref = out.length;
  out += 'xref\n0 4\n0000000000 65535 f \n' + offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  out += `trailer<</Size 4/Root 1 0 R>>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
