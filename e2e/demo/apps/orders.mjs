// orders: numbers each order with a counter kept in Redis (INCR), then asks bills for the price.
import { envPort, getJson, redisCommand, serveJson } from './lib.mjs';

const port = envPort('PORT', 8080);
const billsUrl = process.env.BILLS_URL ?? 'http://bills.shop';
const redisHost = process.env.REDIS_HOST ?? 'redis.shop';
const redisPort = envPort('REDIS_PORT', 6379);
const pod = process.env.POD_NAME ?? 'orders';

serveJson('orders', port, {
  '/order': async () => {
    const id = await redisCommand(redisHost, redisPort, ['INCR', 'shop:orders']);
    const bill = await getJson(`${billsUrl}/bill?order=${id}`);
    return { app: 'orders', pod, order: id, bill };
  },
});
