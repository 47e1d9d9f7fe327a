import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { sourceFiles } from './helpers/source-files';

// The modules under src/ import each other without a cycle (type-only imports included): each has a place in the
// order data flows, and a newcomer can read them bottom up.
const SRC = path.join(__dirname, '../src');

/** The src/ files a file imports (relative imports, resolved as TypeScript resolves them). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .filter((i) => i.fileName.startsWith('.'))
    .map((i) => path.resolve(path.dirname(file), i.fileName))
    .map((p) => [`${p}.ts`, path.join(p, 'index.ts')].find((f) => fs.existsSync(f)))
    .filter((f): f is string => !!f);
}

function importCycles(files: string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  const cycles: string[][] = [];
  const done = new Set<string>();
  const trail: string[] = [];
  const visit = (file: string) => {
    if (trail.includes(file)) {
      cycles.push([...trail.slice(trail.indexOf(file)), file]);
      return;
    }
    if (done.has(file)) return;
    trail.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    trail.pop();
    done.add(file);
  };
  files.forEach(visit);
  return cycles;
}

it('has no import cycle in src/', () => {
  const cycles = importCycles(sourceFiles(SRC)).map((c) => c.map((f) => path.relative(SRC, f)).join(' -> '));
  expect(cycles).toEqual([]);
});

/**
 * src/'s folders from the bottom up: each imports only its own and those before it. An entry point (src/worker.ts,
 * src/cli.ts) is in the layer of its name. Workflows import only contracts (their code must stay deterministic).
 */
const LAYERS = [
  'contracts',
  'observability',
  'host',
  'vault',
  'sources',
  'audit',
  'alerts',
  'store',
  'reports',
  'change-control',
  'simulator',
  'config',
  'temporal',
  'activities',
  'workflows',
  'worker',
  'cli',
];

/** The imports that run up the layers (or out of a workflow's reach), as `from -> to`, under `root`. */
function upwardImports(root: string): string[] {
  const files = sourceFiles(root);
  const layer = (file: string) => path.relative(root, file).split(path.sep)[0].replace(/\.ts$/, '');
  const unknown = files.map(layer).filter((l) => !LAYERS.includes(l));
  if (unknown.length) throw new Error(`not in a layer: ${unknown.join(', ')}`);
  return files.flatMap((file) =>
    importsOf(file)
      .filter((to) => {
        const [from, target] = [layer(file), layer(to)];
        if (from === 'workflows') return target !== 'workflows' && target !== 'contracts';
        return LAYERS.indexOf(target) > LAYERS.indexOf(from);
      })
      .map((to) => `${path.relative(root, file)} -> ${path.relative(root, to)}`),
  );
}

it('imports downwards only: each folder imports its own and the layers below it, workflows only contracts', () => {
  expect(upwardImports(SRC)).toEqual([]);
});

it('finds an import running back up the layers, and a workflow importing past contracts', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-layers-'));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write('store/rows.ts', 'export const rows = 1;\n');
  write('contracts/messages.ts', "import { rows } from '../store/rows';\nexport const m = rows;\n");
  write('workflows/batch.ts', "import { rows } from '../store/rows';\nexport const w = rows;\n");
  write('cli/main.ts', "import { rows } from '../store/rows';\nexport const c = rows;\n");
  expect(upwardImports(dir).sort()).toEqual([
    `contracts/messages.ts -> store/rows.ts`,
    `workflows/batch.ts -> store/rows.ts`,
  ]);
});

it("says at the top of each folder's main file what the folder owns and what it may import", () => {
  const folders = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory());
  const headed = folders.filter((d) =>
    fs
      .readdirSync(path.join(SRC, d.name))
      .some(
        (f) => f.endsWith('.ts') && fs.readFileSync(path.join(SRC, d.name, f), 'utf8').startsWith(`// ${d.name}/: `),
      ),
  );
  expect(headed.map((d) => d.name).sort()).toEqual(folders.map((d) => d.name).sort());
});

it('has no loose file in src/ but the entry points', () => {
  const loose = fs.readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isFile());
  expect(loose.map((e) => e.name).sort()).toEqual(['cli.ts', 'worker.ts']);
});

it('finds a cycle where there is one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'capa-cycle-'));
  fs.writeFileSync(path.join(dir, 'a.ts'), "import { b } from './b';\nexport const a = b;\n");
  fs.writeFileSync(
    path.join(dir, 'b.ts'),
    "import type { a } from './a';\nexport const b = 1 as unknown as typeof a;\n",
  );
  expect(importCycles(sourceFiles(dir)).map((c) => c.map((f) => path.basename(f)))).toEqual([['a.ts', 'b.ts', 'a.ts']]);
});
