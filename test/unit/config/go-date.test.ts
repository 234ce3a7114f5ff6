// Go time layouts: every usual element of the reference time Mon Jan 2 15:04:05 MST 2006.
import { describe, expect, test } from "bun:test";
import { formatGoLayout, localTime, type ZonedTime } from "../../../src/config/go-date.ts";

const at = (iso: string, offsetMinutes = 0, zoneName = "UTC"): ZonedTime => ({
  date: new Date(iso),
  offsetMinutes,
  zoneName,
});

// Wednesday 4 March 2026, day 63 of the year, 05:06:07.089 UTC.
const morning = at("2026-03-04T05:06:07.089Z");

describe("formatGoLayout", () => {
  test.each([
    ["RFC 3339", "2006-01-02T15:04:05Z07:00", morning, "2026-03-04T05:06:07Z"],
    ["date only", "2006-01-02", morning, "2026-03-04"],
    ["ANSIC", "Mon Jan _2 15:04:05 2006", morning, "Wed Mar  4 05:06:07 2026"],
    ["UnixDate", "Mon Jan _2 15:04:05 MST 2006", morning, "Wed Mar  4 05:06:07 UTC 2026"],
    ["long names", "Monday, January 2, 2006", morning, "Wednesday, March 4, 2026"],
    ["unpadded fields", "1/2/06 3:4:5", morning, "3/4/26 5:6:7"],
    ["padded 12-hour clock", "03:04:05 PM pm", morning, "05:06:07 AM am"],
    ["afternoon", "3PM 15h", at("2026-03-04T17:00:00Z"), "5PM 17h"],
    ["midnight is 12 AM", "3 03 PM 15", at("2026-03-04T00:30:00Z"), "12 12 AM 00"],
    ["noon is 12 PM", "3 PM", at("2026-03-04T12:00:00Z"), "12 PM"],
    ["day of year", "002 __2", morning, "063  63"],
    ["first day of year", "002 __2 _2", at("2026-01-01T00:00:00Z"), "001   1  1"],
    ["fixed fractions keep zeros", ".000 .000000 ,000", morning, ".089 .089000 ,089"],
    ["trimmed fractions drop zeros", "05.999 05.999999999", morning, "07.089 07.089"],
    [
      "a trimmed fraction of zero vanishes with its dot",
      "05.999",
      at("2026-03-04T05:06:07Z"),
      "07",
    ],
    ["stamp with millis", "Jan _2 15:04:05.000", morning, "Mar  4 05:06:07.089"],
    ["UTC offsets", "Z07:00 Z0700 Z07 -07:00 -0700 -07", morning, "Z Z Z +00:00 +0000 +00"],
    [
      "an eastern zone",
      "2006-01-02T15:04:05Z07:00 -0700 -07 MST",
      at("2026-03-04T23:30:00Z", 60, "CET"),
      "2026-03-05T00:30:00+01:00 +0100 +01 CET",
    ],
    [
      "a western half-hour zone without abbreviation prints the offset for MST",
      "15:04 Z07:00 Z0700 MST",
      at("2026-03-04T05:06:00Z", -150, ""),
      "02:36 -02:30 -0230 -0230",
    ],
    ["text that is no element stays", "at 15h on day 2 (x)", morning, "at 05h on day 4 (x)"],
    ["leap day", "2006-01-02 002", at("2028-02-29T10:00:00Z"), "2028-02-29 060"],
  ])("%s: %j", (_name, layout, time, expected) => {
    expect(formatGoLayout(layout, time)).toBe(expected);
  });
});

describe("localTime", () => {
  const saved = process.env.TZ;
  const withZone = (zone: string, run: () => void) => {
    process.env.TZ = zone;
    try {
      run();
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  };

  test("UTC is named UTC with offset 0", () => {
    withZone("UTC", () => {
      const time = localTime(new Date("2026-03-04T05:06:07Z"));
      expect({ offset: time.offsetMinutes, zone: time.zoneName }).toEqual({
        offset: 0,
        zone: "UTC",
      });
    });
  });

  test("a zone with an abbreviation keeps it", () => {
    withZone("America/New_York", () => {
      const time = localTime(new Date("2026-01-04T05:06:07Z"));
      expect({ offset: time.offsetMinutes, zone: time.zoneName }).toEqual({
        offset: -300,
        zone: "EST",
      });
      expect(formatGoLayout("2006-01-02 15:04 MST", time)).toBe("2026-01-04 00:06 EST");
    });
  });
});
