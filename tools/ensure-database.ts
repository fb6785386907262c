// Creates the database named in DATABASE_URL when it does not exist yet (used by the start command).
import pg from "pg";

const url = new URL(process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/goat");
const database = decodeURIComponent(url.pathname.slice(1));
const maintenance = new URL(url);
maintenance.pathname = "/postgres";

const client = new pg.Client({ connectionString: maintenance.toString() });
await client.connect();
const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
if (!rowCount) {
  await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  console.log(`[database] created ${database}`);
}
await client.end();
