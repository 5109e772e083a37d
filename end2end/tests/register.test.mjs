// Browser tests: a real Chromium at a phone's size, in zh-CN, once with JavaScript
// (the islands hydrated) and once without (plain forms). R-REG-1, R-REG-2, R-REG-4, R-REG-5.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { lastCode } from './helpers.mjs';

const BASE = process.env.FUZHEN_URL ?? 'http://127.0.0.1:3000';
const SHOTS = process.env.FUZHEN_SCREENSHOTS; // a folder, to look at the pages
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => { await browser?.close(); });

async function phonePage(javaScriptEnabled) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    locale: 'zh-CN', javaScriptEnabled,
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (['error', 'warning'].includes(m.type())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

async function shot(page, name) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function registerLoginLogout({ javaScriptEnabled, phone, idNumber, name }) {
  const { context, page, problems } = await phonePage(javaScriptEnabled);
  const tag = javaScriptEnabled ? 'js' : 'nojs';
  await page.goto(`${BASE}/`);
  assert.match(await page.textContent('h1'), /在线复诊/);
  await shot(page, `${tag}-home`);

  await page.goto(`${BASE}/register`);
  if (javaScriptEnabled) await page.waitForFunction(() => window.__hydrated || document.querySelector('body'));
  await page.fill('#f-phone', phone);
  await page.click('button[formaction="/forms/sms-code"]');
  await page.waitForURL(/notice=code_sent/);
  assert.equal(await page.inputValue('#f-phone'), phone, 'the phone is kept after sending the code');
  await page.fill('#f-code', await lastCode(phone));
  await page.fill('#f-password', '一句只有我知道的话 2026');
  await page.fill('#f-real_name', name);
  await page.fill('#f-id_number', idNumber.slice(0, 17) + (idNumber.endsWith('X') ? 'x' : idNumber.at(-1)));
  if (javaScriptEnabled) {
    // Hydrated: the birth date and sex derived from the ID are shown as it is typed.
    await page.locator('.derived').waitFor({ timeout: 10_000 });
    assert.match(await page.textContent('.derived'), /出生日期 \d{4}-\d{2}-\d{2}/);
  }
  for (const doc of ['service_agreement', 'informed_consent', 'sensitive_info']) {
    await page.check(`#consent-${doc}`);
  }
  await shot(page, `${tag}-register`);
  await page.click('button.button-block');
  await page.waitForURL(/\/me\?notice=registered/);
  assert.equal(await page.textContent('[data-testid=name]'), name);
  const masked = await page.textContent('[data-testid=id-number]');
  // Only the last four are shown: the first six name a birthplace (R-SEC-6).
  assert.equal(masked, `${"*".repeat(14)}${idNumber.slice(14)}`);
  assert.ok(!(await page.content()).includes(idNumber), 'the full ID number is never on the page');
  await shot(page, `${tag}-me`);

  await page.click('form[action="/forms/logout"] button');
  await page.waitForURL(/\/login\?notice=logged_out/);
  await page.fill('#f-phone', phone);
  await page.fill('#f-password', 'wrong password here');
  await page.click('button.button-block');
  await page.waitForURL(/error=login_failed/);
  assert.match(await page.textContent('[role=alert]'), /手机号或密码不正确/);
  await shot(page, `${tag}-login-error`);
  await page.fill('#f-phone', phone);
  await page.fill('#f-password', '一句只有我知道的话 2026');
  await page.click('button.button-block');
  await page.waitForURL(/\/me/);
  assert.equal(await page.textContent('[data-testid=name]'), name);
  await page.click('form[action="/forms/logout"] button');
  await page.waitForURL(/\/login/);
  await page.goto(`${BASE}/me`);
  await page.waitForURL(/\/login\?error=unauthenticated/);

  if (javaScriptEnabled) {
    const hydrationProblems = problems.filter((p) => /hydrat|panicked|unreachable/i.test(p));
    assert.deepEqual(hydrationProblems, [], 'no hydration warnings or panics in the console');
  }
  await context.close();
}

test('register, see the profile, log out and in again — with JavaScript', async () => {
  await registerLoginLogout({ javaScriptEnabled: true, phone: '13800138001', idNumber: '11010519491231002X', name: '王芳' });
});

test('register, see the profile, log out and in again — without JavaScript', async () => {
  await registerLoginLogout({ javaScriptEnabled: false, phone: '13800138002', idNumber: '310115198511204566', name: '阿依古丽·买买提' });
});

test('every form field has a label and tap targets are at least 44 px', async () => {
  const { context, page } = await phonePage(true);
  for (const path of ['/register', '/login', '/login/sms', '/password/reset', '/']) {
    await page.goto(`${BASE}${path}`);
    const unlabelled = await page.$$eval('input:not([type=hidden])', (inputs) =>
      inputs.filter((i) => !(i.id && document.querySelector(`label[for="${i.id}"]`))).map((i) => i.name));
    assert.deepEqual(unlabelled, [], `${path}: inputs without a label`);
    const small = await page.$$eval('button, a.button, .tab-bar a, .lang-switch a', (els) =>
      els.map((e) => [e.textContent.trim(), e.getBoundingClientRect().height]).filter(([, h]) => h > 0 && h < 44));
    assert.deepEqual(small, [], `${path}: tap targets under 44 px`);
  }
  await context.close();
});

// R-REG-2: after consent is withdrawn, following the app's own links is stopped at the
// consent page too. Pages are server-rendered islands: every link is a request the
// server gates, whether or not the page's WASM has loaded.
test('the consent gate holds for in-app links', async () => {
  const { context, page, problems } = await phonePage(true);
  const phone = '13800138003';
  const api = context.request;
  const { csrf_token: csrf } = await (await api.get(`${BASE}/api/v1/csrf`)).json();
  const headers = { 'x-csrf-token': csrf };
  assert.equal((await api.post(`${BASE}/api/v1/sms-codes`, { headers, data: { phone, purpose: 'register' } })).status(), 202);
  const { current } = await (await api.get(`${BASE}/api/v1/consents`)).json();
  const registered = await api.post(`${BASE}/api/v1/registrations`, {
    headers,
    data: {
      phone, code: await lastCode(phone), password: '一句只有我知道的话 2026', real_name: '李雷',
      id_number: '110105199001011232', consents: current,
    },
  });
  assert.equal(registered.status(), 201, await registered.text());
  const withdrawn = await api.post(`${BASE}/api/v1/consents/withdrawal`, { headers, data: { confirm: true } });
  assert.equal(withdrawn.status(), 204);

  // A page anyone may read, then the 我的 tab.
  await page.goto(`${BASE}/consent/service_agreement`);
  await page.waitForFunction(() => document.querySelector('article h1'));
  await page.click('.tab-bar a[href="/me"]');
  await page.waitForURL(/\/consent$/);
  assert.match(await page.textContent('main'), /停止|同意/);
  assert.ok(!(await page.content()).includes('李雷'), 'no profile while consent is withdrawn');
  await shot(page, 'js-consent-gate');
  assert.deepEqual(problems.filter((p) => /panicked|unreachable/i.test(p)), []);
  await context.close();
});

// R-REG-7: a guardian adds a child and acts for them, by plain forms (with and without
// JavaScript); an adult with full capacity is refused with the reason at the ID field.
async function addChild({ javaScriptEnabled, phone, idNumber, childId }) {
  const { context, page, problems } = await phonePage(javaScriptEnabled);
  const tag = javaScriptEnabled ? 'js' : 'nojs';
  const api = context.request;
  const { csrf_token: csrf } = await (await api.get(`${BASE}/api/v1/csrf`)).json();
  const headers = { 'x-csrf-token': csrf };
  assert.equal((await api.post(`${BASE}/api/v1/sms-codes`, { headers, data: { phone, purpose: 'register' } })).status(), 202);
  const { current } = await (await api.get(`${BASE}/api/v1/consents`)).json();
  const registered = await api.post(`${BASE}/api/v1/registrations`, {
    headers,
    data: { phone, code: await lastCode(phone), password: '一句只有我知道的话 2026', real_name: '韩梅梅', id_number: idNumber, consents: current },
  });
  assert.equal(registered.status(), 201, await registered.text());

  await page.goto(`${BASE}/me`);
  await page.click('a[href="/family"]');
  await page.waitForURL(/\/family$/);
  await page.click('a[href="/family/new"]');
  await page.waitForURL(/\/family\/new$/);
  // An adult with full capacity cannot be added as a dependant.
  await page.fill('#f-real_name', '韩大人');
  await page.fill('#f-id_number', '110101199003071233');
  await page.check('#f-guardian_confirmed');
  await page.click('button.button-block');
  await page.waitForURL(/\/family\/new\?error=family_adult_has_capacity/);
  assert.match(await page.textContent('#f-id_number-error'), /自行注册/);
  await shot(page, `${tag}-family-new-error`);

  await page.fill('#f-real_name', '韩小宝');
  await page.fill('#f-id_number', childId);
  await page.selectOption('#f-relationship', 'child');
  await page.check('#f-guardian_confirmed');
  await shot(page, `${tag}-family-new`);
  await page.click('button.button-block');
  await page.waitForURL(/\/family\?notice=family_added/);
  const row = page.locator('[data-testid=family-member]');
  assert.match(await row.textContent(), /韩小宝/);
  assert.match(await row.textContent(), /子女/);
  await row.locator('form[action="/forms/acting-for"] button').click();
  await page.waitForURL(/\/family\?notice=acting_for/);
  assert.match(await page.locator('[data-testid=family-member] .badge').textContent(), /当前/);
  await shot(page, `${tag}-family`);
  // The message centre has the notice; the 消息 tab shows it unread until it is opened.
  assert.equal((await page.textContent('[data-testid=unread-badge]')).trim(), '1');
  await page.click('.tab-bar a[href="/messages"]');
  await page.waitForURL(/\/messages$/);
  await shot(page, `${tag}-messages`);
  await page.click('.notice a');
  await page.waitForURL(/\/messages\/\d+$/);
  assert.match(await page.textContent('main'), /韩小宝/);
  // Read now: back on the list, neither the tab nor the list marks it unread.
  await page.click('a[href="/messages"]:not(.tab-bar a)');
  await page.waitForURL(/\/messages$/);
  assert.equal(await page.locator('[data-testid=unread-badge]').count(), 0);
  assert.equal(await page.locator('.notice-unread').count(), 0);
  if (javaScriptEnabled) assert.deepEqual(problems.filter((p) => /panicked|unreachable/i.test(p)), []);
  await context.close();
}

test('a guardian adds a child and acts for them — with JavaScript', async () => {
  await addChild({ javaScriptEnabled: true, phone: '13800138004', idNumber: '110105198001011238', childId: '110105201906010015' });
});

test('a guardian adds a child and acts for them — without JavaScript', async () => {
  await addChild({ javaScriptEnabled: false, phone: '13800138005', idNumber: '11010519820202123X', childId: '110105201801020022' });
});

// R-ELIG-4: before a consult, any emergency answer stops the flow with the go-to-hospital
// page (with and without JavaScript).
async function emergencyStops({ javaScriptEnabled, phone, idNumber }) {
  const { context, page, problems } = await phonePage(javaScriptEnabled);
  const tag = javaScriptEnabled ? 'js' : 'nojs';
  const api = context.request;
  const { csrf_token: csrf } = await (await api.get(`${BASE}/api/v1/csrf`)).json();
  const headers = { 'x-csrf-token': csrf };
  assert.equal((await api.post(`${BASE}/api/v1/sms-codes`, { headers, data: { phone, purpose: 'register' } })).status(), 202);
  const { current } = await (await api.get(`${BASE}/api/v1/consents`)).json();
  const registered = await api.post(`${BASE}/api/v1/registrations`, {
    headers,
    data: { phone, code: await lastCode(phone), password: '一句只有我知道的话 2026', real_name: '李华', id_number: idNumber, consents: current },
  });
  assert.equal(registered.status(), 201, await registered.text());

  // R-ELIG-1: nothing approved to follow up: turned away with the explanation.
  await page.goto(`${BASE}/consults`);
  await page.click('a[href="/consult/start"]');
  await page.waitForURL(/\/consult\/start$/);
  assert.match(await page.textContent('[data-testid=refusal]'), /首次就诊请先到医院面诊/);
  await shot(page, `${tag}-consult-refused`);
  // The screen itself (reached after an eligible choice) stops at any emergency answer.
  await page.goto(`${BASE}/consult/screen`);
  const names = await page.$$eval('.question input[value=no]', (inputs) => inputs.map((i) => i.name));
  assert.equal(names.length, 11, 'ten red flags and the critical question');
  for (const name of names) await page.click(`label[for="q-${name}-${name === 'chest_pain' ? 'yes' : 'no'}"]`);
  await shot(page, `${tag}-screen`);
  await page.click('button.button-block');
  await page.waitForURL(/\/emergency\?flags=chest_pain/);
  assert.match(await page.textContent('h1'), /请立即线下就医/);
  assert.equal(await page.getAttribute('a.button-call', 'href'), 'tel:120');
  await shot(page, `${tag}-emergency`);
  if (javaScriptEnabled) assert.deepEqual(problems.filter((p) => /panicked|unreachable/i.test(p)), []);
  await context.close();
}

test('no approved diagnosis is turned away; an emergency answer shows the go-to-hospital page — with JavaScript', async () => {
  await emergencyStops({ javaScriptEnabled: true, phone: '13800138006', idNumber: '110105197503030012' });
});

test('no approved diagnosis is turned away; an emergency answer shows the go-to-hospital page — without JavaScript', async () => {
  await emergencyStops({ javaScriptEnabled: false, phone: '13800138007', idNumber: '110105197604040025' });
});

/// A small valid PNG (a grey square), made here so the test needs no fixture file.
function png(size) {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const sum = Buffer.alloc(4); sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4); ihdr[8] = 8; ihdr[9] = 0;
  const rows = Buffer.alloc((size + 1) * size, 0x80);
  for (let y = 0; y < size; y++) rows[y * (size + 1)] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

// R-ELIG-2: a patient uploads a proof from the phone form (camera or gallery), sees it
// waiting for review, with its thumbnail; with and without JavaScript. With it, the
// diagnosis is searched for and a failed upload is retried without picking the files.
async function uploadProof({ javaScriptEnabled, phone, idNumber }) {
  const { context, page, problems } = await phonePage(javaScriptEnabled);
  const tag = javaScriptEnabled ? 'js' : 'nojs';
  const api = context.request;
  const { csrf_token: csrf } = await (await api.get(`${BASE}/api/v1/csrf`)).json();
  const headers = { 'x-csrf-token': csrf };
  assert.equal((await api.post(`${BASE}/api/v1/sms-codes`, { headers, data: { phone, purpose: 'register' } })).status(), 202);
  const { current } = await (await api.get(`${BASE}/api/v1/consents`)).json();
  const registered = await api.post(`${BASE}/api/v1/registrations`, {
    headers,
    data: { phone, code: await lastCode(phone), password: '一句只有我知道的话 2026', real_name: '赵敏', id_number: idNumber, consents: current },
  });
  assert.equal(registered.status(), 201, await registered.text());

  await page.goto(`${BASE}/me`);
  await page.click('a[href="/proofs"]');
  await page.click('a[href="/proofs/new"]');
  await page.waitForURL(/\/proofs\/new$/);
  if (javaScriptEnabled) {
    // The diagnosis found by its pinyin initials; picking it selects it in the list.
    await page.locator('#f-condition-q').waitFor({ state: 'visible', timeout: 10_000 });
    await page.fill('#f-condition-q', 'gxy');
    await page.locator('.condition-match', { hasText: '原发性高血压' }).click();
    assert.equal(await page.inputValue('#f-icd10'), 'I10');
    assert.match(await page.textContent('.condition-search [role=status]'), /已选择：原发性高血压 \(I10\)/);
  } else {
    assert.ok(!(await page.isVisible('#f-condition-q')), 'no search box that cannot work');
    await page.selectOption('#f-icd10', 'I10');
  }
  await page.fill('#f-institution', '北京协和医院');
  await page.fill('#f-diagnosed_on', '2026-06-01');
  await page.setInputFiles('#f-files', [{ name: 'IMG_0001.PNG', mimeType: 'image/png', buffer: png(64) }]);
  await shot(page, `${tag}-proof-new`);
  if (javaScriptEnabled) {
    // A flaky network: the first upload reaches the server but its answer is lost. The
    // retry sends the same files again without picking them, and the server finds the
    // first upload by its key instead of storing a second one.
    let lost = 0;
    await page.route('**/api/v1/proofs', async (route) => {
      if (lost++ === 0) { await route.fetch(); await route.abort('connectionreset'); } else await route.continue();
    });
    await page.click('button.button-block');
    await page.locator('[data-testid=upload-failed]').waitFor({ timeout: 10_000 });
    await shot(page, `${tag}-proof-retry`);
    await page.click('[data-testid=upload-failed] button');
  } else {
    await page.click('button.button-block');
  }
  await page.waitForURL(/\/proofs(\/new)?\?/);
  assert.match(page.url(), /notice=proof_submitted/);
  const card = page.locator('[data-testid=proof]');
  assert.equal(await card.count(), 1, 'one proof, however many times it was sent');
  assert.match(await card.textContent(), /待审核/);
  assert.match(await card.textContent(), /原发性高血压/);
  if (javaScriptEnabled) {
    // The thumbnail is served to its owner and decodes.
    await page.waitForFunction(() => document.querySelector('.proof-thumb')?.naturalWidth > 0);
  }
  await shot(page, `${tag}-proofs`);
  if (javaScriptEnabled) assert.deepEqual(problems.filter((p) => /panicked|unreachable/i.test(p)), []);
  await context.close();
}

test('a patient uploads a proof from the phone form — with JavaScript', async () => {
  await uploadProof({ javaScriptEnabled: true, phone: '13800138008', idNumber: '110105197705050011' });
});

test('a patient uploads a proof from the phone form — without JavaScript', async () => {
  await uploadProof({ javaScriptEnabled: false, phone: '13800138009', idNumber: '110105197806060024' });
});
