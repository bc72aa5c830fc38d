// frontend: the shop's entry point. GET / places an order through orders (which calls bills and Redis).
import { envPort, getJson, serveJson } from './lib.mjs';

const port = envPort('PORT', 8080);
const ordersUrl = process.env.ORDERS_URL ?? 'http://orders.shop';
const pod = process.env.POD_NAME ?? 'frontend';

serveJson('frontend', port, {
  '/': async () => ({ app: 'frontend', pod, placed: await getJson(`${ordersUrl}/order`) }),
});
