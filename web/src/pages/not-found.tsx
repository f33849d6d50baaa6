/** Any unknown path inside the signed-in app. */
import { A, useLocation } from '@solidjs/router';
import type { JSX } from 'solid-js';

export function NotFoundPage(): JSX.Element {
  const location = useLocation();
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no page at <code>{location.pathname}</code>. <A href="/">Back to the fleet</A>
      </p>
    </section>
  );
}
