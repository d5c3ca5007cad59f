/** A promise to open by hand: tests hold a setup at a port call to force an interleaving. */
export interface Gate {
  /** Resolves when the held call has arrived at the gate. */
  reached: Promise<void>;
  open(): void;
  wait(): Promise<void>;
}

export function gate(): Gate {
  let open!: () => void;
  let arrive!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  const reached = new Promise<void>((r) => (arrive = r));
  return {
    reached,
    open,
    wait: () => {
      arrive();
      return opened;
    },
  };
}

/**
 * The same port with one method held at `g` (first call only): fault injection at the port
 * boundary, the real client underneath.
 */
export function holdAt<T extends object>(port: T, method: keyof T & string, g: Gate): T {
  let held = false;
  return new Proxy(port, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== "function") return value;
      if (key !== method) return (value as (...a: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        if (!held) {
          held = true;
          await g.wait();
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}
