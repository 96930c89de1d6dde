import { systemClock } from '@aurora/core';
import { registerInAzure } from '@aurora/runtime';
import { apiApp } from './functions.js';

registerInAzure(apiApp({ clock: systemClock, version: process.env['AURORA_VERSION'] ?? 'dev' }));
