// A server process for a test: started in its own process group, ready when its health URL
// answers 2xx, and stopped (SIGTERM, then SIGKILL after 5 s) with everything it spawned.
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';

/** Starts `command`; its output is kept (`output()`) and, given `logFile`, written there too. */
export async function startService(name, command, args, { cwd, env, healthUrl, timeoutMs = 60_000, logFile }) {
  const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  if (logFile) writeFileSync(logFile, '');
  const keep = (d) => {
    output += d;
    if (logFile) appendFileSync(logFile, d);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* the group is gone */ }
      throw new Error(`${name} exited early:\n${output}`);
    }
    try {
      if ((await fetch(healthUrl, { signal: AbortSignal.timeout(2000) })).ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      process.kill(-child.pid, 'SIGKILL');
      throw new Error(`${name} did not start in ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    pgid: child.pid,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      const t = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
