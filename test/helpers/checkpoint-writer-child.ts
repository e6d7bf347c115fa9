// A process that commits without end on a database whose checkpoints the checkpointing thread runs, printing
// each committed id; src/db/checkpointer.test.ts kills it with SIGKILL mid-checkpoint.
//   node --import tsx test/helpers/checkpoint-writer-child.ts <database file>
import BetterSqlite3 from 'better-sqlite3';
import { Checkpointer } from '../../src/db/checkpointer.js';

const file = process.argv[2]!;
const db = new BetterSqlite3(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');
db.exec('create table if not exists t (id integer primary key, body blob not null)');
const insert = db.prepare('insert into t (body) values (?)');
const checkpointer = new Checkpointer({
  file,
  setAutoCheckpoint: () => {},
  ...{ everyMs: 2, restartFrames: 50, startBytes: 0, watchMs: 2 },
});
let announced = false;
const write = () => {
  for (let i = 0; i < 20; i++) {
    const { lastInsertRowid } = insert.run(Buffer.alloc(3000, i));
    process.stdout.write(`${lastInsertRowid}\n`);
  }
  if (!announced && checkpointer.counts().restart > 0) {
    announced = true;
    process.stdout.write('checkpointing\n');
  }
  setImmediate(write);
};
write();
