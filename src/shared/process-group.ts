/** Signals the process group `pid` leads; a group that is gone already is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    // A negative pid signals the whole process group the child leads (it was spawned detached).
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}
