// PostGraphile 5 reference server for the GraphQL "roadmap page" benchmark.
//
// Serves the public schema of the bench database (DATABASE_URL, a postgres:// URL) at
// POST /graphql on 127.0.0.1:<port> with the amber preset and a production-like config:
// no watch mode, no GraphiQL/Ruru, no explain, no introspection-heavy extras, no
// query-level logging. Run with node 22 from the `node` npm package:
//   node_modules/.bin/node server.mjs --port 5555
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.PORT ?? "5555" },
    host: { type: "string", default: "127.0.0.1" },
  },
});
const connectionString = (process.env.DATABASE_URL ?? "").replace(
  /^postgresql\+asyncpg:/,
  "postgresql:",
);
if (!connectionString) {
  console.error("DATABASE_URL is required (postgres://…)");
  process.exit(2);
}

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      // Pool size comparable to Rounds' SQLAlchemy pool (5 + 10 overflow).
      poolConfig: { max: 10 },
    }),
  ],
  grafserv: {
    host: values.host,
    port: Number(values.port),
    graphqlPath: "/graphql",
    graphiql: false,
    watch: false,
    maxRequestLength: 100_000,
  },
  grafast: {
    explain: false,
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on("error", (e) => {
  console.error(e);
  process.exit(1);
});
await serv.addTo(server);
// Build the schema before accepting connections so the first request is not a cold start.
await pgl.getSchema();
server.listen(Number(values.port), values.host, () => {
  console.log(`postgraphile listening on http://${values.host}:${values.port}/graphql`);
});

const shutdown = async () => {
  server.close();
  await pgl.release();
  process.exit(0);
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
