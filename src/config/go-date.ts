// Formats a Date with a Go time layout ("2006-01-02T15:04:05Z07:00"), as DStream users write them.

const longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const longMonths = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

export interface ZonedTime {
  date: Date;
  /** Minutes east of UTC. */
  offsetMinutes: number;
  /** Zone abbreviation such as "UTC" or "CET"; Go prints the numeric offset when it has none. */
  zoneName: string;
}

/** The current local time with its zone, as Go's time.Now() would see it. */
export function localTime(date: Date): ZonedTime {
  const offsetMinutes = 0 - date.getTimezoneOffset(); // not -x, which gives -0 for UTC
  const zonePart = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(date)
    .find((part) => part.type === "timeZoneName")?.value;
  const zoneName =
    offsetMinutes === 0 ? "UTC" : zonePart && !zonePart.startsWith("GMT") ? zonePart : "";
  return { date, offsetMinutes, zoneName };
}

const pad = (value: number, width: number, filler = "0") => String(value).padStart(width, filler);

function offsetText(minutes: number, colon: boolean, withMinutes: boolean): string {
  const sign = minutes < 0 ? "-" : "+";
  const absolute = Math.abs(minutes);
  const hours = pad(Math.floor(absolute / 60), 2);
  if (!withMinutes) return `${sign}${hours}`;
  return `${sign}${hours}${colon ? ":" : ""}${pad(absolute % 60, 2)}`;
}

/** Layout elements, longest first so "January" wins over "Jan" and "2006" over "2". */
const elements: [string, (t: Fields) => string][] = [
  ["January", (t) => longMonths[t.month] ?? ""],
  ["Monday", (t) => longDays[t.weekday] ?? ""],
  ["Z07:00", (t) => (t.offset === 0 ? "Z" : offsetText(t.offset, true, true))],
  ["-07:00", (t) => offsetText(t.offset, true, true)],
  ["Z0700", (t) => (t.offset === 0 ? "Z" : offsetText(t.offset, false, true))],
  ["-0700", (t) => offsetText(t.offset, false, true)],
  ["2006", (t) => pad(t.year, 4)],
  ["Z07", (t) => (t.offset === 0 ? "Z" : offsetText(t.offset, false, false))],
  ["-07", (t) => offsetText(t.offset, false, false)],
  ["Jan", (t) => (longMonths[t.month] ?? "").slice(0, 3)],
  ["Mon", (t) => (longDays[t.weekday] ?? "").slice(0, 3)],
  ["MST", (t) => t.zoneName || offsetText(t.offset, false, true)],
  ["002", (t) => pad(t.yearDay, 3)],
  ["__2", (t) => pad(t.yearDay, 3, " ")],
  ["_2", (t) => pad(t.day, 2, " ")],
  ["01", (t) => pad(t.month + 1, 2)],
  ["02", (t) => pad(t.day, 2)],
  ["03", (t) => pad(t.hour % 12 || 12, 2)],
  ["04", (t) => pad(t.minute, 2)],
  ["05", (t) => pad(t.second, 2)],
  ["06", (t) => pad(t.year % 100, 2)],
  ["15", (t) => pad(t.hour, 2)],
  ["PM", (t) => (t.hour < 12 ? "AM" : "PM")],
  ["pm", (t) => (t.hour < 12 ? "am" : "pm")],
  ["1", (t) => String(t.month + 1)],
  ["2", (t) => String(t.day)],
  ["3", (t) => String(t.hour % 12 || 12)],
  ["4", (t) => String(t.minute)],
  ["5", (t) => String(t.second)],
];

interface Fields {
  year: number;
  month: number;
  day: number;
  weekday: number;
  yearDay: number;
  hour: number;
  minute: number;
  second: number;
  nanosecond: number;
  offset: number;
  zoneName: string;
}

function fieldsOf(time: ZonedTime): Fields {
  // Shift by the offset and read UTC fields: the wall clock of that zone.
  const shifted = new Date(time.date.getTime() + time.offsetMinutes * 60_000);
  const startOfYear = Date.UTC(shifted.getUTCFullYear(), 0, 1);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth(),
    day: shifted.getUTCDate(),
    weekday: shifted.getUTCDay(),
    yearDay: Math.floor((shifted.getTime() - startOfYear) / 86_400_000) + 1,
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
    nanosecond: shifted.getUTCMilliseconds() * 1_000_000,
    offset: time.offsetMinutes,
    zoneName: time.zoneName,
  };
}

/** Fractional seconds: ".000" keeps trailing zeros, ".999" trims them (and the dot if all go). */
function fraction(fields: Fields, digits: number, trim: boolean, separator: string): string {
  const text = pad(fields.nanosecond, 9).slice(0, digits);
  if (!trim) return separator + text;
  const trimmed = text.replace(/0+$/, "");
  return trimmed ? separator + trimmed : "";
}

export function formatGoLayout(layout: string, time: ZonedTime): string {
  const fields = fieldsOf(time);
  let out = "";
  let index = 0;
  while (index < layout.length) {
    const fractionMatch = /^[.,](0+|9+)(?![0-9])/.exec(layout.slice(index));
    if (fractionMatch?.[1]) {
      const digits = fractionMatch[1];
      out += fraction(fields, digits.length, digits[0] === "9", fractionMatch[0][0] ?? ".");
      index += fractionMatch[0].length;
      continue;
    }
    const element = elements.find(([name]) => layout.startsWith(name, index));
    if (element) {
      out += element[1](fields);
      index += element[0].length;
    } else {
      out += layout[index];
      index++;
    }
  }
  return out;
}
