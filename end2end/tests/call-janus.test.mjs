// Calls on the primary system (R-CONS-6, R-CONS-7), on phones at 390×844, zh-CN: Janus
// (FUZHEN_TEST_JANUS, Debian's `janus`) runs on a free port with the configuration kept in
// deploy/janus/, and a Fuzhen server of this test's own drives it (FUZHEN_JANUS_*). The
// doctor calls, the patient answers, both receive each other's video and sound through
// Janus; after the call the server turns Janus's files into one recording, stored with the
// consult's record, as long as the call within 20 %. Then Janus is stopped mid-call: the
// call moves to the backup and media flows again, and the next call starts on the backup.
// Without FUZHEN_TEST_JANUS (a machine without Janus) it is skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  BASE, SHOTS, callLaunchOptions, nonLoopbackAddress, startServer, startJanus, useServer, randomSecret, freePort, videoConsult,
  mediaFlows,
} from './helpers.mjs';

const JANUS = process.env.FUZHEN_TEST_JANUS;
// Chromium leaves loopback out of a call: Janus and both pages meet on another address of
// this machine (scripts/test.sh adds one, fuzhen0).
const ADDRESS = nonLoopbackAddress();
const skip = (!JANUS && 'FUZHEN_TEST_JANUS is not set (the janus command)')
  || (!ADDRESS && 'no address besides loopback on this machine');

let janus, server, browser;
const secret = randomSecret();
const recordings = mkdtempSync(join('/tmp', 'fuzhen-recordings-'));

before(async () => {
  if (skip) return;
  // The server first (Janus reports to it), then Janus; the server's next health check
  // (every 10 s) finds it working.
  const janusPort = await freePort();
  server = await startServer({
    FUZHEN_JANUS_URL: `http://127.0.0.1:${janusPort}/janus`,
    FUZHEN_JANUS_API_SECRET: secret,
    FUZHEN_JANUS_RECORDINGS: recordings,
  });
  useServer(server.url, server.dataDir);
  janus = await startJanus(JANUS, { secret, port: janusPort, eventsUrl: `${server.url}/api/v1/calls/media-events`, address: ADDRESS });
  await new Promise((r) => setTimeout(r, 11_000));
  browser = await chromium.launch(callLaunchOptions);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  janus?.child.kill('SIGKILL');
});

/// The consult's calls as its doctor's record lists them.
async function calls(drCtx, number) {
  const res = await drCtx.request.get(`${BASE}/api/v1/staff/consults/${number}/calls`);
  assert.equal(res.status(), 200, await res.text());
  return res.json();
}

/// The doctor's consult page and the patient's call page of consult `number`, the doctor
/// calling (video) and the patient answering.
async function inACall(patientCtx, drCtx, number) {
  const patient = await patientCtx.newPage();
  const doctor = await drCtx.newPage();
  await doctor.goto(`${BASE}/staff/consults/${number}`);
  await patient.goto(`${BASE}/consults/${number}/call`);
  await patient.locator('[data-testid=call-panel][data-phase=Lobby]').waitFor({ timeout: 10_000 });
  await callAndAnswer(doctor, patient);
  return { patient, doctor };
}

/// The doctor calls (video) and the patient answers on its call page.
async function callAndAnswer(doctor, patient) {
  await doctor.locator('[data-testid=call-panel][data-phase=Lobby]').waitFor({ timeout: 10_000 });
  await doctor.click('[data-testid=call-start-video]');
  await patient.locator('[data-testid=call-join]').waitFor({ timeout: 10_000 });
  await patient.click('[data-testid=call-join]');
}

test('R-CONS-6 R-CONS-7: a call through Janus: both see and hear each other, and the recording is in the record, as long as the call',
  { skip }, async () => {
  const { patientCtx, drCtx, number } = await videoConsult(browser, 1);
  const { patient, doctor } = await inACall(patientCtx, drCtx, number);
  await mediaFlows(patient, 'patient via Janus');
  await mediaFlows(doctor, 'doctor via Janus');
  const [running] = await calls(drCtx, number);
  assert.equal(running.system, 'sfu', 'the call runs on the primary system');
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-call-janus-patient.png`, fullPage: true });
  await patient.waitForTimeout(6_000);
  await doctor.click('[data-testid=call-end]');
  await patient.locator('[data-testid=call-ended]').waitFor({ timeout: 10_000 });

  // The server makes the recording from Janus's files.
  let call;
  for (let i = 0; i < 120; i++) {
    [call] = await calls(drCtx, number);
    if (call.recording !== 'pending') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(call.recording, 'recorded', `the call is recorded (${call.note ?? ''})`);
  assert.equal(call.recordings.length, 1);
  const [rec] = call.recordings;
  assert.equal(rec.made_by, 'server');
  assert.equal(rec.content_type, 'video/webm');
  const callMs = (call.ended_at - call.started_at) * 1000;
  assert.ok(Math.abs(rec.duration_ms - callMs) <= 0.2 * callMs + 1000,
    `the recording (${rec.duration_ms} ms) is as long as the call (${callMs} ms) within 20 %`);
  // The file itself: both pictures and the sound, its hash as the record says.
  const file = await drCtx.request.get(`${BASE}/api/v1/staff/consults/${number}/recordings/${rec.recording_number}`);
  assert.equal(file.status(), 200);
  const body = await file.body();
  assert.equal(body.length, rec.bytes);
  const path = join(mkdtempSync(join(tmpdir(), 'fuzhen-rec-')), 'call.webm');
  writeFileSync(path, body);
  const streams = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,width', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  assert.match(streams, /video,1280/, 'both pictures side by side');
  assert.match(streams, /audio/, 'the sound');
  // What Janus itself saw of the call is in the record: each side joined and connected.
  for (const side of ['doctor', 'patient']) {
    for (const what of ['joined', 'connected']) {
      assert.ok(call.media_events.some((e) => e.side === side && e.what === what), `Janus reported the ${side} ${what}`);
    }
  }
  // Janus's working files are gone once the record holds the recording.
  const left = execFileSync('find', [recordings, '-name', '*.mjr'], { encoding: 'utf8' }).trim();
  assert.equal(left, '', 'no .mjr file is left');
  await patientCtx.close();
  await drCtx.close();
});

test('R-CONS-6: Janus stops mid-call: the call goes on on the backup, and the next call starts there',
  { skip }, async () => {
  const { patientCtx, drCtx, number } = await videoConsult(browser, 2);
  const { patient, doctor } = await inACall(patientCtx, drCtx, number);
  await mediaFlows(patient, 'patient via Janus');
  assert.equal((await calls(drCtx, number))[0].system, 'sfu');

  janus.child.kill('SIGKILL');
  // The server's legs lose Janus: the call falls back to the backup, both pages follow.
  let now;
  for (let i = 0; i < 60; i++) {
    now = (await calls(drCtx, number)).at(-1);
    if (now.system === 'direct') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(now.system, 'direct', 'a new call on the backup');
  // The log says so on the page; the pages then connect anew (the counts start again).
  await patient.locator('main', { hasText: '已切换到备用线路' }).waitFor({ timeout: 10_000 });
  await patient.waitForTimeout(4_000);
  await mediaFlows(patient, 'patient on the backup');
  await mediaFlows(doctor, 'doctor on the backup');
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-call-fallback.png`, fullPage: true });

  // The doctor ends it and calls again: the media server is down, so the backup.
  await doctor.click('[data-testid=call-end]');
  await patient.locator('[data-testid=call-ended]').waitFor({ timeout: 10_000 });
  await callAndAnswer(doctor, patient);
  await mediaFlows(patient, 'patient on the next call');
  const next = (await calls(drCtx, number)).at(-1);
  assert.equal(next.system, 'direct');
  assert.ok(next.ended_at === null || next.ended_at === undefined, 'the next call runs');
  await patientCtx.close();
  await drCtx.close();
});
