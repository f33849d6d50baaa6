/** vitest setup: unmount what each component test rendered (vitest globals are off, so no auto-cleanup). */
import { cleanup } from '@solidjs/testing-library';
import { afterEach } from 'vitest';

afterEach(() => cleanup());
