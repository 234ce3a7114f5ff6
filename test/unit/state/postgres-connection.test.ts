// How the postgres state backend names its database: the URL without its password, every spelling
// of a secret masked, and one-line errors with a hint for the usual failures.
import { describe, expect, test } from "bun:test";
import {
  describePostgresError,
  maskSecrets,
  postgresTarget,
  stateBackendError,
} from "../../../src/state/postgres-connection.ts";

describe("postgresTarget", () => {
  test.each([
    ["postgres://dstream:s3cret@db:5432/ops", "postgres://dstream@db:5432/ops"],
    ["postgresql://db/ops", "postgresql://db/ops"],
    [
      "postgres://dstream:p%40ss@db/ops?sslmode=require",
      "postgres://dstream@db/ops?sslmode=require",
    ],
    ["postgres://db/ops?user=u&password=s3cret&sslpassword=k3y", "postgres://db/ops?user=u"],
  ])("%s is shown as %s", (url, where) => {
    expect(postgresTarget(url).where).toBe(where);
  });

  test("masks the password as written and decoded, and secret query parameters", () => {
    const target = postgresTarget("postgres://u:p%40ss@db/ops?sslpassword=k%26y");
    expect(maskSecrets("p%40ss p@ss k&y k%26y", target)).toBe("*** *** *** ***");
  });
});

describe("errors", () => {
  const target = postgresTarget("postgres://u:Secret-1@db/ops");

  test.each([
    [
      { code: "ECONNREFUSED", message: "connect ECONNREFUSED 10.0.0.1:5432" },
      "connect ECONNREFUSED 10.0.0.1:5432 (is PostgreSQL running there?)",
    ],
    [
      { code: "28P01", message: 'password authentication failed for user "u"' },
      'password authentication failed for user "u" (check the user and password of connection_string)',
    ],
    [
      { code: "42501", message: "permission denied for schema public" },
      "permission denied for schema public (grant the role the privilege, or create the tables as docs/configuration.md shows)",
    ],
    [{ code: "XX000", message: "first line\nsecond line with Secret-1" }, "first line"],
    [{ message: "echoed Secret-1" }, "echoed ***"],
  ])("%o", (error, line) => {
    expect(describePostgresError(Object.assign(new Error(error.message), error), target)).toBe(
      line,
    );
  });

  test("a backend error names the URL without the password, its cause masked too", () => {
    const error = stateBackendError(target, "cannot connect", new Error("bad Secret-1"));
    expect(error.message).toBe(
      "state backend postgres (postgres://u@db/ops): cannot connect: bad ***",
    );
    expect(error.exitCode).toBe(1);
    expect(String(error.cause)).toBe("Error: bad ***");
  });
});
