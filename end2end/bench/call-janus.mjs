// The primary system measured (R-CONS-6): Janus (FUZHEN_BENCH_JANUS, default `janus`) with
// the configuration in deploy/janus/ and a Fuzhen server of its own driving it. Prints
//   - the call set-up time through Janus, 20 calls in a row (end2end/bench/call-setup.mjs:
//     the same measure as on the backup);
//   - the server's and Janus's CPU (share of one core) and memory (RSS) with nothing going
//     on, then during 10 calls at once (20 phone pages of one Chromium, fake camera and
//     microphone), sampled over 20 s once media flows in every call.
//
//   node end2end/bench/call-janus.mjs [calls (20)] [concurrent calls (10)]
//
// Run from the repository after `cargo leptos build --release --split`.
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  callLaunchOptions, freePort, nonLoopbackAddress, randomSecret, startJanus, startServer, useServer, videoConsult,
} from '../tests/helpers.mjs';

const command = process.env.FUZHEN_BENCH_JANUS ?? 'janus';
const [callsArg, concurrentArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 20);
const concurrent = Number(concurrentArg ?? 10);
const address = nonLoopbackAddress();
if (!address) {
  console.log('   Janus: skipped (no address besides loopback: Chromium leaves loopback out of a call)');
  process.exit(0);
}

/// CPU seconds used so far and resident memory (MiB) of process `pid`.
function usage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in ticks of 10 ms
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  return { cpu, rss };
}

/// Each process's CPU share and peak memory over `secs` seconds.
async function sample(pids, secs) {
  const first = pids.map(usage);
  const peak = first.map((u) => u.rss);
  for (let i = 0; i < secs; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    pids.forEach((p, k) => { peak[k] = Math.max(peak[k], usage(p).rss); });
  }
  const last = pids.map(usage);
  return pids.map((_, k) => ({ cpu: (100 * (last[k].cpu - first[k].cpu)) / secs, rss: peak[k] }));
}

const secret = randomSecret();
const recordings = mkdtempSync(join('/tmp', 'fuzhen-bench-recordings-'));
const janusPort = await freePort();
const server = await startServer({
  FUZHEN_JANUS_URL: `http://127.0.0.1:${janusPort}/janus`,
  FUZHEN_JANUS_API_SECRET: secret,
  FUZHEN_JANUS_RECORDINGS: recordings,
});
useServer(server.url, server.dataDir);
const janus = await startJanus(command, {
  secret, port: janusPort, eventsUrl: `${server.url}/api/v1/calls/media-events`, address,
});
try {
  // The server's health check (every 10 s) finds Janus.
  await new Promise((r) => setTimeout(r, 11_000));
  await new Promise((resolve) => {
    const bench = spawn(process.execPath, ['end2end/bench/call-setup.mjs', server.url, 'Janus (SFU)', String(calls), '4'], {
      stdio: 'inherit', env: { ...process.env, FUZHEN_DATA_DIR: server.dataDir },
    });
    bench.on('exit', resolve);
  });

  const pids = [server.pid, janus.child.pid];
  const row = (what, [s, j]) => console.log(`   ${what.padEnd(44)} server ${s.cpu.toFixed(1).padStart(5)} % CPU ${s.rss.toFixed(0).padStart(4)} MiB · Janus ${j.cpu.toFixed(1).padStart(5)} % CPU ${j.rss.toFixed(0).padStart(4)} MiB`);
  console.log(`   Janus under load: ${concurrent} calls at once (${2 * concurrent} pages of one Chromium on this machine)`);
  row('nothing going on (10 s)', await sample(pids, 10));
  const browser = await chromium.launch(callLaunchOptions);
  try {
    const pairs = [];
    for (let n = 11; n < 11 + concurrent; n++) {
      const { patientCtx, drCtx, number } = await videoConsult(browser, n);
      const patient = await patientCtx.newPage();
      const doctor = await drCtx.newPage();
      await doctor.goto(`${server.url}/staff/consults/${number}`);
      await patient.goto(`${server.url}/consults/${number}/call`);
      pairs.push({ patient, doctor });
    }
    for (const { doctor, patient } of pairs) {
      await doctor.locator('[data-testid=call-start-video]').waitFor({ timeout: 60_000 });
      await doctor.click('[data-testid=call-start-video]');
      await patient.locator('[data-testid=call-join]').waitFor({ timeout: 60_000 });
      await patient.click('[data-testid=call-join]');
    }
    let flowing = 0;
    for (const { doctor, patient } of pairs) {
      for (const page of [doctor, patient]) {
        const ok = await page.waitForFunction(() => Number(document.querySelector('[data-testid=call-stage]')?.dataset.frames) > 0,
          null, { timeout: 60_000 }).then(() => true, () => false);
        if (ok) flowing++;
      }
    }
    console.log(`   pages receiving video: ${flowing} of ${2 * concurrent}`);
    row(`${concurrent} calls through Janus (20 s)`, await sample(pids, 20));
  } finally {
    await browser.close();
  }
} finally {
  janus.child.kill('SIGKILL');
  await server.stop();
}
