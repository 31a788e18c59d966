/**
 * The one source of "now". Every module asks the clock, never `new Date()`, so
 * tests can pin or advance time and make pending points, expiry, SLAs and
 * birthdays happen on demand.
 */
export interface Clock {
  now(): Date;
}

export class SettableClock implements Clock {
  private fixed: number | null = null;
  private offsetMs = 0;

  now(): Date {
    return new Date(this.fixed ?? Date.now() + this.offsetMs);
  }

  /** Freeze time at `at`. */
  set(at: Date | string): void {
    this.fixed = new Date(at).getTime();
  }

  /** Move time forward (frozen or running). */
  advance(ms: number): void {
    if (this.fixed !== null) this.fixed += ms;
    else this.offsetMs += ms;
  }

  /** Back to the real time. */
  reset(): void {
    this.fixed = null;
    this.offsetMs = 0;
  }
}
