/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): top functions by self time.
 * Usage: node --import tsx bench/profile-top.ts <dir-or-file.cpuprofile> [count]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const target = process.argv[2];
const count = Number(process.argv[3] ?? 30);
if (!target) throw new Error('usage: bench/profile-top.ts <dir-or-file> [count]');
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];
const root = resolve(import.meta.dirname, '..');
const selfUs = new Map<string, number>();
let totalUs = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const keyOf = new Map<number, string>();
  for (const n of p.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url ? `${relative(root, url.replace('file://', ''))}:${lineNumber + 1}` : '';
    keyOf.set(n.id, `${functionName || '(anonymous)'} ${where}`.trim());
  }
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    totalUs += dt;
    const k = keyOf.get(id)!;
    selfUs.set(k, (selfUs.get(k) ?? 0) + dt);
  });
}
const idle = ['(idle)', '(program)'];
const busyUs = totalUs - idle.reduce((s, k) => s + (selfUs.get(k) ?? 0), 0);
console.log(
  `${files.length} profile(s), ${(totalUs / 1e6).toFixed(1)} s sampled, ${(busyUs / 1e6).toFixed(1)} s busy (incl. GC)`,
);
const top = [...selfUs.entries()]
  .filter(([k]) => !idle.includes(k))
  .sort((a, b) => b[1] - a[1])
  .slice(0, count);
for (const [k, us] of top) {
  console.log(
    `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / busyUs).toFixed(1).padStart(5)}%  ${k}`,
  );
}
