/**
 * Loader of the login page: where to go after signing in (`?next=`, same-origin paths only, so a
 * crafted link cannot send the user elsewhere) and which method the page opens with.
 */
export function safeNext(next: string | undefined | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/login')) return '/';
  return next;
}

export function retryMessage(seconds: number | null): string {
  return seconds && seconds > 0 ? `Too many sign-in attempts. Try again in ${seconds} s.` : 'Too many sign-in attempts. Try again later.';
}
