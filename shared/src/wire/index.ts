export * from './topics.js';
export * from './schemas.js';
export * from './codec.js';
export * from './sequencer.js';
export * from './events.js';
