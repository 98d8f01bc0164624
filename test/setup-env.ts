// Unit tests never reach AWS: fake credentials and a fixed region, set before any client is built.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
process.env.POWERTOOLS_DEV ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
// Each jest worker's emulators hand out task addresses in a 127.x.0.0/16 of their own: live tasks of two
// emulators running at once in two workers would otherwise want the same address and port.
// From 100: away from `npm start` (10) and the rolling bench (200), so tests run beside a local stack.
process.env.LOCAL_ADDRESS_OCTET ??= String(100 + Number(process.env.JEST_WORKER_ID ?? '1') - 1);
