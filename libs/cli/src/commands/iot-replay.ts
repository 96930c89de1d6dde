import type { Command } from 'commander';

export function registerIotReplay(_program: Command): void {}
