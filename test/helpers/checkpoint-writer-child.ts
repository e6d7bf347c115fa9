// A process that commits without end on a database whose checkpoints the checkpointing thread runs, printing
// each committed id; src/db/checkpointer.test.ts kills it with SIGKILL mid-checkpoint.
//   node --import tsx test/helpers/checkpoint-writer-child.ts <database file>
import { Checkpointer } from '../../src/db/checkpointer.js';
import { openWalWriter } from './wal-writer.js';

const file = process.argv[2]!;
const { insert } = openWalWriter(file);
const checkpointer = new Checkpointer({
  file,
  setAutoCheckpoint: () => {},
  ...{ everyMs: 2, restartFrames: 50, startBytes: 0, watchMs: 2 },
});
let announced = false;
const write = () => {
  for (let i = 0; i < 20; i++) {
    process.stdout.write(`${insert(i)}\n`);
  }
  if (!announced && checkpointer.counts().restart > 0) {
    announced = true;
    process.stdout.write('checkpointing\n');
  }
  setImmediate(write);
};
write();
