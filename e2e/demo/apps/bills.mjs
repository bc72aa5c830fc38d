// bills: prices an order. The leaf of the demo's call chain (frontend -> orders -> bills).
import { URL } from 'node:url';
import { envPort, serveJson } from './lib.mjs';

const port = envPort('PORT', 8080);
const pod = process.env.POD_NAME ?? 'bills';

serveJson('bills', port, {
  '/bill': (req) => {
    const id = Number(new URL(req.url, 'http://x').searchParams.get('order') ?? '0');
    // A deterministic price so a reader can check the numbers by eye.
    return { app: 'bills', pod, order: id, amount: 10 + (id % 7) * 3, currency: 'EUR' };
  },
});
