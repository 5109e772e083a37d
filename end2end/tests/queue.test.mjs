// The live queue at a phone's size (R-BOOK-1): a doctor is online; two patients with an
// approved diagnosis join; the second sees one person ahead, and when the doctor calls
// the first, the second's page says "next" by itself (server-sent events), no reload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BASE, SHOTS, launchOptions, staffTeam, eligiblePatient } from './helpers.mjs';

let browser;
before(async () => { browser = await chromium.launch(launchOptions); });
after(async () => { await browser?.close(); });

async function liveQueue(javaScriptEnabled) {
  const tag = javaScriptEnabled ? 'js' : 'nojs';
  const n = javaScriptEnabled ? 1 : 2;
  // Staff: one admin asks for an operator's and a doctor's account, a second approves;
  // the operator lists the doctor and links the account; the doctor goes online.
  const { opCtx, op, opHeaders, drCtx, dr, drHeaders, doctorNumber } = await staffTeam(browser, {
    tag: 'queue', n, phonePrefix: '1370013',
    doctor: { name: '刘明辉', licence: `11011000000910${n}`, practicingSince: '2001-09-01', specialties: '高血压、心力衰竭' },
  });
  assert.equal((await dr.put(`${BASE}/api/v1/staff/me/presence`, { headers: drHeaders, data: { consult_type: 'text', online: true } })).status(), 204);

  // Two patients with an approved hypertension proof, screened and consented.
  const patients = [];
  const people = javaScriptEnabled
    ? [['13500135001', '110105198203030015', '吴用'], ['13500135002', '110105198304040028', '林冲']]
    : [['13500135003', '110105198505050011', '吴用'], ['13500135004', '110105198606060024', '林冲']];
  for (const [phone, idNumber, name] of people) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', javaScriptEnabled });
    const api = context.request;
    await eligiblePatient(api, { op, opHeaders }, { phone, idNumber, name, key: 'queue' });
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
  for (const c of [...patients, opCtx, drCtx]) await c.close();
}

test('patients wait in a live queue and the place updates by itself — with JavaScript', async () => {
  await liveQueue(true);
});

test('patients wait in a live queue and a refresh shows the new place — without JavaScript', async () => {
  await liveQueue(false);
});
