// The consult on phones at 390×844, zh-CN (R-CONS-1, R-CONS-2, R-EMR-1, R-EMR-4): a
// patient pays for a 图文 consult; patient and doctor chat on two pages, live, with an
// image; the doctor completes the consult with a record; the patient reads it. Without
// WebAssembly the same consult works with plain forms and a refresh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { deflateSync, crc32 } from 'node:zlib';
import { BASE, SHOTS, PHONE, launchOptions, staffTeam, eligiblePatient } from './helpers.mjs';

let browser;
before(async () => { browser = await chromium.launch(launchOptions); });
after(async () => { await browser?.close(); });

/// A 64×48 PNG (a colour gradient): a photo as the picker hands it over.
const PNG = (() => {
  const [w, h] = [64, 48];
  const rows = [];
  for (let y = 0; y < h; y++) {
    rows.push(Buffer.from([0]));
    for (let x = 0; x < w; x++) rows.push(Buffer.from([x * 4, y * 5, 160]));
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([head, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0)),
  ]);
})();

/// A paid 图文 consult: the patient's and the doctor's browser contexts (logged in), and
/// the consult's number. `n` keeps each run's people apart.
async function paidConsult(n, javaScriptEnabled) {
  const { opCtx, op, opHeaders, drCtx, doctorNumber } = await staffTeam(browser, {
    tag: 'cs', n, phonePrefix: '1370014',
    doctor: { name: '周文', licence: `11011000000920${n}`, practicingSince: '2003-09-01' },
    drContext: { ...PHONE, javaScriptEnabled },
  });
  for (const consult_type of ['text', 'image_text', 'video']) {
    const price = await op.put(`${BASE}/api/v1/staff/consult-prices`, { headers: opHeaders, data: { title: 'chief', consult_type, fee_fen: 5000 } });
    assert.equal(price.status(), 204, await price.text());
  }
  const day = new Date(Date.now() + 2 * 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 10);
  const session = await op.post(`${BASE}/api/v1/staff/doctors/${doctorNumber}/sessions`, {
    headers: opHeaders, data: { date: day, start: '09:00', end: '10:00', consult_type: 'image_text', slot_minutes: 15 },
  });
  assert.equal(session.status(), 201, await session.text());
  const slot = (await session.json()).slot_numbers[0];

  const patientCtx = await browser.newContext({ ...PHONE, javaScriptEnabled });
  const api = patientCtx.request;
  const [phone, idNumber] = n === 1 ? ['13500136001', '110105198707070010'] : ['13500136002', '110105198808080023'];
  const headers = await eligiblePatient(api, { op, opHeaders }, { phone, idNumber, name: '宋江', key: 'consult' });
  const held = await api.post(`${BASE}/api/v1/holds`, { headers, data: { slot_number: slot } });
  assert.equal(held.status(), 201, await held.text());
  const booking = (await held.json()).booking_number;
  const paying = await api.post(`${BASE}/api/v1/bookings/${booking}/payment`, { headers, data: { payment_method: 'wechat_pay' } });
  const order = (await paying.json()).url.split('/').pop().split('?')[0];
  const paid = await api.post(`${BASE}/forms/pay/sandbox/${order}`, { form: { choice: 'succeed', csrf_token: headers['x-csrf-token'] }, maxRedirects: 0 });
  assert.equal(paid.status(), 303, await paid.text());
  const [consult] = await (await api.get(`${BASE}/api/v1/consults`)).json();
  await opCtx.close();
  return { patientCtx, drCtx, number: consult.consult_number };
}

test('patient and doctor chat live with an image; the doctor completes with a record; the patient reads it', async () => {
  const { patientCtx, drCtx, number } = await paidConsult(1, true);
  const patient = await patientCtx.newPage();
  const doctor = await drCtx.newPage();
  await patient.goto(`${BASE}/consults/${number}`);
  assert.match(await patient.textContent('[data-testid=consult-status]'), /等待医生回复/);
  assert.match(await patient.textContent('[data-testid=promised]'), /医生承诺在/);
  await doctor.goto(`${BASE}/staff/consults/${number}`);
  assert.match(await doctor.textContent('[data-testid=patient-brief]'), /I10/);
  // Both islands are live (the composer is taken over by the connection).
  await patient.waitForFunction(() => !document.querySelector('.chat-status'), null, { timeout: 10_000 });
  await patient.waitForTimeout(500);

  await patient.fill('#f-text', '医生您好，这两天早上血压 150/95。');
  await patient.click('.chat-composer button[type=submit]');
  // No reload: the message arrives on the doctor's page by itself.
  await doctor.locator('[data-testid=chat-live] .chat-message', { hasText: '150/95' }).waitFor({ timeout: 10_000 });
  assert.equal(new URL(patient.url()).pathname, `/consults/${number}`);
  await doctor.fill('#f-text', '请把血压记录拍照发给我。');
  await doctor.click('.chat-composer button[type=submit]');
  await patient.locator('[data-testid=chat-live] .chat-message', { hasText: '请把血压记录拍照发给我' }).waitFor({ timeout: 10_000 });
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-consult-patient.png`, fullPage: true });

  // The patient sends a photo (the upload form); it shows on the doctor's page.
  await patient.setInputFiles('#f-file', { name: 'bp.png', mimeType: 'image/png', buffer: PNG });
  const [upload] = await Promise.all([
    patient.waitForResponse((r) => r.url().includes('/files') && r.request().method() === 'POST'),
    patient.click('form[action*="/files"] button[type=submit]'),
  ]);
  assert.equal(upload.status(), 303, upload.status() >= 400 ? await upload.text() : '');
  assert.match(upload.headers().location ?? '', /#m\d+$/);
  await patient.waitForURL(new RegExp(`/consults/${number}`));
  await doctor.locator('[data-testid=chat-live] .chat-image img').waitFor({ timeout: 10_000 });
  if (SHOTS) await doctor.screenshot({ path: `${SHOTS}/js-consult-doctor.png`, fullPage: true });

  // The doctor writes the record and completes the consult.
  await doctor.fill('#f-chief_complaint', '血压控制不佳一周');
  await doctor.fill('#f-present_illness', '规律服药，晨起血压 150/95 mmHg。');
  await doctor.fill('#f-advice', '氨氯地平加至 10mg 每日一次。');
  await doctor.fill('#f-follow_up', '两周后复诊。');
  await doctor.click('[data-testid=complete]');
  await doctor.locator('[data-testid=record]', { hasText: '已归档' }).waitFor();
  if (SHOTS) await doctor.screenshot({ path: `${SHOTS}/js-consult-record-archived.png`, fullPage: true });

  await patient.goto(`${BASE}/consults/${number}`);
  assert.match(await patient.textContent('[data-testid=consult-status]'), /已完成/);
  await patient.click('[data-testid=read-record]');
  assert.match(await patient.textContent('[data-testid=record-advice]'), /氨氯地平加至 10mg/);
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-record.png`, fullPage: true });
  await patient.goto(`${BASE}/records/access`);
  assert.match(await patient.textContent('[data-testid=access-log]'), /周文/);
  await patientCtx.close();
  await drCtx.close();
});

test('without WebAssembly the consult works with plain forms and a refresh', async () => {
  const { patientCtx, drCtx, number } = await paidConsult(2, false);
  const patient = await patientCtx.newPage();
  await patient.goto(`${BASE}/consults/${number}`);
  await patient.fill('#f-text', '没有 JavaScript 也能发消息。');
  await patient.click('.chat-composer button[type=submit]');
  await patient.waitForURL(new RegExp(`/consults/${number}`));
  await patient.locator('#chat-log .chat-message', { hasText: '没有 JavaScript 也能发消息' }).waitFor();
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/nojs-consult-patient.png`, fullPage: true });

  const doctor = await drCtx.newPage();
  await doctor.goto(`${BASE}/staff/consults`);
  if (SHOTS) await doctor.screenshot({ path: `${SHOTS}/nojs-consult-desk.png`, fullPage: true });
  await doctor.click('[data-testid=desk-row]');
  await doctor.locator('#chat-log .chat-message', { hasText: '没有 JavaScript 也能发消息' }).waitFor();
  await doctor.fill('#f-text', '收到，请继续观察。');
  await doctor.click('.chat-composer button[type=submit]');
  await doctor.waitForURL(new RegExp(`/staff/consults/${number}`));

  await patient.click('[data-testid=refresh]');
  await patient.locator('#chat-log .chat-message', { hasText: '收到，请继续观察' }).waitFor();
  assert.match(await patient.textContent('[data-testid=consult-status]'), /问诊中/);
  await patientCtx.close();
  await drCtx.close();
});
