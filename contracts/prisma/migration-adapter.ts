/**
 * The driver adapter used by the Prisma CLI (migrate deploy/dev/diff/status/reset, db push) only.
 *
 * Why this exists: the Prisma CLI's native schema engine is downloaded from Prisma's servers,
 * which these machines cannot reach. Prisma 6.19 can instead run its WebAssembly schema engine
 * through a driver adapter (`engine: "js"` in prisma.config.ts). On that path @prisma/adapter-pg
 * has two faults that break even `migrate deploy` on an empty database:
 *
 * 1. It cannot map some catalog column types the schema engine reads (`name`, `name[]` and
 *    `"char"`): it throws "Unsupported column type". https://github.com/prisma/prisma/issues/27403
 *    We rewrite those columns to `text`, `text[]` and `bpchar` (the character type) before
 *    the adapter looks at them, and parse `name[]` values into arrays.
 * 2. Its shadow database handling spreads `{ ...config, database }`, which a `connectionString`
 *    overrides (so the "shadow" is the main database), and it drops the shadow database before
 *    closing the pool connected to it (so the DROP fails). We create and drop the shadow
 *    database ourselves, with explicit connection fields, and close its pool first.
 * 3. Its executeScript, which applies each migration.sql, splits the script at every ";" and runs
 *    the pieces one by one, so a migration that creates a PL/pgSQL function or trigger (whose
 *    body holds ";") fails with a syntax error. We send the script whole, as one simple-protocol
 *    query, which is how Postgres runs multi-statement scripts (psql -f, the native engine).
 *
 * The application's own client (lib/db.ts, worker/src/db.ts) uses the plain PrismaPg adapter.
 * tests/integration/migrations.test.ts proves deploy on an empty database and dev with no
 * changes both pass through this module.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { parse as parseConnectionString } from "pg-connection-string";
import postgresArray from "postgres-array";

const PG_OID = { char: 18, name: 19, nameArray: 1003, text: 25, textArray: 1009, bpchar: 1042 } as const;

type QueryResultLike = { fields?: { dataTypeID: number }[]; rows?: unknown[][] | Record<string, unknown>[] };

/** Rewrites the catalog column types that adapter-pg cannot map. */
function mapCatalogTypes(result: QueryResultLike): QueryResultLike {
  if (!result?.fields) return result;
  result.fields.forEach((field, column) => {
    if (field.dataTypeID === PG_OID.name) field.dataTypeID = PG_OID.text;
    else if (field.dataTypeID === PG_OID.char) field.dataTypeID = PG_OID.bpchar;
    else if (field.dataTypeID === PG_OID.nameArray) {
      field.dataTypeID = PG_OID.textArray;
      for (const row of (result.rows ?? []) as unknown[][]) {
        if (Array.isArray(row) && typeof row[column] === "string") {
          row[column] = postgresArray.parse(row[column] as string);
        }
      }
    }
  });
  return result;
}

function patchQuery<T extends { query: (...args: never[]) => unknown }>(target: T): T {
  const original = target.query.bind(target) as (...args: unknown[]) => unknown;
  (target as { query: unknown }).query = (...args: unknown[]) => {
    const answer = original(...args);
    if (answer && typeof (answer as Promise<unknown>).then === "function") {
      return (answer as Promise<QueryResultLike>).then(mapCatalogTypes);
    }
    return answer;
  };
  return target;
}

/** A pg Pool whose results (and whose checked-out clients' results) carry mappable types. */
class CatalogTypeMappingPool extends pg.Pool {
  constructor(config: pg.PoolConfig) {
    super(config);
    patchQuery(this);
  }
  // Pool.query itself checks clients out through connect(callback), so both forms are kept.
  override connect(): Promise<pg.PoolClient>;
  override connect(
    callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): void;
  override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: () => void) => void) {
    const mark = (client: pg.PoolClient) => {
      const marked = client as pg.PoolClient & { __catalogTypesMapped?: boolean };
      if (!marked.__catalogTypesMapped) {
        patchQuery(marked);
        marked.__catalogTypesMapped = true;
      }
      return client;
    };
    if (callback) {
      return super.connect((err, client, done) => callback(err, client ? mark(client) : client, done));
    }
    return super.connect().then(mark);
  }
}

function connectionFields(connectionString: string): pg.PoolConfig {
  const parsed = parseConnectionString(connectionString);
  return {
    host: parsed.host ?? undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    user: parsed.user ?? undefined,
    password: parsed.password ?? undefined,
    database: parsed.database ?? undefined,
    // The CLI never ends its pools; without these an idle connection keeps the process alive
    // for a minute after the command has finished.
    idleTimeoutMillis: 500,
    allowExitOnIdle: true,
  };
}

type ScriptRunner = { executeScript(script: string): Promise<void>; onError?(error: unknown): never };

/** Runs each migration script as one query instead of adapter-pg's split at every ";" (fault 3). */
function runScriptsWhole<T extends object>(adapter: T, pool: pg.Pool): T {
  const runner = adapter as unknown as ScriptRunner;
  runner.executeScript = async (script: string) => {
    try {
      await pool.query(script);
    } catch (error) {
      // adapter-pg's own error mapping, so the CLI reports the database's message as it would.
      if (runner.onError) runner.onError(error);
      throw error;
    }
  };
  return adapter;
}

export class MigrationAdapterFactory extends PrismaPg {
  private readonly fields: pg.PoolConfig;
  private readonly pool: pg.Pool;

  constructor(connectionString: string) {
    const fields = connectionFields(connectionString);
    const pool = new CatalogTypeMappingPool(fields);
    super(pool);
    this.fields = fields;
    this.pool = pool;
  }

  override async connect() {
    return runScriptsWhole(await super.connect(), this.pool);
  }

  override async connectToShadowDb() {
    const database = `prisma_migrate_shadow_${crypto.randomUUID().replaceAll("-", "")}`;
    const admin = new pg.Client(this.fields);
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    await admin.end();
    const shadowPool = new CatalogTypeMappingPool({ ...this.fields, database });
    const adapter = runScriptsWhole(await new PrismaPg(shadowPool, { disposeExternalPool: true }).connect(), shadowPool);
    const dispose = adapter.dispose.bind(adapter);
    adapter.dispose = async () => {
      await dispose(); // closes the shadow pool first, so the DROP below has no open sessions
      const dropper = new pg.Client(this.fields);
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await dropper.end();
    };
    return adapter;
  }
}
