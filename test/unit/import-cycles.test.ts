/**
 * No import cycle in the engine's code: every .ts file under the checked folders, with every import that names a file
 * (`import`, `import type`, `export ... from`, `import('...')` with a literal path). Type-only imports count: a cycle
 * of types is still two modules that cannot be read, moved or tested one without the other.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The folders whose files must form no cycle. */
const CHECKED_FOLDERS = ['lib', 'functions', 'scripts'];

/** Every .ts file under the folders, as absolute paths. */
function typeScriptFiles(root: string, folders: string[]): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) return walk(path);
      return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
    });
  return folders.flatMap((folder) => walk(join(root, folder)));
}

/** The files a source file imports, among the known ones: relative specifiers only ('.js' written for '.ts'). */
function importedFiles(file: string, known: Set<string>): string[] {
  // preProcessFile reads import, import type, export ... from, import() and require() with literal paths, not comments.
  const { importedFiles: specifiers } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const targets = specifiers
    .map(({ fileName }) => fileName)
    .filter((specifier) => specifier.startsWith('./') || specifier.startsWith('../'))
    .map((specifier) => resolveSpecifier(resolve(dirname(file), specifier), known))
    .filter((target): target is string => target !== undefined);
  return [...new Set(targets)];
}

function resolveSpecifier(path: string, known: Set<string>): string | undefined {
  const candidates = [path.replace(/\.js$/, '.ts'), path, `${path}.ts`, join(path, 'index.ts')];
  return candidates.find((candidate) => known.has(candidate));
}

type ImportGraph = Map<string, string[]>;

function importGraph(files: string[]): ImportGraph {
  const known = new Set(files);
  return new Map(files.map((file) => [file, importedFiles(file, known)]));
}

/** The strongly connected components of the graph that hold a cycle (Tarjan): files that import each other. */
function tangledComponents(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (file: string) => {
    index.set(file, index.size);
    lowLink.set(file, index.get(file) as number);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        connect(next);
        lowLink.set(file, Math.min(lowLink.get(file) as number, lowLink.get(next) as number));
      } else if (onStack.has(next)) {
        lowLink.set(file, Math.min(lowLink.get(file) as number, index.get(next) as number));
      }
    }
    if (lowLink.get(file) !== index.get(file)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop() as string;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1 || graph.get(file)?.includes(file)) components.push(component);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) connect(file);
  return components;
}

/** The shortest closed path from a file back to itself inside its component (a -> b -> a). */
function shortestCycleThrough(graph: ImportGraph, members: Set<string>, start: string): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const next of graph.get(file) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [file];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0] as string) as string);
        return [...path, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, file);
        queue.push(next);
      }
    }
  }
  throw new Error(`no cycle through ${start} in its own component`);
}

/** The same cycle read from its first file in sorted order, so that each cycle is named once. */
function fromFirstFile(cycle: string[]): string[] {
  const open = cycle.slice(0, -1);
  const first = open.indexOf([...open].sort()[0] as string);
  const rotated = [...open.slice(first), ...open.slice(0, first)];
  return [...rotated, rotated[0] as string];
}

/** The shortest cycle through each file that is on one, each named once. */
function findCycles(graph: ImportGraph): string[][] {
  const cycles = new Map<string, string[]>();
  for (const component of tangledComponents(graph)) {
    const members = new Set(component);
    for (const file of [...component].sort()) {
      const cycle = fromFirstFile(shortestCycleThrough(graph, members, file));
      cycles.set(cycle.join('\0'), cycle);
    }
  }
  return [...cycles.values()];
}

/** The cycles among the folders' files, each written `a.ts -> b.ts -> a.ts` relative to the root. */
function importCycles(root: string, folders: string[]): string[] {
  return findCycles(importGraph(typeScriptFiles(root, folders))).map((cycle) =>
    cycle.map((file) => relative(root, file)).join(' -> '),
  );
}

describe('the import graph', () => {
  it.each(CHECKED_FOLDERS)('has no cycle among the files of %s/ and what they import there', (folder) => {
    // Every checked folder's files are in the graph, so a cycle through another folder is seen from each of them.
    const cycles = importCycles(REPO, CHECKED_FOLDERS).filter((cycle) =>
      cycle.split(' -> ').some((file) => file.startsWith(`${folder}/`)),
    );
    expect(cycles, `import cycles:\n${cycles.join('\n')}`).toEqual([]);
  });
});

describe('the cycle finder', () => {
  const root = mkdtempSync(join(tmpdir(), 'driftguard-import-cycles-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function project(name: string, files: Record<string, string>): string {
    const dir = join(root, name);
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), text);
    }
    return dir;
  }

  const importsA = "import { a } from './a.js';\nexport const b = a;\nexport type B = number;\n";
  it.each([
    ['a static import', { 'src/a.ts': "import { b } from './b.js';", 'src/b.ts': importsA }, 'src/b.ts'],
    ['an import of types only', { 'src/a.ts': "import type { B } from './b.js';", 'src/b.ts': importsA }, 'src/b.ts'],
    ['a re-export', { 'src/a.ts': "export { b } from './b.js';", 'src/b.ts': importsA }, 'src/b.ts'],
    ['a dynamic import', { 'src/a.ts': "export const b = () => import('./b.js');", 'src/b.ts': importsA }, 'src/b.ts'],
    [
      'an import of a folder',
      {
        'src/a.ts': "import { b } from './b';",
        'src/b/index.ts': "import { a } from '../a.js';\nexport const b = a;\n",
      },
      'src/b/index.ts',
    ],
  ])('names the cycle closed by %s', (name, files, importer) => {
    const dir = project(name.replaceAll(' ', '-'), {
      ...files,
      'src/a.ts': `${files['src/a.ts']}\nexport const a = 1;\n`,
    });
    expect(importCycles(dir, ['src'])).toEqual([`src/a.ts -> ${importer} -> src/a.ts`]);
  });

  it('names a cycle that runs through another checked folder, and only the cycle', () => {
    const dir = project('across-folders', {
      'scripts/cli.ts': "import { run } from '../lib/run.js';\nexport const cli = run;\n",
      'scripts/helper.ts': "import type { Run } from '../lib/run.js';\nexport const helper = (r: Run) => r;\n",
      'lib/run.ts':
        "import { helper } from '../scripts/helper.js';\nexport type Run = number;\nexport const run = helper;\n",
      'lib/leaf.ts': 'export const leaf = 1;\n',
    });
    expect(importCycles(dir, ['lib', 'scripts'])).toEqual(['lib/run.ts -> scripts/helper.ts -> lib/run.ts']);
  });

  it('ignores imports in comments, packages and paths built at run time', () => {
    const dir = project('no-cycle', {
      'src/a.ts': [
        "// import { b } from './b.js';",
        "import { readFileSync } from 'node:fs';",
        'const name = "./b.js";',
        'export const load = () => import(name);',
        'export const a = readFileSync;',
      ].join('\n'),
      'src/b.ts': "import { a } from './a.js';\nexport const b = a;\n",
    });
    expect(importCycles(dir, ['src'])).toEqual([]);
  });

  it('names a file that imports itself', () => {
    const dir = project('self', { 'src/a.ts': "import type { A } from './a.js';\nexport type A = number;\n" });
    expect(importCycles(dir, ['src'])).toEqual(['src/a.ts -> src/a.ts']);
  });
});
