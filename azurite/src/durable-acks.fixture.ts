import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite } from './server.js';

/**
 * The process durable-acks.int.test.ts kills: a persistent Azurite on argv[2], then blob and table writes
 * one after the other, each printed (`acked blob N`, `acked checkpoint N`) as soon as the emulator
 * acknowledged it; it never closes anything and runs until killed.
 */
const azurite = await startAzurite({ location: process.argv[2]! });
const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('lake');
await container.createIfNotExists();
const table = TableClient.fromConnectionString(azurite.connectionString, 'checkpoints', {
  allowInsecureConnection: true,
});
await table.createTable();
for (let n = 0; ; n++) {
  const body = `file ${n} `.repeat(1000);
  await container.getBlockBlobClient(`bronze/file-${n}.txt`).upload(body, Buffer.byteLength(body));
  process.stdout.write(`acked blob ${n}\n`);
  await table.upsertEntity({ partitionKey: 'mes', rowKey: 'cursor', watermark: n }, 'Replace');
  process.stdout.write(`acked checkpoint ${n}\n`);
}
