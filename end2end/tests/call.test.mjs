// Video consults on phones at 390×844, zh-CN (R-CONS-1, R-CONS-4, R-CONS-6): a patient
// called in from the doctor's live video queue checks camera and microphone, answers the
// doctor's call and both sides receive each other's video and sound (read from
// getStats() on each page); a reload and one tap bring the patient back; the doctor ends
// the call and the consult goes on. A browser without camera access is offered the
// system browser and the written consult. Chromium's fake camera and microphone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { SHOTS, BASE, PHONE, callLaunchOptions, nonLoopbackAddress, videoConsult as openVideoConsult, mediaFlows } from './helpers.mjs';

// Chromium leaves loopback out of a call's candidates: the two pages meet on another
// address of this machine.
const meetingAddress = Boolean(nonLoopbackAddress());

let browser;
before(async () => { browser = await chromium.launch(callLaunchOptions); });
after(async () => { await browser?.close(); });

/// A video consult opened at once from the doctor's live video queue (helpers.mjs).
const videoConsult = (n) => openVideoConsult(browser, n);

test('the doctor calls, the patient checks the devices and answers, both see and hear each other, and a drop is one tap',
  { skip: !meetingAddress && 'no address besides loopback on this machine' }, async () => {
  const { patientCtx, drCtx, number } = await videoConsult(1);
  const patient = await patientCtx.newPage();
  const doctor = await drCtx.newPage();
  // The call panel's code is fetched only by a page that shows a call.
  const fetched = [];
  patient.on('request', (r) => fetched.push(new URL(r.url()).pathname));
  await doctor.goto(`${BASE}/staff/consults/${number}`);
  await patient.goto(`${BASE}/consults/${number}`);
  await patient.waitForLoadState('networkidle');
  assert.ok(fetched.some((p) => /^\/pkg\/fuzhen\..*\.wasm$/.test(p)), 'the islands load');
  assert.ok(!fetched.some((p) => p.includes('split_mount_panel')), 'no call code on the consult page');
  await patient.click('[data-testid=enter-call]');
  await patient.waitForURL(new RegExp(`/consults/${number}/call$`));
  await patient.locator('[data-testid=call-panel][data-phase=Lobby]').waitFor({ timeout: 10_000 });
  assert.ok(fetched.some((p) => p.includes('split_mount_panel')), 'the call page loads the call code');
  assert.match(await patient.textContent('[data-testid=call-waiting]'), /医生还未发起通话/);

  // The check: camera preview, microphone, network.
  await patient.click('[data-testid=call-check]');
  await patient.locator('[data-testid=check-camera]', { hasText: '正常' }).waitFor({ timeout: 10_000 });
  await patient.locator('[data-testid=check-microphone]', { hasText: '正常' }).waitFor();
  await patient.locator('[data-testid=check-network]', { hasText: '可以连接' }).waitFor({ timeout: 10_000 });
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-call-check.png`, fullPage: true });

  // The doctor calls; the patient's page rings by itself and one tap answers.
  await doctor.locator('[data-testid=call-panel][data-phase=Lobby]').waitFor({ timeout: 10_000 });
  await doctor.click('[data-testid=call-start-video]');
  await patient.locator('[data-testid=call-ringing]').waitFor({ timeout: 10_000 });
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-call-ringing.png`, fullPage: true });
  await patient.click('[data-testid=call-join]');
  await mediaFlows(patient, 'patient');
  await mediaFlows(doctor, 'doctor');
  await patient.locator('[data-testid=call-quality]').waitFor({ timeout: 10_000 });
  if (SHOTS) {
    await patient.screenshot({ path: `${SHOTS}/js-call-patient.png`, fullPage: true });
    await doctor.screenshot({ path: `${SHOTS}/js-call-doctor.png`, fullPage: true });
  }
  // Mute and camera off say so on their buttons.
  await patient.click('[data-testid=call-mute]');
  assert.equal(await patient.getAttribute('[data-testid=call-mute]', 'aria-pressed'), 'true');
  await patient.click('[data-testid=call-mute]');
  await patient.click('[data-testid=call-camera]');
  assert.equal(await patient.getAttribute('[data-testid=call-camera]', 'aria-pressed'), 'true');
  await patient.click('[data-testid=call-camera]');

  // A drop (the page reloads): the call is still there, one tap and media flows again.
  await patient.reload();
  await patient.locator('[data-testid=call-join]').waitFor({ timeout: 10_000 });
  await patient.click('[data-testid=call-join]');
  await mediaFlows(patient, 'patient after rejoining');
  await mediaFlows(doctor, 'doctor after the patient rejoined');

  // The doctor ends the call; the consult goes on in writing, and the log says who did what.
  await doctor.click('[data-testid=call-end]');
  await patient.locator('[data-testid=call-ended]').waitFor({ timeout: 10_000 });
  const log = await patient.textContent('main');
  for (const said of ['医生发起了视频通话', '我进入了通话', '我离开了通话', '通话已结束']) {
    assert.ok(log.includes(said), `the log says ${said}`);
  }
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-call-ended.png`, fullPage: true });
  await patientCtx.close();
  await drCtx.close();
});

test('a browser without camera access is sent to the system browser or to writing; without JavaScript the page says so', async () => {
  const { patientCtx, drCtx, number } = await videoConsult(2);
  // WeChat's in-app browser with no getUserMedia.
  const wechat = await browser.newContext({ ...PHONE, storageState: await patientCtx.storageState(),
    userAgent: 'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 Mobile Safari/537.36 MicroMessenger/8.0.44' });
  await wechat.addInitScript(() => { Object.defineProperty(navigator, 'mediaDevices', { value: undefined }); });
  const page = await wechat.newPage();
  await page.goto(`${BASE}/consults/${number}/call`);
  await page.locator('[data-testid=call-unsupported]').waitFor({ timeout: 10_000 });
  assert.match(await page.textContent('[data-testid=call-unsupported]'), /在默认浏览器中打开/);
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/js-call-wechat-unsupported.png`, fullPage: true });
  await page.click('[data-testid=call-text-path]');
  await page.waitForURL(new RegExp(`/consults/${number}$`));
  await page.fill('#f-text', '视频打不开，我先文字描述一下。');
  await page.click('.chat-composer button[type=submit]');
  await page.locator('.chat-message', { hasText: '视频打不开' }).first().waitFor({ timeout: 10_000 });

  const nojs = await browser.newContext({ ...PHONE, javaScriptEnabled: false, storageState: await patientCtx.storageState() });
  const plain = await nojs.newPage();
  await plain.goto(`${BASE}/consults/${number}/call`);
  assert.match(await plain.textContent('[data-testid=call-static]'), /需要浏览器运行 JavaScript/);
  assert.equal(await plain.locator('#f-text').count(), 1, 'the written consult is on the same page');
  if (SHOTS) await plain.screenshot({ path: `${SHOTS}/nojs-call.png`, fullPage: true });
  for (const c of [wechat, nojs, patientCtx, drCtx]) await c.close();
});
