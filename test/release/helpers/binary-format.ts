// Reads an executable's header: which format (ELF, Mach-O, PE), which CPU, which ELF loader.
import { closeSync, openSync, readSync } from "node:fs";

export interface ExecutableFormat {
  format: "elf" | "macho" | "pe" | "unknown";
  arch: "x64" | "arm64" | "unknown";
  /** ELF only: the dynamic loader it asks for (glibc or musl). */
  interpreter?: string;
  /** Mach-O only: has a code signature (Apple silicon refuses to start a binary without one). */
  codeSigned?: boolean;
}

const elfMachines: Record<number, ExecutableFormat["arch"]> = { 62: "x64", 183: "arm64" };
const machoCpus: Record<number, ExecutableFormat["arch"]> = { 16777223: "x64", 16777228: "arm64" };
const peMachines: Record<number, ExecutableFormat["arch"]> = { 34404: "x64", 43620: "arm64" };

function readBytes(path: string, offset: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buffer, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  return buffer;
}

function elfInterpreter(path: string, header: Buffer): string | undefined {
  const programHeaders = Number(header.readBigUInt64LE(32));
  const entrySize = header.readUInt16LE(54);
  const count = header.readUInt16LE(56);
  for (let index = 0; index < count; index++) {
    const entry = readBytes(path, programHeaders + index * entrySize, entrySize);
    const PT_INTERP = 3;
    if (entry.readUInt32LE(0) !== PT_INTERP) continue;
    const offset = Number(entry.readBigUInt64LE(8));
    const size = Number(entry.readBigUInt64LE(32));
    return readBytes(path, offset, size).toString("latin1").replace(/\0+$/, "");
  }
  return undefined;
}

function machoHasCodeSignature(path: string, header: Buffer): boolean {
  const LC_CODE_SIGNATURE = 0x1d;
  const count = header.readUInt32LE(16);
  const commandsSize = header.readUInt32LE(20);
  const commands = readBytes(path, 32, commandsSize);
  for (let index = 0, offset = 0; index < count; index++) {
    if (commands.readUInt32LE(offset) === LC_CODE_SIGNATURE) return true;
    offset += commands.readUInt32LE(offset + 4);
  }
  return false;
}

export function executableFormat(path: string): ExecutableFormat {
  const header = readBytes(path, 0, 64);
  if (header.readUInt32BE(0) === 0x7f454c46) {
    const interpreter = elfInterpreter(path, header);
    return {
      format: "elf",
      arch: elfMachines[header.readUInt16LE(18)] ?? "unknown",
      ...(interpreter ? { interpreter } : {}),
    };
  }
  if (header.readUInt32LE(0) === 0xfeedfacf) {
    return {
      format: "macho",
      arch: machoCpus[header.readUInt32LE(4)] ?? "unknown",
      codeSigned: machoHasCodeSignature(path, header),
    };
  }
  if (header.toString("latin1", 0, 2) === "MZ") {
    const peOffset = header.readUInt32LE(0x3c);
    const peHeader = readBytes(path, peOffset, 6);
    if (peHeader.toString("latin1", 0, 4) === "PE\0\0") {
      return { format: "pe", arch: peMachines[peHeader.readUInt16LE(4)] ?? "unknown" };
    }
  }
  return { format: "unknown", arch: "unknown" };
}
