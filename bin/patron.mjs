#!/usr/bin/env node
// Entry point for `npx patron …`: runs the TypeScript CLI through tsx's loader,
// so a clone works without a build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/main.ts');
