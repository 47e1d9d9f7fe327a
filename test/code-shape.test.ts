import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { sourceFiles } from './helpers/source-files';

// A function a newcomer can hold in mind: none in src/ spans more than a screen and a half.
const MAX_LINES = 80;
const SRC = path.join(__dirname, '../src');

/** The functions (closures and methods included) of one source text longer than `MAX_LINES`, as `name:line (n lines)`. */
function longFunctions(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const long: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const lines = source.getLineAndCharacterOfPosition(node.getEnd()).line - first + 1;
      const name = node.name?.getText() ?? '(anonymous)';
      if (lines > MAX_LINES) long.push(`${fileName}: ${name}:${first + 1} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return long;
}

it(`has no function over ${MAX_LINES} lines in src/`, () => {
  const long = sourceFiles(SRC).flatMap((f) => longFunctions(path.relative(SRC, f), fs.readFileSync(f, 'utf8')));
  expect(long).toEqual([]);
});

it('finds a long function, an arrow one inside another included', () => {
  const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
  const text = `export function outer() {\n  const inner = () => {\n${body(85)}\n  };\n  return inner;\n}\nfunction short() {\n${body(70)}\n}\n`;
  expect(longFunctions('x.ts', text)).toEqual(['x.ts: outer:1 (90 lines)', 'x.ts: (anonymous):2 (87 lines)']);
});
