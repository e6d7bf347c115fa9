import { execFile } from 'node:child_process';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Milliseconds before the command is killed (default 60 s). */
  timeout?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Thrown when a command exits non-zero; the message carries the command line, exit code and stderr. */
export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`\`${command}\` failed (exit ${code}):\n${stderr.trim() || stdout.trim()}`);
  }
}

/** Runs a command without a shell and resolves with its output, or rejects with `CommandFailed`. */
export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const line = [cmd, ...args].join(' ');
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      {
        env: options.env ?? process.env,
        cwd: options.cwd,
        timeout: options.timeout ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as NodeJS.ErrnoException & { code?: number | string }).code ?? null;
          reject(new CommandFailed(line, error.killed ? 'killed (timeout)' : code, stdout, stderr));
        } else resolve({ stdout, stderr });
      },
    );
  });
}

/** Runs a command that is expected to fail, and returns the failure (rejects if it succeeded). */
export async function runFailing(
  cmd: string,
  args: string[],
  options: RunOptions = {},
): Promise<CommandFailed> {
  try {
    const out = await run(cmd, args, options);
    throw new Error(`\`${[cmd, ...args].join(' ')}\` succeeded but was expected to fail:\n${out.stdout}`);
  } catch (err) {
    if (err instanceof CommandFailed) return err;
    throw err;
  }
}
