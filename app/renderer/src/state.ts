/** What the screens share: the request under review, its approvals, the signed result, and navigation. */
import type { ApprovalDocument, ReviewView, SignResult } from '../../../appliance/api.js';
import type { UnlockResult } from '../../shared/channels.js';

export type ScreenName = 'unlock' | 'scan' | 'review' | 'result' | 'keys' | 'policy' | 'audit';

export interface AppState {
  unlocked: boolean;
  /** The audit checkpoint head unlock checked the database against (null while locked). */
  auditHead: UnlockResult['head'] | null;
  /** Unlock's audit warning: a full verification overdue, work a stopped process left (null when there is none). */
  auditWarning: string | null;
  review: ReviewView | null;
  approvals: ApprovalDocument[];
  result: SignResult | null;
}

export const state: AppState = {
  unlocked: false,
  auditHead: null,
  auditWarning: null,
  review: null,
  approvals: [],
  result: null,
};

/** Forgets the current request (after signing, refusal or "start over"). */
export function resetRequest(): void {
  state.review = null;
  state.approvals = [];
  state.result = null;
}

type Navigator = (screen: ScreenName) => void;
let navigator: Navigator = () => undefined;

export function setNavigator(fn: Navigator): void {
  navigator = fn;
}

export function go(screen: ScreenName): void {
  navigator(screen);
}

/** Stops whatever a screen left running (camera, animation) when another screen is shown. */
const cleanups: Array<() => void> = [];
export function onLeave(fn: () => void): void {
  cleanups.push(fn);
}
export function runCleanups(): void {
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch {}
  }
}
