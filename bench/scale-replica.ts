/**
 * A replica of the scale bench's failover part: a LeaseKeeper on the shared database and nothing
 * else, printing one JSON line per lease it gains or loses. `node bench/scale-replica.ts URL ID`.
 */
import { pino } from 'pino';
import { LeaseKeeper } from '../src/engine/lease-keeper.ts';
import { PostgresStore } from '../src/store/postgres/store-admin.ts';

const [url, id] = process.argv.slice(2);
const store = await PostgresStore.open(url!);
const say = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, at: Date.now() })}\n`);
const keeper = new LeaseKeeper({
  replica: id!,
  instance: `${process.pid}`,
  url: null,
  store,
  leases: store.leases,
  log: pino({ level: 'silent' }),
  now: Date.now,
  gained: async (service, epoch) => {
    say({ gained: service, epoch });
  },
  lost: async (service) => {
    say({ lost: service });
  },
});
await keeper.start();
say({ ready: id });
