/**
 * The platform in use. This file selects Node.js; the browser build (scripts/build-browser.mjs)
 * resolves it to `browser.ts` instead, so the browser bundle never sees `node.ts`.
 * @module
 */
export * from './node.js';
