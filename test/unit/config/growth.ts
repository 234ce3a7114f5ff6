// How a function's cost grows with its input: the ratio of its times on a small and a large input,
// each the fastest of a few runs, so a busy machine inflates both alike.

/** Time of `run` on input size `large` over its time on `small` (linear: about large / small). */
export function growth(prepare: (size: number) => () => unknown, small: number, large: number) {
  const fastest = (size: number) => {
    const run = prepare(size);
    let best = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 5; round++) {
      const started = performance.now();
      run();
      best = Math.min(best, performance.now() - started);
    }
    return best;
  };
  fastest(small); // warms the code up, so the small input is not charged for compiling it
  return fastest(large) / fastest(small);
}

/** `count` tasks in the shape users write, one built-in on each side. */
export function manyTasks(count: number, inputConfig = "config { maxCount = 1 }"): string {
  const tasks: string[] = [];
  for (let index = 1; index <= count; index++) {
    tasks.push(
      `task "t${index}" {\n  input {\n    provider = "counter"\n    ${inputConfig}\n  }\n  output {\n    provider = "console"\n  }\n}\n`,
    );
  }
  return tasks.join("");
}
