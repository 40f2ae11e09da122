// The last N BFD state changes of each peer, kept from the Speaker's 'bfd' events for the admin
// endpoint. The BFD packets themselves live in the engine's worker thread and are not kept anywhere;
// the engine's metrics() has its counters and the last dropped packet.
import type { BfdState } from '@bgp-announce/bfd';
import type { Speaker, BfdChange } from '@bgp-announce/bgp-speaker';

/** One BFD state change of a peer's session. */
export interface BfdHistoryEntry {
  /** ISO time of the change (the engine's, else when the Speaker reported it). */
  at: string;
  from: BfdState;
  to: BfdState;
  /** Our diagnostic (RFC 5880 4.1), and the one in the peer's last packet when known. */
  diag: number;
  remoteDiag?: number;
  /** What it did to the BGP session (RFC 5882). */
  outcome?: 'torn-down' | 'resumed';
}

/** A ring of the last `capacity` BFD state changes per peer id. */
export class BfdHistory {
  private readonly rings = new Map<string, BfdHistoryEntry[]>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > 10_000)
      throw new RangeError(`BFD history must be an integer 0-10000, got ${capacity}`);
  }

  /** Records one change of the peer's BFD session. */
  record(
    peerId: string,
    change: BfdChange & { at?: number; remoteDiag?: number },
    outcome: 'torn-down' | 'resumed' | undefined,
  ): void {
    if (this.capacity === 0) return;
    const entry: BfdHistoryEntry = {
      at: new Date(change.at ?? Date.now()).toISOString(),
      from: change.from,
      to: change.to,
      diag: change.diag,
    };
    if (change.remoteDiag !== undefined) entry.remoteDiag = change.remoteDiag;
    if (outcome !== undefined) entry.outcome = outcome;
    let ring = this.rings.get(peerId);
    if (!ring) this.rings.set(peerId, (ring = []));
    ring.push(entry);
    if (ring.length > this.capacity) ring.shift();
  }

  /** The peer's changes, oldest first (a copy). */
  entries(peerId: string): BfdHistoryEntry[] {
    return [...(this.rings.get(peerId) ?? [])];
  }

  /** Forgets peers that are gone. */
  keepOnly(peerIds: Iterable<string>): void {
    const keep = new Set(peerIds);
    for (const id of this.rings.keys()) if (!keep.has(id)) this.rings.delete(id);
  }

  /** Records every 'bfd' event of the Speaker; returns a function that stops. */
  follow(speaker: Speaker): () => void {
    const on = (id: string, change: BfdChange, outcome: 'torn-down' | 'resumed' | undefined): void =>
      this.record(id, change, outcome);
    speaker.on('bfd', on);
    return () => void speaker.off('bfd', on);
  }
}
