import type { Command } from 'commander';

export function registerIotDevices(_program: Command): void {}
