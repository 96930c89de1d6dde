import { writeFile } from 'node:fs/promises';
import { apiOpenApiDocument } from './functions.js';

/**
 * Writes functions/api/openapi.json, the document API Management imports (infra/src/openapi.ts reads it);
 * a test fails while the file differs from what the schemas generate.
 */
const file = new URL('../openapi.json', import.meta.url);
await writeFile(file, `${JSON.stringify(apiOpenApiDocument('1.0.0'), null, 2)}\n`);
process.stdout.write(`wrote ${file.pathname}\n`);
