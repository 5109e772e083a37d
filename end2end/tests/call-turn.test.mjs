// A call forced through the TURN relay (R-CONS-6), on phones at 390×844, zh-CN: coturn
// (FUZHEN_TEST_TURN, Debian's `turnserver`) runs on a free port with the configuration
// kept in deploy/coturn/, and a Fuzhen server of this test's own hands each call
// credentials made with coturn's shared secret and sends all media through the relay
// (FUZHEN_CALL_RELAY_ONLY). The doctor calls, the patient answers, both receive each
// other's video and sound, and on both pages the candidate pair the call uses is a relay
// candidate of this coturn at both ends; coturn's log shows the allocations made with the
// call's credentials. Without FUZHEN_TEST_TURN (a machine without coturn) it is skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  BASE, SHOTS, callLaunchOptions, nonLoopbackAddress, startServer, useServer, randomSecret, videoConsult, mediaFlows, watchCalls,
} from './helpers.mjs';

const TURN = process.env.FUZHEN_TEST_TURN;
// Chromium leaves loopback out of a call, and coturn refuses loopback peers: the relay and
// both pages use another address of this machine (scripts/test.sh adds one, fuzhen0).
const ADDRESS = nonLoopbackAddress();
const skip = (!TURN && 'FUZHEN_TEST_TURN is not set (the turnserver command)')
  || (!ADDRESS && 'no address besides loopback on this machine');

/// A UDP port free now (coturn listens on it with UDP and TCP; the test asks only UDP).
function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, ADDRESS, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/// A STUN Binding request answered by the server at ADDRESS:port (coturn is up).
function stunAnswers(port) {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const id = randomBytes(12);
    const request = Buffer.concat([Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), id]);
    const done = (ok) => { clearTimeout(timer); s.close(); resolve(ok); };
    const timer = setTimeout(() => done(false), 300);
    s.on('message', (m) => { if (m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(id)) done(true); });
    s.on('error', () => done(false));
    s.send(request, port, ADDRESS);
  });
}

let coturn, coturnLog, server, browser;
const secret = randomSecret();

before(async () => {
  if (skip) return;
  // coturn with the repository's configuration, filled in for this machine.
  const dir = mkdtempSync(join(tmpdir(), 'fuzhen-coturn-'));
  const port = await freeUdpPort();
  coturnLog = join(dir, 'turn.log');
  const template = readFileSync(new URL('../../deploy/coturn/turnserver.conf', import.meta.url), 'utf8');
  const config = template
    .replaceAll('@ADDRESS@', ADDRESS)
    .replaceAll('@PORT@', String(port))
    .replaceAll('@SECRET@', secret)
    .replaceAll('@REALM@', 'turn.fuzhen.test')
    .replaceAll('@TLS@', 'no-tls\nno-dtls')
    // coturn checks allowed-peer-ip before denied-peer-ip: the production ranges above
    // stay, and only this machine's test address (10.77.0.1 on fuzhen0, say, inside the
    // denied 10.0.0.0/8) is let through, because both relayed ends of the call are there.
    + `\nallowed-peer-ip=${ADDRESS}\n`
    // The test's own files; `verbose` logs each allocation and permission.
    + `log-file=${coturnLog}\nsimple-log\nno-stdout-log\nverbose\npidfile=${join(dir, 'turnserver.pid')}\nuserdb=${join(dir, 'turndb')}\n`;
  writeFileSync(join(dir, 'turnserver.conf'), config);
  coturn = spawn(TURN, ['-c', join(dir, 'turnserver.conf')], { stdio: 'ignore' });
  let up = false;
  for (let i = 0; i < 50 && !up && coturn.exitCode === null; i++) {
    up = await stunAnswers(port);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(up, `coturn answers STUN on ${ADDRESS}:${port}${existsSync(coturnLog) ? `; its log:\n${readFileSync(coturnLog, 'utf8').slice(-3000)}` : ''}`);

  // A Fuzhen server of this test's own: every call through this relay.
  server = await startServer({
    FUZHEN_TURN_URLS: `turn:${ADDRESS}:${port}?transport=udp`,
    FUZHEN_TURN_SECRET: secret,
    FUZHEN_CALL_RELAY_ONLY: 'true',
  });
  useServer(server.url, server.dataDir);
  browser = await chromium.launch(callLaunchOptions);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (coturn && coturn.exitCode === null) {
    const gone = new Promise((r) => coturn.once('exit', r));
    coturn.kill('SIGTERM');
    await gone;
  }
});

/// The candidate pair a page's call uses, from getStats() of its connected
/// RTCPeerConnection (kept by `watchCalls`), with the configuration it was made with.
async function selectedPair(page) {
  return page.evaluate(async () => {
    const live = window.__pcs.filter(({ pc }) => pc.connectionState === 'connected');
    if (live.length !== 1) return { error: `${live.length} connected peer connections` };
    const { pc } = live[0];
    const stats = [...(await pc.getStats()).values()];
    const byId = new Map(stats.map((s) => [s.id, s]));
    const transport = stats.find((s) => s.type === 'transport' && s.selectedCandidatePairId);
    const pair = transport ? byId.get(transport.selectedCandidatePairId)
      : stats.find((s) => s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded');
    if (!pair) return { error: 'no selected candidate pair' };
    const local = byId.get(pair.localCandidateId);
    const remote = byId.get(pair.remoteCandidateId);
    const { iceTransportPolicy, iceServers } = pc.getConfiguration();
    return {
      policy: iceTransportPolicy,
      urls: iceServers.flatMap((s) => [].concat(s.urls)),
      username: iceServers.find((s) => s.username)?.username,
      local: { type: local.candidateType, address: local.address ?? local.ip, protocol: local.relayProtocol },
      remote: { type: remote.candidateType, address: remote.address ?? remote.ip },
      bytesSent: pair.bytesSent,
      bytesReceived: pair.bytesReceived,
    };
  });
}

test('R-CONS-6: a call forced through the TURN relay (coturn): both see and hear each other, and both pages use a relay candidate pair',
  { skip }, async () => {
  const { patientCtx, drCtx, number } = await videoConsult(browser, 1);
  for (const c of [patientCtx, drCtx]) await c.addInitScript(watchCalls);
  const patient = await patientCtx.newPage();
  const doctor = await drCtx.newPage();
  await doctor.goto(`${BASE}/staff/consults/${number}`);
  await patient.goto(`${BASE}/consults/${number}/call`);
  await patient.locator('[data-testid=call-panel][data-phase=Lobby]').waitFor({ timeout: 10_000 });
  await doctor.locator('[data-testid=call-panel][data-phase=Lobby]').waitFor({ timeout: 10_000 });

  // The network check before the call reaches the relay.
  await patient.click('[data-testid=call-check]');
  await patient.locator('[data-testid=check-network]', { hasText: '含中转线路' }).waitFor({ timeout: 10_000 });

  await doctor.click('[data-testid=call-start-video]');
  await patient.locator('[data-testid=call-ringing]').waitFor({ timeout: 10_000 });
  await patient.click('[data-testid=call-join]');
  await mediaFlows(patient, 'patient');
  await mediaFlows(doctor, 'doctor');
  if (SHOTS) await patient.screenshot({ path: `${SHOTS}/js-call-turn-patient.png`, fullPage: true });

  const turnUrl = new RegExp(`^turn:${ADDRESS.replaceAll('.', '\\.')}:\\d+\\?transport=udp$`);
  let callUser;
  for (const [page, label] of [[patient, 'patient'], [doctor, 'doctor']]) {
    const seen = await selectedPair(page);
    assert.equal(seen.error, undefined, `${label}: ${seen.error}`);
    assert.equal(seen.policy, 'relay', `${label}: the call is made relay-only (FUZHEN_CALL_RELAY_ONLY)`);
    assert.ok(seen.urls.some((u) => turnUrl.test(u)), `${label}: the call's ICE servers name this coturn (${seen.urls})`);
    // coturn's use-auth-secret form: "<expiry>:<call number>".
    assert.match(seen.username ?? '', /^\d+:\S+$/, `${label}: the call's TURN user name`);
    callUser ??= seen.username;
    assert.equal(seen.username, callUser, 'both sides have the same call credentials');
    assert.equal(seen.local.type, 'relay', `${label}: the local candidate in use is a relay (${JSON.stringify(seen)})`);
    assert.equal(seen.local.protocol, 'udp', `${label}: relayed over UDP`);
    assert.equal(seen.local.address, ADDRESS, `${label}: the relay address is coturn's`);
    assert.equal(seen.remote.type, 'relay', `${label}: the other side's candidate in use is a relay (${JSON.stringify(seen)})`);
    assert.ok(seen.bytesSent > 10_000 && seen.bytesReceived > 10_000,
      `${label}: media went both ways over the relayed pair (${seen.bytesSent} B out, ${seen.bytesReceived} B in)`);
  }

  // coturn itself: allocations made with the call's credentials, and permissions towards
  // the other side's relayed address (allowed past the denied ranges).
  const log = readFileSync(coturnLog, 'utf8');
  const mine = log.split('\n').filter((l) => l.includes(`user <${callUser}>`));
  assert.ok(mine.filter((l) => /ALLOCATE processed, success/.test(l)).length >= 2,
    `coturn allocated for both pages with the call's credentials; its log:\n${log.slice(-4000)}`);
  assert.ok(mine.some((l) => /(CREATE_PERMISSION|CHANNEL_BIND) processed, success/.test(l)),
    `coturn gave the pages permission to reach each other's relayed address; its log:\n${log.slice(-4000)}`);
  assert.ok(!/error 403/.test(mine.join('\n')), 'coturn refused nothing of the call (no 403: peer address denied)');

  await doctor.click('[data-testid=call-end]');
  await patient.locator('[data-testid=call-ended]').waitFor({ timeout: 10_000 });
  await patientCtx.close();
  await drCtx.close();
});
