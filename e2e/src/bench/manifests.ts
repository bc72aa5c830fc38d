// Renders the benchmark's YAML templates (e2e/bench/manifests/*.yaml) into a run directory:
// `{{NAME}}` placeholders are replaced; an unknown placeholder is an error, not an empty string.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function render(repoRoot: string, template: string, outDir: string, outName: string,
  vars: Record<string, string>): Promise<string> {
  const src = await readFile(path.join(repoRoot, 'e2e/bench/manifests', template), 'utf8');
  const all = { REPO: repoRoot, ...vars };
  const text = src.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const v = all[name as keyof typeof all];
    if (v === undefined) throw new Error(`bench: template ${template} needs {{${name}}}`);
    return v;
  });
  const out = path.join(outDir, outName);
  await writeFile(out, text);
  return out;
}
