// dstream providers push <ref> --platform os/arch=./bin ...: publish binaries as an OCI image index.
import { defineCommand } from "citty";
import { DstreamError } from "../../../errors.ts";
import { parseReference } from "../../../oci/index.ts";
import { type PlatformFile, pushProvider } from "../../../registry/index.ts";
import { globalArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";

const platformPattern = /^(linux|darwin|windows)\/(amd64|arm64)=(.+)$/;

/** --platform repeats; citty keeps only the last value, so they are read from argv. */
export function platformFiles(rawArgs: string[]): PlatformFile[] {
  const values: string[] = [];
  for (let index = 0; index < rawArgs.length; index++) {
    const token = rawArgs[index] ?? "";
    if (token === "--") break;
    if (token === "--platform") values.push(rawArgs[++index] ?? "");
    else if (token.startsWith("--platform=")) values.push(token.slice("--platform=".length));
  }
  if (values.length === 0) {
    throw new DstreamError("USAGE", "push needs at least one --platform os/arch=./file");
  }
  const seen = new Set<string>();
  return values.map((value) => {
    const match = platformPattern.exec(value);
    if (!match) {
      throw new DstreamError(
        "USAGE",
        `--platform "${value}": expected os/arch=path with os linux, darwin or windows and arch amd64 or arm64`,
      );
    }
    const platform = `${match[1]}/${match[2]}`;
    if (seen.has(platform))
      throw new DstreamError("USAGE", `--platform ${platform} is given twice`);
    seen.add(platform);
    return { platform, path: match[3] ?? "" };
  });
}

/** The --config file: provider.json, which must be JSON. */
async function readProviderJson(path: string): Promise<Uint8Array> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new DstreamError("USAGE", `--config ${path}: file not found`);
  const bytes = await file.bytes();
  try {
    JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new DstreamError("USAGE", `--config ${path}: not valid JSON`);
  }
  return bytes;
}

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream providers push",
      description: "Push provider binaries, one per platform, as an OCI image index",
    },
    args: {
      reference: {
        type: "positional",
        required: true,
        description: "Where to push: registry/repository:tag",
        valueHint: "ref",
      },
      platform: {
        type: "string",
        description: "os/arch=path of a binary; repeat for each platform",
        valueHint: "os/arch=path",
      },
      config: {
        type: "string",
        description: "provider.json stored with each binary",
        valueHint: "path",
      },
      ...globalArgs,
    },
    async run({ args, rawArgs }) {
      const reference = parseReference(args.reference);
      if ("error" in reference) throw new DstreamError("USAGE", reference.error);
      const platforms = platformFiles(rawArgs);
      for (const { path } of platforms) {
        if (!(await Bun.file(path).exists())) {
          throw new DstreamError("USAGE", `--platform: file ${path} not found`);
        }
      }
      const providerJson = args.config ? await readProviderJson(args.config) : undefined;
      const result = await pushProvider(reference, {
        platforms,
        ...(providerJson ? { providerJson } : {}),
      });
      for (const entry of result.platforms) {
        process.stdout.write(`${entry.platform}  ${entry.binary}  ${entry.size}\n`);
      }
      process.stdout.write(`${reference.original}  ${result.digest}\n`);
    },
  }),
  {
    examples: [
      "dstream providers push ghcr.io/acme/pg-cdc:v1.2.0 --platform linux/amd64=./dist/pg-cdc-linux-amd64 --platform darwin/arm64=./dist/pg-cdc-darwin-arm64",
      "dstream providers push localhost:5000/acme/counter:dev --platform linux/amd64=./counter --config provider.json",
    ],
  },
);
