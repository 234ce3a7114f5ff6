// dstream providers inspect <ref>: platforms, digests, annotations and provider.json of an artifact.
import { defineCommand } from "citty";
import { DstreamError } from "../../../errors.ts";
import { parseReference } from "../../../oci/index.ts";
import { type Inspection, inspectProvider } from "../../../registry/index.ts";
import { globalArgs, jsonArgs } from "../../args.ts";
import { withHelp } from "../../help.ts";

function describe(inspection: Inspection): string {
  const lines = [
    `reference  ${inspection.reference}`,
    `digest     ${inspection.digest}`,
    `layout     ${inspection.layout === "index" ? "image index (one manifest per platform)" : "single manifest (one layer per platform)"}`,
    `media type ${inspection.mediaType}`,
  ];
  if (inspection.artifactType) lines.push(`artifact   ${inspection.artifactType}`);
  for (const [key, value] of Object.entries(inspection.annotations)) {
    lines.push(`annotation ${key}=${value}`);
  }
  lines.push("platforms");
  for (const entry of inspection.platforms) {
    const title = entry.binary.annotations?.["org.opencontainers.image.title"];
    lines.push(
      `  ${entry.platform.padEnd(13)} ${entry.binary.digest}  ${entry.binary.size} bytes${title ? `  ${title}` : ""}`,
    );
  }
  if (inspection.provider !== undefined) {
    lines.push("provider.json", JSON.stringify(inspection.provider, null, 2));
  }
  return lines.join("\n");
}

export default withHelp(
  defineCommand({
    meta: {
      name: "dstream providers inspect",
      description: "Show what a reference holds, without downloading binaries",
    },
    args: {
      reference: {
        type: "positional",
        required: true,
        description: "registry/repository:tag or @sha256:digest",
        valueHint: "ref",
      },
      ...jsonArgs,
      ...globalArgs,
    },
    async run({ args }) {
      const reference = parseReference(args.reference);
      if ("error" in reference) throw new DstreamError("USAGE", reference.error);
      const inspection = await inspectProvider(reference);
      process.stdout.write(
        args.json ? `${JSON.stringify(inspection)}\n` : `${describe(inspection)}\n`,
      );
    },
  }),
  {
    examples: [
      "dstream providers inspect ghcr.io/acme/pg-cdc:v1.2.0",
      "dstream providers inspect localhost:5000/acme/counter@sha256:<digest> --json",
    ],
  },
);
