/** Reported where no caller would hear it: off any caller's path, the process's warnings. */
export function warn(what: string, err: unknown): void {
  process.emitWarning(`${what}: ${err instanceof Error ? err.message : err}`);
}

/**
 * The listeners of one kind of news in this process (new events, acknowledgements). One that
 * throws costs the others nothing, nor a webhook its answer.
 */
export class Listeners<T> {
  readonly #set = new Set<(news: T) => void>();

  get size(): number {
    return this.#set.size;
  }

  /** Returns the function that removes it. */
  add(listener: (news: T) => void): () => void {
    this.#set.add(listener);
    return () => {
      this.#set.delete(listener);
    };
  }

  tell(news: T): void {
    for (const listener of this.#set) {
      try {
        listener(news);
      } catch (err) {
        warn("event subscriber failed", err);
      }
    }
  }

  clear(): void {
    this.#set.clear();
  }
}
