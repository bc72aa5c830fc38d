// Test fixture run inside pods: a gRPC health server on 0.0.0.0:PORT whose answers come from
// STATUS_FILE, read on every call: JSON {"<service>": "SERVING" | "NOT_SERVING" | "UNKNOWN" |
// "SERVICE_UNKNOWN"}; a service not in the file gets NOT_FOUND. Prints one line per call.
// Usage: node health-server-main.js PORT STATUS_FILE
import { readFileSync } from 'node:fs';
import type { ServingStatusName } from '../health-codec.js';
import { startHealthServer } from './health-server.js';

const [portArg, statusFile] = process.argv.slice(2);
if (!portArg || !statusFile) throw new Error('usage: health-server-main.js PORT STATUS_FILE');

function statusOf(service: string): ServingStatusName | undefined {
  try {
    return (JSON.parse(readFileSync(statusFile!, 'utf8')) as Record<string, ServingStatusName>)[service];
  } catch {
    return undefined;
  }
}

const server = await startHealthServer('0.0.0.0', Number(portArg), statusOf,
  (c) => process.stdout.write(`check service=${JSON.stringify(c.service)} user-agent=${JSON.stringify(c.userAgent)} -> ${c.answered}\n`));
process.stdout.write(`grpc health fixture listening on :${server.port}\n`);
