import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { busyTicksOf, CpuGovernor, processTicksOf, type CpuReadings } from './cpu-governor.js';

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

describe(
  'CpuGovernor (a real process, the machine faked busy or idle)',
  { skip: !linux && 'Linux only' },
  () => {
    let child: ChildProcess;
    const state = () => readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]![0];
    /** Polls the process's state for `ms`; the states seen. */
    const watch = async (ms: number) => {
      const seen = new Set<string>();
      const end = performance.now() + ms;
      while (performance.now() < end) {
        seen.add(state()!);
        await new Promise((r) => setTimeout(r, 3));
      }
      return seen;
    };
    const readings = (busyPerRead: number): CpuReadings => {
      let machine = 0;
      return { machineBusyTicks: () => (machine += busyPerRead), processTicks: () => 0 };
    };

    before(() => {
      child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    });
    after(() => {
      child.kill('SIGKILL');
    });

    test('holds the process for part of each period while the rest of the machine is busy, and lets it go on stop', async () => {
      const g = new CpuGovernor(child.pid!, { share: 0.2, busyCores: 0.5, periodMs: 40 }, readings(10_000));
      g.start();
      try {
        const seen = await watch(600);
        assert.ok(seen.has('T'), `stopped at some point (states seen: ${[...seen].join(',')})`);
        assert.ok(g.throttledPeriods >= 2);
      } finally {
        g.stop();
      }
      const after = await watch(150);
      assert.ok(!after.has('T'), `running again after stop (states: ${[...after].join(',')})`);
    });

    test('never holds it while the machine is idle, nor while the process says it writes', async () => {
      const idle = new CpuGovernor(child.pid!, { share: 0.2, busyCores: 0.5, periodMs: 40 }, readings(0));
      idle.start();
      const seenIdle = await watch(400);
      idle.stop();
      assert.ok(!seenIdle.has('T'), `idle machine: states ${[...seenIdle].join(',')}`);
      assert.equal(idle.throttledPeriods, 0);

      const busy = new CpuGovernor(
        child.pid!,
        { share: 0.2, busyCores: 0.5, periodMs: 40 },
        readings(10_000),
      );
      busy.writing(true);
      busy.start();
      const seenWriting = await watch(400);
      busy.writing(false);
      const seenAfter = await watch(600);
      busy.stop();
      assert.ok(!seenWriting.has('T'), `while writing: states ${[...seenWriting].join(',')}`);
      assert.ok(seenAfter.has('T'), 'held again once the write ended');
    });

    test('a share of 1 does nothing', async () => {
      const g = new CpuGovernor(child.pid!, { share: 1, busyCores: 0.5, periodMs: 40 }, readings(10_000));
      g.start();
      const seen = await watch(300);
      g.stop();
      assert.ok(!seen.has('T'));
      assert.equal(g.throttledPeriods, 0);
    });
  },
);
