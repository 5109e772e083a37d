// Call set-up time (R-CONS-6): on one consult, CALLS calls one after another between a
// doctor's page and a patient's page (phones, Chromium's fake camera and microphone): the
// doctor taps 视频通话, the patient's page rings, the patient taps 接听, both pages wait for
// the other side's first decoded video frame, the doctor ends the call. One call first
// warms up (not counted). Printed, p50 and p99 (nearest rank: of 20 calls, the slowest)
// in milliseconds of:
//   ring        the doctor's tap on 视频通话 → the patient's page rings
//   patient     the patient's tap on 接听 → the first remote frame decoded on the patient's page
//   doctor      the patient's tap on 接听 → the first remote frame decoded on the doctor's page
// Every time is taken inside the pages (the tap's event time, getStats() every 20 ms for
// the first frame) on the machine's one clock, so the browser's automation adds nothing.
//
//   node end2end/bench/call-setup.mjs <server URL> <label> [calls (20)] [people (3)]
//
// The server's data dir is FUZHEN_DATA_DIR (its admin CLI makes the bench's staff), run
// from the repository (./target/release/server). Any server: the peer-to-peer backup, or
// one with a media server configured; `label` names the row. `people` (1–9) keeps this
// run's accounts apart from another run's on the same server.
import { chromium } from 'playwright-core';
import { callLaunchOptions, nonLoopbackAddress, useServer, videoConsult, watchCalls } from '../tests/helpers.mjs';

const [url, label, callsArg, peopleArg] = process.argv.slice(2);
if (!url || !label || !process.env.FUZHEN_DATA_DIR) {
  console.error('usage: FUZHEN_DATA_DIR=<the server\'s data dir> node end2end/bench/call-setup.mjs <server URL> <label> [calls] [people]');
  process.exit(2);
}
const calls = Number(callsArg ?? 20);
const people = Number(peopleArg ?? 3);
if (!nonLoopbackAddress()) {
  console.log(`   call set-up, ${label}: skipped (no address besides loopback: Chromium leaves loopback out of a call)`);
  process.exit(0);
}
useServer(url.replace(/\/$/, ''), process.env.FUZHEN_DATA_DIR);

const browser = await chromium.launch(callLaunchOptions);
try {
  const { patientCtx, drCtx, number } = await videoConsult(browser, people);
  for (const c of [patientCtx, drCtx]) await c.addInitScript(watchCalls);
  const patient = await patientCtx.newPage();
  const doctor = await drCtx.newPage();
  await doctor.goto(`${url}/staff/consults/${number}`);
  await patient.goto(`${url}/consults/${number}/call`);
  for (const page of [doctor, patient]) {
    await page.locator('[data-testid=call-panel][data-phase=Lobby]').waitFor({ timeout: 30_000 });
  }

  // The last tap on `id`, and the first remote frame of a connection made since `since`.
  const lastTap = (page, id) => page.evaluate((id) => window.__taps.filter((t) => t.id === id).at(-1)?.at, id);
  const firstFrame = (page, since) => page.waitForFunction((since) => {
    const frames = window.__pcs.filter((e) => e.created >= since && e.firstFrame !== null).map((e) => e.firstFrame);
    return frames.length ? Math.min(...frames) : false;
  }, since, { timeout: 30_000, polling: 20 }).then((h) => h.jsonValue());

  const times = { ring: [], patient: [], doctor: [] };
  let failed = 0;
  for (let i = 0; i <= calls; i++) {
    try {
      await doctor.locator('[data-testid=call-start-video]').waitFor({ timeout: 30_000 });
      await patient.locator('[data-testid=call-waiting]').waitFor({ timeout: 30_000 });
      await doctor.click('[data-testid=call-start-video]');
      await patient.locator('[data-testid=call-ringing]').waitFor({ timeout: 30_000 });
      await patient.click('[data-testid=call-join]');
      const started = await lastTap(doctor, 'call-start-video');
      const joined = await lastTap(patient, 'call-join');
      const rang = await patient.evaluate((since) => window.__rings.find((t) => t >= since), started);
      const [onPatient, onDoctor] = await Promise.all([firstFrame(patient, started), firstFrame(doctor, started)]);
      if (i > 0) { // the first call warms up
        times.ring.push(rang - started);
        times.patient.push(onPatient - joined);
        times.doctor.push(onDoctor - joined);
      }
      await doctor.click('[data-testid=call-end]');
      await patient.locator('[data-testid=call-ended]').waitFor({ timeout: 30_000 });
    } catch (e) {
      failed++;
      console.error(`   call ${i}: ${e.message.split('\n')[0]}`);
      if (await doctor.locator('[data-testid=call-end]').count()) await doctor.click('[data-testid=call-end]').catch(() => {});
      await Promise.all([doctor.reload(), patient.reload()]);
      if (failed > 3) throw new Error('more than three calls failed');
    }
  }

  const pct = (xs, p) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? Math.round(s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]) : NaN;
  };
  const row = (what, xs) => console.log(`   ${what.padEnd(58)} p50 ${String(pct(xs, 50)).padStart(5)} ms   p99 ${String(pct(xs, 99)).padStart(5)} ms`);
  console.log(`   call set-up, ${label}: ${times.patient.length} calls (after one warm-up)${failed ? `, ${failed} failed` : ''}`);
  row('the doctor taps 视频通话 → the patient\'s page rings', times.ring);
  row('the patient taps 接听 → first remote frame, patient\'s page', times.patient);
  row('the patient taps 接听 → first remote frame, doctor\'s page', times.doctor);
  await patientCtx.close();
  await drCtx.close();
} finally {
  await browser.close();
}
