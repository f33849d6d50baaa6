/**
 * Splits tcpdump filter text into tokens: words (keywords, numbers, addresses, `1-1024`),
 * `(`, `)`, `/`, and the operators `!`, `&&`, `||`. Every token keeps its 0-based position.
 */
import { FilterSyntaxError, FilterUnsupportedError } from './errors.js';

export type TokenKind = 'word' | '(' | ')' | '/' | 'not' | 'and' | 'or' | 'end';

export interface Token {
  kind: TokenKind;
  /** The text as written ('' for the end). */
  text: string;
  position: number;
}

const WORD = /[A-Za-z0-9_.:\-\\]/;
const OPERATOR_WORDS: Record<string, TokenKind> = { and: 'and', or: 'or', not: 'not' };

/** Tokenises `text`; throws FilterSyntaxError for a character no token can start with. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '&&' || two === '||') {
      tokens.push({ kind: two === '&&' ? 'and' : 'or', text: two, position: i });
      i += 2;
    } else if (c === '!') {
      tokens.push({ kind: 'not', text: c, position: i });
      i++;
    } else if (c === '(' || c === ')' || c === '/') {
      tokens.push({ kind: c, text: c, position: i });
      i++;
    } else if (WORD.test(c)) {
      const start = i;
      while (i < text.length && WORD.test(text[i]!)) i++;
      const word = text.slice(start, i);
      tokens.push({ kind: OPERATOR_WORDS[word] ?? 'word', text: word, position: start });
    } else if ('[]<>=+*%^&|'.includes(c)) {
      throw new FilterUnsupportedError(i, `'${c}' (byte offsets and arithmetic such as tcp[13] & 2 != 0)`);
    } else {
      throw new FilterSyntaxError(i, 'a word, a number, an address, "(", ")", "!", "&&" or "||"', `'${c}'`);
    }
  }
  tokens.push({ kind: 'end', text: '', position: text.length });
  return tokens;
}
