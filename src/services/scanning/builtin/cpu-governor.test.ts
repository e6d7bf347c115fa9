import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { busyTicksOf, CpuGovernor, processTicksOf, type CpuReadings } from './cpu-governor.js';
import { governedCores } from './scan-pool.js';

const linux = process.platform === 'linux';

describe('cpu-governor readings', () => {
  test('the busy columns of /proc/stat: user, nice, system, irq, softirq, steal (not idle, iowait)', () => {
    const stat = 'cpu  100 5 20 9000 40 3 2 1 0 0\ncpu0 50 2 10 4500 20 1 1 0 0 0\n';
    assert.equal(busyTicksOf(stat), 100 + 5 + 20 + 3 + 2 + 1);
    assert.equal(busyTicksOf('cpu  1 2\n'), undefined);
  });

  test("utime + stime of /proc/<pid>/stat, past a command name that holds spaces and ')'", () => {
    const stat =
      '4242 (scan (worker) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 37 11 0 0 39 19 7 0 123 4567 89';
    assert.equal(processTicksOf(stat), 37 + 11);
  });
});

describe('the share of each scanning process', () => {
  test('cpuShareWhenBusy is of the whole machine, split between the processes, with a floor; 1 is off', () => {
    assert.equal(governedCores(0.05, 1, 2), 0.1);
    assert.equal(governedCores(0.05, 1, 8), 0.4);
    assert.equal(governedCores(0.2, 2, 4), 0.4);
    assert.equal(governedCores(0.05, 4, 1), 0.05, 'at least 5 % of a core each: scans end');
    assert.equal(governedCores(1, 1, 2), undefined);
  });
});

describe(
  'CpuGovernor (a real process; the machine, the time and its CPU told by the test)',
  { skip: !linux && 'Linux only' },
  () => {
    let child: ChildProcess;
    const state = () => readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]![0]!;
    /** Waits for a signal's delivery: the process's state once it is (or is not) stopped, or after 5 s. */
    const settled = async (stopped: boolean) => {
      for (let i = 0; i < 1000 && (state() === 'T') !== stopped; i++)
        await new Promise((r) => setTimeout(r, 5));
      return state() === 'T';
    };
    /** Readings the test moves: the wall time, the busy CPU of the machine and the process's (ticks of 10 ms). */
    const world = () => {
      const w = { t: 0, machine: 0, own: 0 };
      const readings: CpuReadings = {
        machineBusyTicks: () => w.machine,
        processTicks: () => w.own,
        now: () => w.t,
      };
      return { w, readings };
    };
    /** A governor at a share of 0.2 over a world of the test's, and the grants it made (their budgets). */
    const governed = () => {
      const { w, readings } = world();
      const grants: number[] = [];
      const onGrant = (ms: number) => grants.push(ms);
      const g = new CpuGovernor(
        child.pid!,
        { share: 0.2, busyCores: 0.5, periodMs, timerMs, onGrant },
        readings,
      );
      return { w, g, grants };
    };
    // The timer's periods never come in a test: it ends each period itself (`tick`).
    const periodMs = 100;
    const timerMs = 60_000;
    /** One period of `ms`: the rest of the machine used `others` cores, the process `usedMs` of CPU. */
    const period = (
      g: CpuGovernor,
      w: { t: number; machine: number; own: number },
      o: { ms?: number; others?: number; usedMs?: number } = {},
    ) => {
      const ms = o.ms ?? 100;
      w.t += ms;
      w.own += (o.usedMs ?? 0) / 10;
      w.machine += ((o.others ?? 2) * ms + (o.usedMs ?? 0)) / 10;
      g.tick();
    };

    before(() => {
      child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    });
    after(() => {
      child.kill('SIGKILL');
    });

    test('while the rest of the machine is busy, runs the process for its credit of a period, then holds it; continued on stop', async () => {
      const { w, readings } = world();
      const g = new CpuGovernor(child.pid!, { share: 0.2, busyCores: 0.5, periodMs, timerMs }, readings);
      g.start();
      period(g, w);
      assert.equal(state() === 'T', false, 'runs its 20 ms first');
      assert.ok(await settled(true), 'then held');
      assert.equal(g.throttledPeriods, 1);
      g.stop();
      assert.equal(await settled(false), false, 'continued on stop');
    });

    test('never holds it while the machine is idle, nor while it writes under a grant; its CPU meanwhile is a debt', async () => {
      const { w, g, grants } = governed();
      g.start();
      for (let i = 0; i < 3; i++) period(g, w, { others: 0.1, usedMs: 100 });
      assert.notEqual(state(), 'T');
      assert.equal(g.throttledPeriods, 0, 'an idle machine: not held, and its CPU not owed');
      period(g, w);
      g.askWrite();
      assert.deepEqual(grants, [20], 'granted a period of its share (its account was in credit)');
      for (let i = 0; i < 3; i++) period(g, w, { usedMs: 100 });
      assert.notEqual(state(), 'T', 'not held under the grant, though in debt');
      g.wrote();
      assert.ok(await settled(true), 'held once the write ended');
      g.stop();
      await settled(false);
    });

    test('a write asked while the account is in debt is granted once the share has paid it', async () => {
      const { w, g, grants } = governed();
      g.start();
      period(g, w);
      g.askWrite();
      w.own += 10; // 100 ms of CPU under the grant: 80 ms over its credit of 20
      g.wrote();
      g.askWrite(); // the next statement asks at once
      assert.equal(grants.length, 1);
      assert.ok(await settled(true), 'held while in debt');
      for (let i = 0; i < 4; i++) period(g, w); // 4 × 20 ms of share: the debt is 0, not yet a credit
      assert.equal(grants.length, 1, 'not granted while the debt lasts');
      assert.equal(state(), 'T');
      period(g, w);
      assert.equal(grants.length, 2, 'granted once paid');
      assert.equal(await settled(false), false, 'and continued');
      assert.equal(g.figures.deferredGrants, 1);
      g.wrote();
      g.end();
      assert.equal(await settled(false), false, 'left running once no scan nor write is left');
    });

    test('between scans the account goes on: a debt left by one scan is paid at the start of the next', async () => {
      const { w, readings } = world();
      const g = new CpuGovernor(child.pid!, { share: 0.2, busyCores: 0.5, periodMs, timerMs }, readings);
      g.start();
      period(g, w);
      await settled(true);
      w.own += 20; // 200 ms of CPU after the period's end (its purge, say)
      g.end();
      assert.equal(await settled(false), false, 'left running between scans');
      w.t += 100; // 20 ms of share in the pause: 160 ms still owed
      g.start();
      assert.ok(await settled(true), "held at the next scan's start");
      g.stop();
      await settled(false);
    });

    test('a share of 1 does nothing', async () => {
      const { w, readings } = world();
      const g = new CpuGovernor(child.pid!, { share: 1, busyCores: 0.5, periodMs, timerMs }, readings);
      g.start();
      period(g, w);
      g.stop();
      assert.notEqual(state(), 'T');
      assert.equal(g.throttledPeriods, 0);
    });
  },
);
