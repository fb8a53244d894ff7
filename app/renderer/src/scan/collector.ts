/**
 * Collects what the camera reads: the parts of an animated UR (reassembled by qr/'s UrAssembler, BCR-2020-005
 * fountain codes), or one plain QR payload. The renderer never interprets the request: the appliance does.
 */
import { UrAssembler } from '../../../../qr/assembler.js';

export type CollectOutcome =
  | { state: 'progress'; progress: number; fragments: number; partsSeen: number }
  | { state: 'complete'; text: string; parts: number }
  | { state: 'ignored' };

export class ScanCollector {
  private assembler = new UrAssembler();
  private parts: string[] = [];
  private seen = new Set<string>();

  /** Feeds one decoded QR text. Throws the assembler's ColdsignError (UR_INVALID, QR_MIXED_TRANSFER, ...) on a bad part. */
  receive(text: string): CollectOutcome {
    const trimmed = text.trim();
    if (!/^ur:/i.test(trimmed)) {
      // Not a UR: a single QR holding the whole request (e.g. a base64 PSBT); the appliance decides what it is.
      return this.parts.length === 0 ? { state: 'complete', text: trimmed, parts: 1 } : { state: 'ignored' };
    }
    const key = trimmed.toLowerCase();
    if (this.seen.has(key)) return this.status();
    this.seen.add(key);
    const outcome = this.assembler.receivePart(trimmed);
    this.parts.push(key);
    if (outcome === 'complete')
      return { state: 'complete', text: this.parts.join('\n'), parts: this.parts.length };
    return this.status();
  }

  status(): CollectOutcome {
    return {
      state: 'progress',
      progress: this.assembler.progress(),
      fragments: this.assembler.expectedFragments(),
      partsSeen: this.parts.length,
    };
  }

  reset(): void {
    this.assembler = new UrAssembler();
    this.parts = [];
    this.seen.clear();
  }
}
