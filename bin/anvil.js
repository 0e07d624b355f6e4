#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx), so the command always matches the source.
require('tsx/cjs');
require('../cli/main.ts');
