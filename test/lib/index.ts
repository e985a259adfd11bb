// The test bed harness in one import: `import { runAs, tspod, REGISTRY } from '../lib'`.

export * from './bed';
export * from './users';
export * from './run';
export * from './tspod';
export * from './fixtures';
export * from './snapshot';
export * from './pty';
export * from './http';
export * from './tar';
