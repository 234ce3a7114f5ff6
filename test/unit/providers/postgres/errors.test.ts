// Messages about the connection: the password never shows, in any spelling.
import { afterEach, describe, expect, test } from "bun:test";
import {
  describeConnectionError,
  mask,
  secretsOf,
} from "../../../../src/providers/postgres/errors.ts";

const target = { host: "db.example", port: 5432, database: "shop", user: "app" };

describe("masking", () => {
  const saved = process.env.PGPASSWORD;
  afterEach(() => {
    if (saved === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = saved;
  });

  test("the URL's password, raw and percent-decoded, and PGPASSWORD become ***", () => {
    process.env.PGPASSWORD = "env-secret";
    const secrets = secretsOf("postgres://app:p%40ss%2Fword@db.example/shop");
    expect(mask("p%40ss%2Fword p@ss/word env-secret", secrets)).toBe("*** *** ***");
  });

  test("no password, nothing to mask", () => {
    delete process.env.PGPASSWORD;
    expect(secretsOf("postgres://app@db.example/shop")).toEqual([]);
  });
});

describe("describeConnectionError", () => {
  test.each([
    [
      Object.assign(new Error('password authentication failed for user "app"'), { code: "28P01" }),
      'postgres: authentication failed at db.example:5432/shop as "app"; check the user and password of connection_string (or PGUSER, PGPASSWORD)',
    ],
    [
      Object.assign(new Error('database "shop" does not exist'), { code: "3D000" }),
      'postgres: database "shop" does not exist at db.example:5432; create it or fix connection_string',
    ],
    [
      Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:5432"), { code: "ECONNREFUSED" }),
      'postgres: cannot connect to db.example:5432/shop as "app" (ECONNREFUSED); check connection_string and that PostgreSQL is running',
    ],
    [
      new Error("Connection terminated due to connection timeout"),
      'postgres: cannot connect to db.example:5432/shop as "app" (timed out); check connection_string and that PostgreSQL is running',
    ],
  ])("%s", (error, message) => {
    expect(describeConnectionError(error, target, "connect")).toBe(message);
  });
});
