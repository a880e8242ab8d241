/** A listener-per-event map: each key names an event, each value the listener's argument. */
export type EventMap = Record<string, unknown>;

/** A small typed event emitter; a throwing listener is reported as a process warning, never breaks the sandbox. */
export class TypedEmitter<E extends EventMap> {
  readonly #listeners = new Map<keyof E, Set<(payload: never) => void>>();

  /** Subscribes to one event; returns a function that unsubscribes. */
  on<K extends keyof E>(event: K, listener: (payload: E[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  /** Calls every listener of the event, in subscription order. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (payload: E[K]) => void)(payload);
      } catch (error) {
        process.emitWarning(`sandbox "${String(event)}" listener failed: ${String(error)}`);
      }
    }
  }
}
