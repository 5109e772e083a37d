// Staff pages at a desktop viewport, in zh-CN: the first admin (made by the CLI, as in
// production) logs in, enrols an authenticator from the QR page, sees the recovery codes
// once, and creates an operator; with and without JavaScript. R-SEC-1, R-SEC-3.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';
import { lastCode, staffLogin, minimalPdf } from './helpers.mjs';

const BASE = process.env.FUZHEN_URL ?? 'http://127.0.0.1:3000';
const SHOTS = process.env.FUZHEN_SCREENSHOTS;
const DATA_DIR = process.env.FUZHEN_DATA_DIR;
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});
after(async () => { await browser?.close(); });

/// The CLI that makes the first admin; prints its first password.
function createAdmin(username) {
  const out = execFileSync('./target/release/server', ['staff', 'create-admin', username, '测试管理员'], {
    env: { ...process.env, FUZHEN_MODE: 'dev', FUZHEN_DATA_DIR: DATA_DIR, RUST_LOG: 'warn' },
  }).toString();
  const password = out.match(/shown once: (\S+)/)?.[1];
  assert.ok(password, out);
  return password;
}

/// RFC 6238 with SHA-1, 6 digits, 30 s: what an authenticator app shows.
function totp(base32, at = Date.now()) {
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

async function adminEnrolsAndCreatesAnOperator(javaScriptEnabled, username) {
  const password = createAdmin(username);
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', javaScriptEnabled });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  const tag = javaScriptEnabled ? 'js' : 'nojs';

  await page.goto(`${BASE}/staff`);
  await page.waitForURL(/\/staff\/login/);
  assert.equal(await page.locator('.tab-bar').count(), 0, 'no patient tabs on staff pages');
  await page.fill('#f-username', username);
  await page.fill('#f-password', 'not the password');
  await page.click('button.button-block');
  await page.waitForURL(/error=login_failed/);
  await page.fill('#f-username', username);
  await page.fill('#f-password', password);
  await page.click('button.button-block');
  await page.waitForURL(/\/staff\/enrol$/);
  assert.equal(await page.locator('.qr svg').count(), 1, 'the QR code is on the page');
  const secret = (await page.textContent('[data-testid=totp-secret]')).trim();
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${tag}-staff-enrol.png` });
  await page.fill('#f-code', totp(secret));
  await page.click('button.button-block');
  await page.waitForURL(/\/staff\?notice=enrolled/);
  assert.equal(await page.locator('[data-testid=recovery-codes] li').count(), 10);
  assert.match(await page.textContent('[data-testid=staff-role]'), /系统管理员/);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${tag}-staff-home.png`, fullPage: true });
  // Shown once: a reload no longer has them.
  await page.goto(`${BASE}/staff`);
  assert.equal(await page.locator('[data-testid=recovery-codes]').count(), 0);
  // Each desk is a page of its own: the admin's is the accounts desk.
  await page.click('[data-testid=desks] a[href="/staff/accounts"]');
  await page.waitForURL(/\/staff\/accounts$/);

  // R-SEC-1: the admin asks for an operator's account; no password is shown to them.
  const opPhone = javaScriptEnabled ? '13700137101' : '13700137102';
  await page.fill('#f-username', `op.${username}`);
  await page.fill('#f-real_name', '王审核');
  await page.fill('#f-phone', opPhone);
  await page.selectOption('#f-role', 'operator');
  await page.click('form[action="/forms/staff/accounts"] button[type=submit]');
  await page.waitForURL(/notice=staff_created/);
  const row = page.locator('tr', { hasText: `op.${username}` });
  assert.match(await row.textContent(), /运营审核/);
  assert.match(await row.textContent(), /等待另一位管理员批准/);
  assert.equal(await row.locator('form[action$="/approval"]').count(), 0, 'not approvable by the one who asked');
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${tag}-staff-accounts.png`, fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();

  // A second admin approves it on the same page; the code goes to the operator's phone.
  const secondName = `${username}.two`;
  const second = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', javaScriptEnabled });
  await staffLogin(second.request, secondName, createAdmin(secondName));
  const approver = await second.newPage();
  await approver.goto(`${BASE}/staff/accounts`);
  await approver.locator('tr', { hasText: `op.${username}` }).locator('form[action$="/approval"] button').click();
  await approver.waitForURL(/notice=staff_approved/);
  assert.match(await approver.locator('tr', { hasText: `op.${username}` }).textContent(), /等待本人激活/);
  if (SHOTS) await approver.screenshot({ path: `${SHOTS}/${tag}-staff-approved.png`, fullPage: true });
  await second.close();
  const activationCode = await lastCode(opPhone);
  const opPassword = `op ${username} 的密码 2026`;

  // R-ELIG-2: a patient's proof waits in the queue; the operator (password + TOTP)
  // approves it at a desktop viewport; the patient reads it in the message centre.
  const patient = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, locale: 'zh-CN', javaScriptEnabled });
  const api = patient.request;
  const phone = javaScriptEnabled ? '13600136001' : '13600136002';
  const idNumber = javaScriptEnabled ? '110105197909090015' : '110105198008080025';
  const { csrf_token: csrf } = await (await api.get(`${BASE}/api/v1/csrf`)).json();
  const headers = { 'x-csrf-token': csrf };
  assert.equal((await api.post(`${BASE}/api/v1/sms-codes`, { headers, data: { phone, purpose: 'register' } })).status(), 202);
  const code = await lastCode(phone);
  const { current } = await (await api.get(`${BASE}/api/v1/consents`)).json();
  const reg = await api.post(`${BASE}/api/v1/registrations`, {
    headers, data: { phone, code, password: '一句只有我知道的话 2026', real_name: '周芷若', id_number: idNumber, consents: current },
  });
  assert.equal(reg.status(), 201, await reg.text());
  const pdf = minimalPdf();
  const up = await api.post(`${BASE}/api/v1/proofs`, {
    headers,
    multipart: {
      institution: '北京协和医院', diagnosed_on: '2026-06-01', icd10: 'E11.9', note: '',
      idempotency_key: `e2e-${tag}-proof-1`,
      files: { name: 'report.pdf', mimeType: 'application/pdf', buffer: pdf },
    },
  });
  assert.equal(up.status(), 201, await up.text());

  const opContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', javaScriptEnabled });
  const op = await opContext.newPage();
  // The operator activates the account with the SMS code and a password of their own.
  await op.goto(`${BASE}/staff/login`);
  await op.click('a[href="/staff/activate"]');
  await op.waitForURL(/\/staff\/activate$/);
  await op.fill('#f-username', `op.${username}`);
  await op.fill('#f-code', activationCode);
  await op.fill('#f-password', opPassword);
  if (SHOTS) await op.screenshot({ path: `${SHOTS}/${tag}-staff-activate.png`, fullPage: true });
  await op.click('button.button-block');
  await op.waitForURL(/\/staff\/enrol$/);
  const opSecret = (await op.textContent('[data-testid=totp-secret]')).trim();
  await op.fill('#f-code', totp(opSecret));
  await op.click('button.button-block');
  await op.waitForURL(/\/staff\?notice=enrolled/);
  await op.click('[data-testid=desks] a[href="/staff/proofs"]');
  await op.waitForURL(/\/staff\/proofs$/);
  const item = op.locator('[data-testid=queue-item]', { hasText: '周芷若' });
  assert.match(await item.textContent(), /2型糖尿病|E11\.9/);
  if (SHOTS) await op.screenshot({ path: `${SHOTS}/${tag}-staff-queue.png`, fullPage: true });
  await item.locator('form:has(input[value=approve]) button').click();
  await op.waitForURL(/notice=proof_decided/);
  assert.equal(await op.locator('[data-testid=queue-item]', { hasText: '周芷若' }).count(), 0);
  // The operator adds an endocrinologist with the price list and a session in two days.
  const opApi = opContext.request;
  const { csrf_token: opCsrf } = await (await opApi.get(`${BASE}/api/v1/csrf`)).json();
  const opHeaders = { 'x-csrf-token': opCsrf };
  const doc = await opApi.post(`${BASE}/api/v1/staff/doctors`, {
    headers: opHeaders,
    data: { name: javaScriptEnabled ? '孙文博' : '徐文博', title: 'attending', department: 'endocrinology',
      licence_number: javaScriptEnabled ? '110110000009001' : '110110000009002', practicing_since: '2015-06-01',
      specialties: '糖尿病、甲状腺疾病', bio: '' },
  });
  assert.equal(doc.status(), 201, await doc.text());
  const doctorNumber = (await doc.json()).doctor_number;
  for (const [consult_type, fee_fen] of [['text', 2000], ['video', 4000]]) {
    const price = await opApi.put(`${BASE}/api/v1/staff/consult-prices`, { headers: opHeaders, data: { title: 'attending', consult_type, fee_fen } });
    assert.equal(price.status(), 204);
  }
  // R-BOOK-1: the operator publishes the doctor's session on the staff page: choose the
  // doctor, then the date, hours, consult type and slot length.
  const inTwoDays = new Date(Date.now() + 8 * 3600e3 + 2 * 86400e3).toISOString().slice(0, 10);
  await op.goto(`${BASE}/staff/schedule`);
  await op.selectOption('#f-doctor', doctorNumber);
  await op.click('[data-testid=scheduling] button');
  await op.waitForURL(new RegExp(`/staff/schedule\\?doctor=${doctorNumber}$`));
  assert.equal(await op.locator('[data-testid=scheduled-slot]').count(), 0);
  await op.fill('#f-date', inTwoDays);
  await op.fill('#f-start', '09:00');
  await op.fill('#f-end', '10:00');
  await op.selectOption('#f-type', 'video');
  await op.fill('#f-minutes', '20');
  await op.click('[data-testid=schedule] form[action="/forms/staff/sessions"] button');
  await op.waitForURL(/notice=session_published/);
  assert.equal(await op.locator('[data-testid=scheduled-slot]').count(), 3);
  assert.match(await op.textContent('[data-testid=schedule]'), /0\/1/);
  if (SHOTS) await op.screenshot({ path: `${SHOTS}/${tag}-staff-scheduling.png`, fullPage: true });
  await opContext.close();

  const mine = await patient.newPage();
  await mine.goto(`${BASE}/messages`);
  assert.match(await mine.textContent('main'), /诊断证明已通过审核/);
  await mine.goto(`${BASE}/proofs`);
  assert.match(await mine.textContent('[data-testid=proof]'), /已通过/);

  // R-ELIG-1/4, R-REG-6: with the approved diagnosis the patient starts a consult:
  // eligible, the emergency screen (all no), then the consult's risk notice, confirmed.
  await mine.goto(`${BASE}/consult/start`);
  await mine.locator('label', { hasText: '2型糖尿病' }).click();
  await mine.click('form button.button-block');
  await mine.locator('[data-testid=eligible]').waitFor();
  await mine.click('[data-testid=eligible] a');
  await mine.waitForURL(/\/consult\/screen\?choice=E11\.9:endocrinology$/);
  for (const no of await mine.locator('input[type=radio][value=no]').all()) await no.check();
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-consult-screen.png`, fullPage: true });
  await mine.click('button.button-block');
  await mine.waitForURL(/\/consult\/consent\?choice=E11\.9:endocrinology$/);
  assert.match(await mine.textContent('[data-testid=consult-summary]'), /2型糖尿病/);
  assert.match(await mine.textContent('[data-testid=consult-notice]'), /拨打 120/);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-consult-consent.png`, fullPage: true });
  await mine.check('#f-accept');
  await mine.click('button.button-block');
  // R-ELIG-3: on to the doctors who treat this diagnosis.
  await mine.waitForURL(/\/doctors\?mine=1&department=endocrinology&notice=consult_ready/);
  assert.match(await mine.textContent('main'), /已确认风险告知和知情同意/);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-doctors-mine.png`, fullPage: true });

  // R-BOOK-1/2/3: the doctor, a free slot, the hold with its countdown, the sandbox
  // payment, and the confirmation in the message centre.
  await mine.click(`a[href="/doctors/${doctorNumber}"]`);
  await mine.waitForURL(new RegExp(`/doctors/${doctorNumber}$`));
  assert.match(await mine.textContent('[data-testid=doctor-profile]'), /110110000009/);
  assert.equal(await mine.locator('[data-testid=slot]').count(), 3);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-doctor-slots.png`, fullPage: true });
  await mine.locator('[data-testid=slot]').first().click();
  await mine.waitForURL(/\/bookings\/BK[0-9a-f]+$/);
  assert.match(await mine.textContent('[data-testid=booking-state]'), /待支付/);
  const first = await mine.textContent('[data-testid=countdown]');
  assert.match(first, /剩余 1[45]:\d\d/);
  if (javaScriptEnabled) {
    // The countdown runs in the browser.
    await mine.waitForFunction((before) => document.querySelector('[data-testid=countdown]').textContent !== before, first, { timeout: 5000 });
  }
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-booking-held.png`, fullPage: true });
  assert.match(await mine.textContent('[data-testid=pay]'), /¥40/);
  // R-PAY-1: the ways to pay; the first that works here is chosen.
  assert.equal(await mine.isChecked('#pm-wechat_pay'), true);
  await mine.click('[data-testid=pay]');
  // The sandbox's checkout says no money moves; the tester lets it succeed.
  await mine.waitForURL(/\/pay\/sandbox\/OD[0-9a-f]+\?method=wechat_pay$/);
  assert.match(await mine.textContent('[data-testid=sandbox-note]'), /不会产生真实扣款/);
  assert.match(await mine.textContent('[data-testid=checkout-amount]'), /¥40/);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-sandbox-checkout.png`, fullPage: true });
  await mine.click('[data-testid=sandbox-succeed]');
  await mine.waitForURL(/\/bookings\/BK[0-9a-f]+\?paying=1$/);
  assert.match(await mine.textContent('[data-testid=paid]'), /预约成功/);
  assert.match(await mine.textContent('[data-testid=booking-state]'), /已预约/);
  assert.match(await mine.textContent('[data-testid=order-number]'), /^OD[0-9a-f]+$/);
  await mine.goto(`${BASE}/messages`);
  assert.match(await mine.textContent('main'), /预约成功/);
  await mine.goto(`${BASE}/consults`);
  assert.equal(await mine.locator('[data-testid=booking-row]').count(), 1);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-consults.png`, fullPage: true });

  // R-PAY-1, R-BOOK-2: a second slot, paid with Alipay but abandoned at the checkout:
  // the hold stands (a started payment is waited for); cancelling gives the place back.
  await mine.goto(`${BASE}/doctors/${doctorNumber}`);
  assert.equal(await mine.locator('[data-testid=slot]').count(), 2);
  await mine.locator('[data-testid=slot]').first().click();
  await mine.waitForURL(/\/bookings\/BK[0-9a-f]+$/);
  const held = mine.url();
  await mine.check('#pm-alipay');
  await mine.click('[data-testid=pay]');
  await mine.waitForURL(/\/pay\/sandbox\/OD[0-9a-f]+\?method=alipay$/);
  assert.match(await mine.textContent('[data-testid=checkout]'), /支付宝/);
  await mine.click('[data-testid=sandbox-abandon]');
  await mine.waitForURL(held);
  assert.match(await mine.textContent('[data-testid=booking-state]'), /待支付/);
  assert.match(await mine.textContent('main'), /您已发起支付/);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-booking-abandoned.png`, fullPage: true });
  await mine.click('form[action$="/cancel"] button');
  await mine.waitForURL(/notice=booking_cancelled/);
  await mine.goto(`${BASE}/doctors/${doctorNumber}`);
  assert.equal(await mine.locator('[data-testid=slot]').count(), 2, 'the place is free again');

  // The orders: the paid one with its receipt, the abandoned one lapsed.
  await mine.goto(`${BASE}/me`);
  await mine.click('[data-testid=my-orders]');
  await mine.waitForURL(/\/orders$/);
  const rows = mine.locator('[data-testid=order-row]');
  assert.equal(await rows.count(), 2);
  assert.match(await rows.nth(0).textContent(), /已失效/);
  assert.match(await rows.nth(1).textContent(), /已支付/);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-orders.png`, fullPage: true });
  await rows.nth(1).click();
  await mine.waitForURL(/\/orders\/OD[0-9a-f]+$/);
  assert.match(await mine.textContent('[data-testid=receipt-amount]'), /¥40/);
  assert.match(await mine.textContent('[data-testid=receipt]'), /微信支付/);
  if (SHOTS) await mine.screenshot({ path: `${SHOTS}/${tag}-receipt.png`, fullPage: true });
  await patient.close();
}

test('the first admin enrols an authenticator and creates an operator — with JavaScript', async () => {
  await adminEnrolsAndCreatesAnOperator(true, 'admin.js');
});

test('the first admin enrols an authenticator and creates an operator — without JavaScript', async () => {
  await adminEnrolsAndCreatesAnOperator(false, 'admin.nojs');
});
