/** What the heartbeat needs to know of a link. */
export interface Watched {
  readonly status: string;
  /** a request is waiting for this link's reply */
  readonly busy: boolean;
  /** when the link's peer last sent a frame or a pong */
  lastHeardAt: number;
}

/**
 * Decides, once per ping interval, which ready links have gone silent. Only idle links are
 * judged: a worker in a long synchronous step answers no ping until it is done, so a busy link
 * counts as heard and its request's deadline judges it instead. A link is silent when nothing
 * came from it for two intervals (a ping and its pong may cross a whole interval). When the
 * coordinator itself was blocked (a tick came late), pongs may be waiting unread: nothing is
 * judged that tick.
 */
export class Heartbeat {
  private lastTick: number | null = null;

  constructor(readonly intervalMs: number) {}

  /** The links to drop at `now`; marks busy links as heard. */
  silent<L extends Watched>(links: Iterable<L>, now: number): L[] {
    const stalled = this.lastTick !== null && now - this.lastTick > 2 * this.intervalMs;
    this.lastTick = now;
    const silent: L[] = [];
    for (const link of links) {
      if (link.status !== 'ready') continue;
      if (link.busy || stalled) link.lastHeardAt = Math.max(link.lastHeardAt, now);
      else if (now - link.lastHeardAt > 2 * this.intervalMs) silent.push(link);
    }
    return silent;
  }
}
