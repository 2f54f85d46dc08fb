/**
 * The README's Usage and React samples type-check against the public entries, as written (only the
 * package names are mapped to src/, and the React sample's `./auth` to the Usage sample).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(__dirname, '..', '..', '..')
const OUT = path.join(ROOT, 'test-results', 'readme-samples')

/** The first fenced block of `lang` after `heading`. */
function sample(readme: string, heading: string, lang: string): string {
  const section = readme.slice(readme.indexOf(`\n${heading}\n`))
  const open = section.indexOf('```' + lang + '\n')
  expect(open, `no \`\`\`${lang} block under ${heading}`).toBeGreaterThan(-1)
  const start = open + lang.length + 4
  return section.slice(start, section.indexOf('```', start))
}

describe('README samples', () => {
  it('the Usage and React samples compile under the repo\'s strict settings', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8')
    mkdirSync(OUT, { recursive: true })
    const usage = path.join(OUT, 'auth.ts')
    const react = path.join(OUT, 'react-sample.tsx')
    writeFileSync(usage, `${sample(readme, '## Usage', 'ts')}\nexport {}\n`)
    writeFileSync(react, `${sample(readme, '## React', 'tsx')}\nexport {}\n`)
    const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT)
    const program = ts.createProgram([usage, react], {
      ...options,
      noEmit: true,
      noUnusedLocals: false,
      baseUrl: ROOT,
      paths: { 'oauth-spa': ['src/index.ts'], 'oauth-spa/react': ['src/react/index.ts'] },
    })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n') + (d.file ? ` (${path.basename(d.file.fileName)})` : ''))
    expect(diagnostics).toEqual([])
  })
})
