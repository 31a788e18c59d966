/**
 * The catalog of domain event types (docs/events.md): every type a module emits, what it means and its payload.
 * Webhook endpoints subscribe to these types (an unknown type is a 400), and test/conventions checks that every
 * type emitted in the code is listed here and in docs/events.md.
 */
export interface EventTypeInfo {
  /** `<aggregate>.<past-tense verb>` */
  type: string;
  /** One sentence: when it is emitted. */
  description: string;
  /** Whether `member_id` is set (the event is delivered in order with the member's other events). */
  member: boolean;
  /** Payload fields and what they hold. */
  payload: Record<string, string>;
}

export const EVENT_CATALOG: readonly EventTypeInfo[] = [
  // Filled in by the catalog work: every emitted type with its description and payload.
];

export const EVENT_TYPES: ReadonlySet<string> = new Set(EVENT_CATALOG.map((e) => e.type));

export function isEventType(type: string): boolean {
  return EVENT_TYPES.has(type);
}
