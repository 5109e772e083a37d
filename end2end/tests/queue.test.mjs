// The live queue at a phone's size (R-BOOK-1): a doctor is online; two patients with an
// approved diagnosis join; the second sees one person ahead, and when the doctor calls
// the first, the second's page says "next" by itself (server-sent events), no reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BASE, SHOTS, launchOptions, createAdmin, staffLogin, registerPatient, onboardStaff, minimalPdf } from './helpers.mjs';

let browser;
before(async () => { browser = await chromium.launch(launchOptions); });
after(async () => { await browser?.close(); });

const PDF = minimalPdf();

async function liveQueue(javaScriptEnabled) {
  const tag = javaScriptEnabled ? 'js' : 'nojs';
  const n = javaScriptEnabled ? 1 : 2;
  // Staff: one admin asks for an operator's and a doctor's account, a second approves.
  const adminCtx = await browser.newContext();
  const admin = adminCtx.request;
  const adminHeaders = await staffLogin(admin, `admin.queue${n}`, createAdmin(`admin.queue${n}`));
  const approverCtx = await browser.newContext();
  const approver = approverCtx.request;
  const approverHeaders = await staffLogin(approver, `admin2.queue${n}`, createAdmin(`admin2.queue${n}`));
  let phones = 0;
  const make = (username, role) => onboardStaff(
    { api: admin, headers: adminHeaders }, { api: approver, headers: approverHeaders },
    { username, role, display_name: role === 'doctor' ? '刘明辉' : '王运营', phone: `1370013${n}${String(++phones).padStart(3, '0')}` },
  );
  const opCtx = await browser.newContext();
  const op = opCtx.request;
  const opHeaders = await staffLogin(op, `op.queue${n}`, await make(`op.queue${n}`, 'operator'));
  const drCtx = await browser.newContext();
  const dr = drCtx.request;
  const drHeaders = await staffLogin(dr, `dr.queue${n}`, await make(`dr.queue${n}`, 'doctor'));

  // The operator lists the doctor, links the account; the doctor goes online.
  const doc = await op.post(`${BASE}/api/v1/staff/doctors`, {
    headers: opHeaders,
    data: { name: '刘明辉', title: 'chief', department: 'cardiology', licence_number: `11011000000910${n}`,
      practicing_since: '2001-09-01', specialties: '高血压、心力衰竭', bio: '' },
  });
  assert.equal(doc.status(), 201);
  const doctorNumber = (await doc.json()).doctor_number;
  assert.equal((await op.put(`${BASE}/api/v1/staff/doctors/${doctorNumber}/account`, { headers: opHeaders, data: { username: `dr.queue${n}` } })).status(), 204);
  assert.equal((await dr.put(`${BASE}/api/v1/staff/me/presence`, { headers: drHeaders, data: { consult_type: 'text', online: true } })).status(), 204);

  // Two patients with an approved hypertension proof, screened and consented.
  const patients = [];
  const people = javaScriptEnabled
    ? [['13500135001', '110105198203030015', '吴用'], ['13500135002', '110105198304040028', '林冲']]
    : [['13500135003', '110105198505050011', '吴用'], ['13500135004', '110105198606060024', '林冲']];
  for (const [phone, idNumber, name] of people) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', javaScriptEnabled });
    const api = context.request;
    const headers = await registerPatient(api, { phone, idNumber, name });
    const up = await api.post(`${BASE}/api/v1/proofs`, {
      headers,
      multipart: { institution: '北京协和医院', diagnosed_on: '2026-06-01', icd10: 'I10', note: '',
        idempotency_key: `queue-${phone}`, files: { name: 'report.pdf', mimeType: 'application/pdf', buffer: PDF } },
    });
    assert.equal(up.status(), 201, await up.text());
    const proof = (await up.json()).proof_number;
    const decided = await op.post(`${BASE}/api/v1/staff/proofs/${proof}/decision`, {
      headers: opHeaders, data: { decision: 'approve', icd10: 'I10', department: 'cardiology' },
    });
    assert.ok(decided.ok(), await decided.text());
    const answers = Object.fromEntries(['chest_pain', 'breathing_difficulty', 'heavy_bleeding', 'lost_consciousness',
      'stroke_signs', 'seizure', 'severe_allergy', 'poisoning', 'infant_high_fever', 'self_harm'].map((f) => [f, false]));
    assert.equal((await api.post(`${BASE}/api/v1/emergency-screen`, { headers, data: { answers, critical: false } })).status(), 200);
    const { version } = await (await api.get(`${BASE}/api/v1/consult-notice`)).json();
    const consent = await api.post(`${BASE}/api/v1/consult-consents`, {
      headers, data: { icd10: 'I10', department: 'cardiology', version, accept: true },
    });
    assert.equal(consent.status(), 201, await consent.text());
    patients.push(context);
  }

  // The first joins through the page; the second too, and sees one ahead.
  const pages = [];
  for (const context of patients) {
    const page = await context.newPage();
    await page.goto(`${BASE}/doctors/${doctorNumber}`);
    assert.match(await page.textContent('[data-testid=queues]'), /医生在线/);
    await page.click('[data-testid=join]');
    await page.waitForURL(/\/queue\/QE[0-9a-f]+$/);
    pages.push(page);
  }
  const [first, second] = pages;
  assert.match(await first.textContent('[data-testid=queue-live]'), /下一位就是您/);
  assert.match(await second.textContent('[data-testid=queue-live]'), /前面还有 1 人/);
  assert.match(await second.textContent('[data-testid=queue-live]'), /还需等待约 10 分钟/);
  if (javaScriptEnabled) {
    // Live: the events stream is connected.
    await second.locator('[data-testid=queue-live] .hint').waitFor({ timeout: 10_000 });
  }
  if (SHOTS) await second.screenshot({ path: `${SHOTS}/${tag}-queue-waiting.png`, fullPage: true });

  // The doctor calls the next: the first is called; the second's page updates itself.
  const called = await dr.post(`${BASE}/api/v1/staff/me/queue/next`, { headers: drHeaders, data: { consult_type: 'text' } });
  assert.equal(called.status(), 200);
  assert.equal((await called.json()).patient.person_name, '吴用');
  if (javaScriptEnabled) {
    await second.waitForFunction(() => /下一位就是您/.test(document.querySelector('[data-testid=queue-live]').textContent), null, { timeout: 10_000 });
    await first.waitForFunction(() => /轮到您了/.test(document.querySelector('[data-testid=queue-live]').textContent), null, { timeout: 10_000 });
  } else {
    // Without JavaScript the refresh link shows the new place.
    await second.click('a:has-text("刷新")');
    assert.match(await second.textContent('[data-testid=queue-live]'), /下一位就是您/);
    await first.reload();
    assert.match(await first.textContent('[data-testid=queue-live]'), /轮到您了/);
  }
  if (SHOTS) await second.screenshot({ path: `${SHOTS}/${tag}-queue-next.png`, fullPage: true });

  // The second leaves the queue (a plain form).
  await second.click('form[action$="/leave"] button');
  await second.waitForURL(/\/queue\/QE[0-9a-f]+$/);
  assert.match(await second.textContent('[data-testid=queue-live]'), /您已退出排队/);
  for (const c of [...patients, adminCtx, opCtx, drCtx]) await c.close();
}

test('patients wait in a live queue and the place updates by itself — with JavaScript', async () => {
  await liveQueue(true);
});

test('patients wait in a live queue and a refresh shows the new place — without JavaScript', async () => {
  await liveQueue(false);
});
