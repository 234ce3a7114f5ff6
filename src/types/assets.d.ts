// Files embedded with `import path from "x" with { type: "file" }` resolve to a path Bun can read,
// also inside the compiled binary.
declare module "*.wasm.gz" {
  const path: string;
  export default path;
}
