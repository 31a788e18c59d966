import type { Language } from '../../surveys.types.js';
import { bg } from './bg.js';
import { en } from './en.js';
import { pl } from './pl.js';
import { ro } from './ro.js';
import { ru } from './ru.js';
import type { Lexicon } from './types.js';

export type { Lexicon } from './types.js';
export const LEXICONS: Record<Language, Lexicon> = { en, bg, ru, ro, pl };
