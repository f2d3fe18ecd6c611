#!/usr/bin/env node
// `npm run bench [part…]`: benchmarks with same-run baselines (src/bench/).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/bench/main.ts');
process.exitCode = await main(process.argv.slice(2));
