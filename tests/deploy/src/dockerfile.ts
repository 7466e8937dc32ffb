import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

/** The repository root. */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

/** One build stage and its instructions. */
export interface Stage {
  name: string;
  /** The image or stage it starts from, with ARG defaults substituted. */
  from: string;
  instructions: Instruction[];
}

/** The root Dockerfile, parsed into stages (ARG defaults before the first FROM resolved). */
export function readDockerfile(path = `${root}Dockerfile`) {
  const text = readFileSync(path, 'utf8');
  const dockerfile = DockerfileParser.parse(text);
  const args = new Map<string, string>();
  for (const arg of dockerfile.getInitialARGs()) {
    const property = arg.getProperty();
    if (property?.getName()) args.set(property.getName(), property.getValue() ?? '');
  }
  const resolve = (value: string) =>
    value.replace(/\$\{?(\w+)\}?/g, (m, name: string) => args.get(name) ?? m);
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'FROM') {
      const [image = '', , name = ''] = instruction.getArgumentsContent()?.split(/\s+/) ?? [];
      stages.push({ name, from: resolve(image), instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  const stage = (name: string) => {
    const found = stages.find((s) => s.name === name);
    if (!found) throw new Error(`no stage "${name}" in the Dockerfile`);
    return found;
  };
  /** A target's instructions, its base stages' first (a stage inherits what its base set). */
  const chain = (name: string): Instruction[] => {
    const s = stage(name);
    const base = stages.find((b) => b.name === s.from);
    return [...(base ? chain(base.name) : []), ...s.instructions];
  };
  return { text, stages, stage, chain };
}

/** The exec-form argv of a CMD, ENTRYPOINT or `HEALTHCHECK … CMD [...]`; throws on the shell form. */
export function execForm(instruction: Instruction): string[] {
  const content = instruction.getArgumentsContent() ?? '';
  const json =
    instruction.getKeyword() === 'HEALTHCHECK' ? /\bCMD\s+(\[[\s\S]*\])\s*$/.exec(content)?.[1] : content;
  try {
    const argv = JSON.parse(json ?? '') as unknown;
    if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) return argv;
  } catch {
    // fall through
  }
  throw new Error(
    `line ${instruction.getRange().start.line + 1}: ${instruction.getKeyword()} is not in exec (JSON) form`,
  );
}

/** The last instruction with `keyword` in a list (what a stage ends up with). */
export function last(instructions: Instruction[], keyword: string): Instruction | undefined {
  return instructions.filter((i) => i.getKeyword() === keyword).at(-1);
}
