/**
 * Every ```ts and ```tsx sample of README.md and docs/ type-checks against the public entries, as
 * written, under the repo's strict settings (only the package names are mapped to src/, and a
 * sample's `./auth` to a small module exporting `auth`). Every relative link of those pages leads
 * to a file that exists, every error code has its anchor in docs/errors.md, and the README stays
 * short.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const ROOT = path.resolve(__dirname, '..', '..', '..')
const OUT = path.join(ROOT, 'test-results', 'doc-samples')

/** README.md and every page under docs/ (not the generated API reference). */
function pages(): string[] {
  const found: string[] = ['README.md']
  const walk = (dir: string) => {
    for (const name of readdirSync(path.join(ROOT, dir))) {
      const rel = path.join(dir, name)
      if (rel === path.join('docs', 'api')) continue
      if (statSync(path.join(ROOT, rel)).isDirectory()) walk(rel)
      else if (name.endsWith('.md')) found.push(rel)
    }
  }
  if (existsSync(path.join(ROOT, 'docs'))) walk('docs')
  return found
}

interface Sample {
  page: string
  /** 1-based line of the opening fence. */
  line: number
  lang: 'ts' | 'tsx'
  code: string
}

/** The ```ts and ```tsx blocks of a page. */
function samples(page: string): Sample[] {
  const lines = readFileSync(path.join(ROOT, page), 'utf8').split('\n')
  const out: Sample[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(ts|tsx|typescript)\s*$/.exec(lines[i]!)
    if (!open) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!)
    out.push({ page, line: start + 1, lang: open[1] === 'tsx' ? 'tsx' : 'ts', code: body.join('\n') })
  }
  return out
}

/** The anchors GitHub gives the headings of a Markdown file (lower case, punctuation dropped, spaces to '-'). */
function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '')
  const out = new Set<string>()
  for (const match of text.matchAll(/^#{1,6} +(.+?) *$/gm)) {
    out.add(match[1]!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'))
  }
  return out
}

/** What a sample's `import { auth } from './auth'` gets. */
const AUTH_MODULE = `import { createOAuthClient } from 'oauth-spa'
export const auth = createOAuthClient({
  issuer: 'https://auth.example.com',
  clientId: 'my-spa',
  redirectUri: 'https://app.example.com/callback',
  apiOrigins: ['https://api.example.com'],
})
`

describe('README and docs samples', () => {
  const all = pages().flatMap(samples)

  it('there are samples to check: the README has its vanilla and React examples', () => {
    const readme = all.filter((s) => s.page === 'README.md')
    expect(readme.filter((s) => s.lang === 'ts').length).toBeGreaterThanOrEqual(1)
    expect(readme.filter((s) => s.lang === 'tsx').length).toBeGreaterThanOrEqual(1)
  })

  it('every ts/tsx sample compiles under the repo\'s strict settings', { timeout: 120_000 }, () => {
    rmSync(OUT, { recursive: true, force: true })
    const files = new Map<string, Sample>()
    for (const sample of all) {
      const dir = path.join(OUT, `${sample.page.replace(/[^A-Za-z0-9]+/g, '_')}-L${sample.line}`)
      mkdirSync(dir, { recursive: true })
      writeFileSync(path.join(dir, 'auth.ts'), AUTH_MODULE)
      const file = path.join(dir, `sample.${sample.lang}`)
      // A module of its own, so that samples never see each other's names. Samples that run in
      // Node (a Playwright config, the test helpers) get Node's types; browser samples do not.
      const node = /from '(@playwright\/test|node:[^']+|oauth-spa\/testing)'/.test(sample.code) ? '/// <reference types="node" />\n' : ''
      writeFileSync(file, `${node}${sample.code}\nexport {}\n`)
      files.set(file, sample)
    }
    const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, ROOT)
    const program = ts.createProgram([...files.keys()], {
      ...options,
      noEmit: true,
      noUnusedLocals: false,
      noUnusedParameters: false,
      baseUrl: ROOT,
      paths: { 'oauth-spa': ['src/index.ts'], 'oauth-spa/react': ['src/react/index.ts'], 'oauth-spa/testing': ['src/testing/index.ts'] },
    })
    const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
      const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
      const sample = d.file ? files.get(path.resolve(d.file.fileName)) : undefined
      if (!d.file || !sample) return `${text}${d.file ? ` (${path.relative(ROOT, d.file.fileName)})` : ''}`
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0)
      const shift = d.file.text.startsWith('/// <reference types="node" />') ? 1 : 0
      return `${sample.page}:${sample.line + 1 + line - shift}: ${text}`
    })
    expect(diagnostics).toEqual([])
  })

  it('every relative link of README and docs leads to a file that exists, and to a heading that exists', () => {
    const broken: string[] = []
    for (const page of pages()) {
      const text = readFileSync(path.join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '')
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue
        const [file = '', anchor] = target.split('#')
        const resolved = file === '' ? path.join(ROOT, page) : path.join(ROOT, path.dirname(page), decodeURIComponent(file))
        if (!existsSync(resolved)) broken.push(`${page}: ${target}`)
        else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) broken.push(`${page}: ${target} (no such heading)`)
      }
    }
    expect(broken).toEqual([])
  })

  it('docs/errors.md has a section, anchored by the code, for every OAuthError code', () => {
    const source = readFileSync(path.join(ROOT, 'src', 'errors.ts'), 'utf8')
    const union = /export type OAuthErrorCode =([^]*?)\n\n/.exec(source)?.[1] ?? ''
    const codes = [...union.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]!)
    expect(codes.length).toBeGreaterThanOrEqual(10)
    const errors = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8')
    const missing = codes.filter((code) => !new RegExp(`^## \`${code}\`$`, 'm').test(errors))
    expect(missing).toEqual([])
  })

  it('docs/configuration.md has a row for every option of createOAuthClient and of login()', () => {
    const source = readFileSync(path.join(ROOT, 'src', 'types.ts'), 'utf8')
    const program = ts.createSourceFile('types.ts', source, ts.ScriptTarget.ES2022, true)
    const names = (interfaceName: string): string[] => {
      const found = program.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === interfaceName)
      expect(found, interfaceName).toBeDefined()
      return found!.members.flatMap((m) => (m.name && ts.isIdentifier(m.name) ? [m.name.text] : []))
    }
    const docs = readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8')
    const rows = new Set([...docs.matchAll(/^\| `([A-Za-z]+)`/gm)].map((m) => m[1]!))
    const options = names('OAuthClientOptions')
    expect(options).toContain('issuer')
    expect(options.filter((n) => !rows.has(n))).toEqual([])
    expect(names('LoginOptions').filter((n) => !rows.has(n) && !docs.includes(`\`${n}\``))).toEqual([])
  })

  it('the README fits in about 8 KB', () => {
    expect(readFileSync(path.join(ROOT, 'README.md')).length).toBeLessThanOrEqual(8.5 * 1024)
  })
})
