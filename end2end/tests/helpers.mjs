// Shared by the browser tests and the call benchmark (node --test runs only *.test.mjs
// files, so nothing here is a test): the server's address, the CLI that makes the first
// admin, TOTP codes, and API set-up (staff, eligible patients, a video consult).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';

/// The server under test: FUZHEN_URL and FUZHEN_DATA_DIR (scripts/test.sh), or the one a
/// test or the benchmark points the helpers at with `useServer`.
export let BASE = process.env.FUZHEN_URL ?? 'http://127.0.0.1:3000';
export const SHOTS = process.env.FUZHEN_SCREENSHOTS;
let DATA_DIR = process.env.FUZHEN_DATA_DIR;

/// Points every helper at another server (its address and data dir).
export function useServer(url, dataDir) {
  BASE = url;
  DATA_DIR = dataDir;
}

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
/// the server was given (FUZHEN_DEV_TOKEN) or keeps in its data dir.
export async function outbox(phone) {
  const token = process.env.FUZHEN_DEV_TOKEN ?? readFileSync(`${DATA_DIR}/secrets/fuzhen_dev_token`, 'utf8').trim();
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

/// Phones at 390×844 in Chinese: the contexts of the browser tests.
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' };

/// Chromium for calls: the fake camera and microphone, allowed without asking, and
/// sound that plays without a tap.
export const callLaunchOptions = {
  ...launchOptions,
  args: [...launchOptions.args, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required'],
};

/// This machine's first IPv4 address other than loopback (Chromium leaves loopback out of
/// a call's candidates, so two pages of a call meet there), or undefined.
export function nonLoopbackAddress() {
  return Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/// A TCP port nobody listens on now.
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/// A release server of its own, as scripts/test.sh starts one (dev mode, a fresh data
/// dir, the throttles opened for one address), with `env` added; ready when it returns.
/// `stop()` ends it. The helpers are pointed at it with `useServer(url, dataDir)`.
export async function startServer(env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'fuzhen-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = join(dataDir, 'server.log');
  const out = openSync(log, 'a');
  const child = spawn('./target/release/server', [], {
    env: {
      ...process.env, FUZHEN_MODE: 'dev', FUZHEN_DATA_DIR: dataDir, FUZHEN_LISTEN: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: 'target/site', LEPTOS_HASH_FILES: 'true', FUZHEN_SMS_PER_IP_PER_HOUR: '1000',
      FUZHEN_THROTTLE_PER_MINUTE: '100000', ...env,
    },
    stdio: ['ignore', out, out],
  });
  let exited = false;
  let failure = '';
  child.on('exit', () => { exited = true; });
  child.on('error', (e) => { exited = true; failure = `${e.message}\n`; });
  const stop = () => new Promise((resolve) => {
    if (exited) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
  for (let i = 0; i < 150 && !exited; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, dataDir, log, stop, pid: child.pid };
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`the server did not get ready; ${failure}its log:\n${readFileSync(log, 'utf8').split('\n').slice(-40).join('\n')}`);
}

/// A random secret (base64url), e.g. coturn's static-auth-secret for a test.
export function randomSecret(bytes = 24) {
  return randomBytes(bytes).toString('base64url');
}

/// An 18-digit resident ID number (its check digit computed): Beijing Chaoyang, born on
/// `birth` (YYYYMMDD), sequence `seq` (odd: male, even: female).
export function idNumber(birth, seq) {
  const body = `110105${birth}${String(seq).padStart(3, '0')}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((a, d, i) => a + Number(d) * weights[i], 0);
  return body + '10X98765432'[sum % 11];
}

/// The staff of a test: two admins (the CLI's, enrolled), who make with four eyes an
/// operator and a doctor's account; the operator lists the doctor and links the account.
/// Usernames are `<role>.<tag><n>`, phones `<phonePrefix><n><001…>`. The admins' contexts
/// are closed; the operator's and the doctor's (`drContext` options) are returned.
export async function staffTeam(browser, { tag, n, phonePrefix, doctor, drContext = {} }) {
  const adminCtx = await browser.newContext();
  const admin = adminCtx.request;
  const adminHeaders = await staffLogin(admin, `admin.${tag}${n}`, createAdmin(`admin.${tag}${n}`));
  const approverCtx = await browser.newContext();
  const approver = approverCtx.request;
  const approverHeaders = await staffLogin(approver, `admin2.${tag}${n}`, createAdmin(`admin2.${tag}${n}`));
  let phones = 0;
  const make = (username, role) => onboardStaff(
    { api: admin, headers: adminHeaders }, { api: approver, headers: approverHeaders },
    { username, role, display_name: role === 'doctor' ? doctor.name : '王运营', phone: `${phonePrefix}${n}${String(++phones).padStart(3, '0')}` },
  );
  const opCtx = await browser.newContext();
  const op = opCtx.request;
  const opHeaders = await staffLogin(op, `op.${tag}${n}`, await make(`op.${tag}${n}`, 'operator'));
  const drCtx = await browser.newContext(drContext);
  const dr = drCtx.request;
  const drHeaders = await staffLogin(dr, `dr.${tag}${n}`, await make(`dr.${tag}${n}`, 'doctor'));
  const doc = await op.post(`${BASE}/api/v1/staff/doctors`, {
    headers: opHeaders,
    data: { name: doctor.name, title: 'chief', department: 'cardiology', licence_number: doctor.licence,
      practicing_since: doctor.practicingSince, specialties: doctor.specialties ?? '高血压', bio: '' },
  });
  assert.equal(doc.status(), 201, await doc.text());
  const doctorNumber = (await doc.json()).doctor_number;
  const linked = await op.put(`${BASE}/api/v1/staff/doctors/${doctorNumber}/account`, { headers: opHeaders, data: { username: `dr.${tag}${n}` } });
  assert.equal(linked.status(), 204, await linked.text());
  for (const c of [adminCtx, approverCtx]) await c.close();
  return { opCtx, op, opHeaders, drCtx, dr, drHeaders, doctorNumber };
}

/// A patient who may consult (R-ELIG): registered in `api`'s context, a hypertension
/// (I10) proof approved by the operator, the emergency screen passed and the consult
/// consent given. Returns the patient's API headers.
export async function eligiblePatient(api, { op, opHeaders }, { phone, idNumber, name, key }) {
  const headers = await registerPatient(api, { phone, idNumber, name });
  const up = await api.post(`${BASE}/api/v1/proofs`, {
    headers,
    multipart: { institution: '北京协和医院', diagnosed_on: '2026-06-01', icd10: 'I10', note: '',
      idempotency_key: `${key}-${phone}`, files: { name: 'report.pdf', mimeType: 'application/pdf', buffer: minimalPdf() } },
  });
  assert.equal(up.status(), 201, await up.text());
  const decided = await op.post(`${BASE}/api/v1/staff/proofs/${(await up.json()).proof_number}/decision`, {
    headers: opHeaders, data: { decision: 'approve', icd10: 'I10', department: 'cardiology' },
  });
  assert.ok(decided.ok(), await decided.text());
  const answers = Object.fromEntries(['chest_pain', 'breathing_difficulty', 'heavy_bleeding', 'lost_consciousness',
    'stroke_signs', 'seizure', 'severe_allergy', 'poisoning', 'infant_high_fever', 'self_harm'].map((f) => [f, false]));
  assert.equal((await api.post(`${BASE}/api/v1/emergency-screen`, { headers, data: { answers, critical: false } })).status(), 200);
  const { version } = await (await api.get(`${BASE}/api/v1/consult-notice`)).json();
  const consent = await api.post(`${BASE}/api/v1/consult-consents`, { headers, data: { icd10: 'I10', department: 'cardiology', version, accept: true } });
  assert.equal(consent.status(), 201, await consent.text());
  return headers;
}

/// A video consult opened at once from the doctor's live video queue: the patient's and
/// the doctor's phone contexts (logged in) and the consult's number. `n` (1–9) keeps each
/// one's people apart on one server; `contextOptions` are added to both contexts.
export async function videoConsult(browser, n, contextOptions = {}) {
  const { opCtx, op, opHeaders, drCtx, dr, drHeaders, doctorNumber } = await staffTeam(browser, {
    tag: 'call', n, phonePrefix: '1370015',
    doctor: { name: '陈静', licence: `11011000000930${n}`, practicingSince: '2004-09-01' },
    drContext: { ...PHONE, ...contextOptions },
  });
  assert.equal((await dr.put(`${BASE}/api/v1/staff/me/presence`, { headers: drHeaders, data: { consult_type: 'video', online: true } })).status(), 204);

  const patientCtx = await browser.newContext({ ...PHONE, ...contextOptions });
  const api = patientCtx.request;
  const [phone, id] = [['13500137001', '11010519890909001X'], ['13500137002', '110105199001010029']][n - 1]
    ?? [`135001370${String(n).padStart(2, '0')}`, idNumber(`199101${String(n).padStart(2, '0')}`, 10 + n)];
  const headers = await eligiblePatient(api, { op, opHeaders }, { phone, idNumber: id, name: '李娜', key: 'call' });
  const joined = await api.post(`${BASE}/api/v1/queue`, { headers, data: { doctor_number: doctorNumber, consult_type: 'video' } });
  assert.equal(joined.status(), 201, await joined.text());
  const called = await dr.post(`${BASE}/api/v1/staff/me/queue/next`, { headers: drHeaders, data: { consult_type: 'video' } });
  assert.equal(called.status(), 200, await called.text());
  const [consult] = await (await api.get(`${BASE}/api/v1/consults`)).json();
  await opCtx.close();
  return { patientCtx, drCtx, number: consult.consult_number };
}

/// What has arrived from the other side of a call so far, as the page's getStats()
/// reading says (the call stage's data attributes).
export async function received(page) {
  const stage = page.locator('[data-testid=call-stage]');
  return { frames: Number(await stage.getAttribute('data-frames')), audio: Number(await stage.getAttribute('data-audio')) };
}

/// Both kinds of media keep arriving on `page`.
export async function mediaFlows(page, label) {
  await page.waitForFunction(() => document.querySelector('[data-testid=call-stage]')?.dataset.connected === 'true', null, { timeout: 20_000 });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=call-stage]').dataset.frames) > 0, null, { timeout: 20_000 });
  const first = await received(page);
  await page.waitForTimeout(4_500);
  const later = await received(page);
  assert.ok(later.frames > first.frames, `${label}: video frames decoded grow (${first.frames} → ${later.frames})`);
  assert.ok(later.audio > first.audio, `${label}: audio received grows (${first.audio} → ${later.audio})`);
}

/// An init script for a call page (`context.addInitScript(watchCalls)`), before the app
/// loads and with no change to it: every RTCPeerConnection the page makes is kept in
/// `window.__pcs` ({ pc, created, firstFrame }, times on the epoch clock in ms, shared by
/// the pages of one machine); `firstFrame` is when its first remote video frame was
/// decoded (getStats every 20 ms until then). Taps on [data-testid] elements are kept in
/// `window.__taps` ({ id, at }), and when the patient's page started ringing
/// ([data-testid=call-ringing] appearing) in `window.__rings`.
export function watchCalls() {
  const now = () => performance.timeOrigin + performance.now();
  const Native = window.RTCPeerConnection;
  if (!Native || window.__pcs) return;
  window.__pcs = [];
  window.__taps = [];
  window.__rings = [];
  let ringing = false;
  new MutationObserver(() => {
    const isRinging = Boolean(document.querySelector('[data-testid=call-ringing]'));
    if (isRinging && !ringing) window.__rings.push(now());
    ringing = isRinging;
  }).observe(document, { childList: true, subtree: true });
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push({ pc: this, created: now(), firstFrame: null });
    }
  };
  document.addEventListener('click', (e) => {
    const el = e.target?.closest?.('[data-testid]');
    if (el) window.__taps.push({ id: el.dataset.testid, at: performance.timeOrigin + e.timeStamp });
  }, true);
  setInterval(() => {
    for (const entry of window.__pcs) {
      if (entry.firstFrame !== null || entry.pc.signalingState === 'closed' || entry.polling) continue;
      entry.polling = true;
      entry.pc.getStats().then((report) => {
        const at = now();
        report.forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video' && s.framesDecoded > 0 && entry.firstFrame === null) entry.firstFrame = at;
        });
      }).catch(() => {}).finally(() => { entry.polling = false; });
    }
  }, 20);
}

/// Janus (`command`) with the repository's configuration (deploy/janus/) filled in: its API
/// on 127.0.0.1:`port` with `secret`, its events to `eventsUrl`, its candidates only on
/// `address` (one the pages reach). Ready when it returns; `child` to stop it.
export async function startJanus(command, { secret, port, eventsUrl, address }) {
  const dir = mkdtempSync(join(tmpdir(), 'fuzhen-janus-'));
  const rtp = 30_000 + (port % 100) * 100;
  for (const name of ['janus.jcfg', 'janus.transport.http.jcfg', 'janus.plugin.videoroom.jcfg', 'janus.eventhandler.sampleevh.jcfg']) {
    const text = readFileSync(new URL(`../../deploy/janus/${name}`, import.meta.url), 'utf8')
      .replaceAll('@CONFIGS@', dir)
      .replaceAll('@API_SECRET@', secret)
      .replaceAll('@EVENTS_URL@', eventsUrl)
      .replaceAll('@HTTP_PORT@', String(port))
      .replaceAll('@HTTP_IP@', '127.0.0.1')
      .replaceAll('@RTP_PORTS@', `${rtp}-${rtp + 99}`)
      // Candidates only on the address the pages can reach.
      .replaceAll('@NAT@', `ice_enforce_list = "${address}"`);
    writeFileSync(join(dir, name), text);
  }
  const log = join(dir, 'janus.log');
  const child = spawn(command, ['-F', dir, '-L', log, '-N'], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/janus`;
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try { if ((await fetch(`${url}/info`)).ok) return { child, url, log }; } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`janus did not start; its log:\n${readFileSync(log, 'utf8').slice(-3000)}`);
}
