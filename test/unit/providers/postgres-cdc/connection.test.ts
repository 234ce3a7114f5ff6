// Messages never carry a password: the URL's (raw or percent-encoded) and PGPASSWORD are masked.
import { afterEach, expect, test } from "bun:test";
import {
  describePostgresError,
  maskSecrets,
} from "../../../../src/providers/postgres-cdc/connection.ts";
import { defaultName } from "../../../../src/providers/postgres-cdc/schema.ts";

const config = {
  connection_string: "postgres://app:p%40ss-w0rd@db.example:5433/shop",
  tables: ["orders"],
  snapshot: "initial" as const,
  heartbeat: 10_000,
  snapshot_batch_rows: 5000,
  lag_warning_bytes: 1024 ** 3,
};

afterEach(() => {
  delete process.env.PGPASSWORD;
});

test("URLs and passwords are masked wherever they appear", () => {
  process.env.PGPASSWORD = "from-env";
  expect(
    maskSecrets("failed: postgres://app:p%40ss-w0rd@db.example/shop p@ss-w0rd from-env", config),
  ).toBe("failed: postgres://app:****@db.example/shop **** ****");
});

test("authentication and refusal name the target without the password", () => {
  expect(
    describePostgresError(Object.assign(new Error("x"), { code: "28P01" }), config, "connect"),
  ).toBe(
    'postgres-cdc: password authentication failed for user "app" at app@db.example:5433/shop; check the password in connection_string (or PGPASSWORD)',
  );
  expect(
    describePostgresError(
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      config,
      "connect",
    ),
  ).toBe(
    "postgres-cdc: cannot connect to app@db.example:5433/shop: connection refused; check connection_string (or PGHOST/PGPORT) and that PostgreSQL is running",
  );
});

test.each([
  ["orders-cdc", "dstream_orders_cdc"],
  ["Orders.CDC v2", "dstream_orders_cdc_v2"],
  ["", "dstream_task"],
  ["x".repeat(80), `dstream_${"x".repeat(55)}`],
])("task %p names its slot and publication %p", (task, name) => {
  expect(defaultName(task)).toBe(name);
});
