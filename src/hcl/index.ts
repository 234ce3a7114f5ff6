// HashiCorp's HCL parser (embedded wasm), below config and registry: source to hcl2json's JSON, or
// syntax errors with line and column; and the outline: where each block and attribute stands.
export {
  type LabelConflict,
  type Outline,
  outlineHcl,
  outlineKey,
  type SourcePosition,
  type TopLevelBlock,
} from "./outline.ts";
export { type HclDiagnostic, HclSyntaxError, parseHcl } from "./parse.ts";
