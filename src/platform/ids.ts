/** Ids are UUID v7, made in the application: time-ordered (good for indexes and cursors) and unique across nodes. */
import { v7 } from 'uuid';

export const newId = (): string => v7();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);
