// HashiCorp's HCL parser (embedded wasm), below config and registry: source to hcl2json's JSON, or
// syntax errors with line and column.
export { type HclDiagnostic, HclSyntaxError, parseHcl } from "./parse.ts";
