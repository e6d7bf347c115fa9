/**
 * The bench's own helper processes (webhook receivers and sender, minimal relays): TypeScript run through
 * tsx, with an IPC channel; their CPU is spent on the same cores as the servers'.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** Forks `bench/<script>` with `args`. */
export function forkBenchScript(script: string, args: string[] = []): ChildProcess {
  return fork(join(import.meta.dirname, script), args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Closes the IPC channel (the scripts exit on it) and waits for the exit. */
export async function stopBenchScript(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.disconnect();
  await exited;
}

/** The next message `child` sends; rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = () => reject(new Error(`${what} exited`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}

/** Sends `message` to `child` and waits for its answer (the next message it sends). */
export function ask<T>(child: ChildProcess, message: object, what: string): Promise<T> {
  const answer = nextMessage<T>(child, what);
  child.send(message);
  return answer;
}
