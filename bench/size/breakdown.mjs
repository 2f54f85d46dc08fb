// Where oauth-spa's bytes come from: the core entry is bundled again from src/ (TypeScript plugin,
// same resolve/commonjs/replace/terser setup) with a source map, and every minified byte is
// attributed to the source file it came from (like source-map-explorer). Bytes of oauth4webapi are
// attributed further to its top-level declarations. gzip figures per row are estimates (the row's
// share of minified bytes times the bundle's gzip size): gzip does not split exactly by module.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import typescript from '@rollup/plugin-typescript'
import { parseAst } from 'rollup/parseAst'

import { bundle, compressed, REPO } from './measure.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = Object.fromEntries([...B64].map((c, i) => [c, i]))

/** Decodes source map `mappings` into lines of [genCol, srcIdx?, srcLine?, srcCol?]. */
export function decodeMappings(mappings) {
  const lines = []
  let srcIdx = 0
  let srcLine = 0
  let srcCol = 0
  for (const lineText of mappings.split(';')) {
    const segs = []
    let genCol = 0
    for (const segText of lineText.split(',')) {
      if (!segText) continue
      const fields = []
      let value = 0
      let shift = 0
      for (const ch of segText) {
        const digit = B64_INDEX[ch]
        value += (digit & 31) << shift
        if (digit & 32) {
          shift += 5
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1)
          value = 0
          shift = 0
        }
      }
      genCol += fields[0]
      if (fields.length >= 4) {
        srcIdx += fields[1]
        srcLine += fields[2]
        srcCol += fields[3]
        segs.push([genCol, srcIdx, srcLine, srcCol])
      } else {
        segs.push([genCol])
      }
    }
    lines.push(segs)
  }
  return lines
}

function lineStarts(text) {
  const starts = [0]
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1)
  return starts
}

/** Top-level statements of a JS file as [start, end, name]. */
function topLevelDeclarations(code) {
  const ast = parseAst(code)
  return ast.body.map((node) => {
    const decl = node.type.startsWith('Export') && node.declaration ? node.declaration : node
    let name = decl.id?.name
    if (!name && decl.type === 'VariableDeclaration') name = decl.declarations.map((d) => d.id.name ?? '{…}').join(', ')
    if (!name && decl.type === 'ClassDeclaration') name = 'class'
    if (!name) name = node.type
    return [node.start, node.end, name]
  })
}

function shortSource(source) {
  const abs = path.resolve(source)
  const rel = path.relative(REPO, abs)
  const nm = rel.lastIndexOf('node_modules/')
  if (nm >= 0) {
    const rest = rel.slice(nm + 'node_modules/'.length).split('/')
    const pkg = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
    return { group: pkg, file: rel.slice(nm + 'node_modules/'.length) }
  }
  return { group: rel.startsWith('src/') ? 'oauth-spa src/' : rel, file: rel }
}

/** Bytes of string literals and template text in minified code (error messages, mostly). */
export function stringLiteralBytes(code) {
  let bytes = 0
  const walk = (node) => {
    if (node.type === 'Literal' && typeof node.value === 'string') bytes += node.end - node.start
    else if (node.type === 'TemplateElement') bytes += node.end - node.start
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const v of value) if (v && typeof v.type === 'string') walk(v)
      } else if (value && typeof value.type === 'string') walk(value)
    }
  }
  walk(parseAst(code))
  return bytes
}

/**
 * Attributes the minified bytes of an entry of ./entries. With `fromSrc`, imports of dist/index.js
 * are bundled from src/index.ts instead, so that bytes land on the TypeScript file they come from.
 */
export async function breakdown(entry = 'oauth-spa.js', { fromSrc = true } = {}) {
  const ts = typescript({
    tsconfig: path.join(REPO, 'tsconfig.json'),
    declaration: false,
    declarationMap: false,
    sourceMap: true,
    include: [path.join(REPO, 'src/**/*')],
    outputToFilesystem: false,
  })
  // Same entry as the size table, but with `dist/index.js` swapped for `src/index.ts`.
  const redirect = {
    name: 'bench-core-from-src',
    resolveId(id) {
      if (id.endsWith('/dist/index.js') && id.startsWith('../../../')) return path.join(REPO, 'src', 'index.ts')
      return null
    },
  }
  const result = await bundle(path.join(HERE, 'entries', entry), { sourcemap: true, plugins: fromSrc ? [redirect, ts] : [] })
  const chunk = result.entry
  const map = chunk.map
  const code = chunk.code
  const sizes = compressed(code)
  const genLines = code.split('\n')
  const decoded = decodeMappings(map.mappings)
  // generate() without an output file: sources are relative to the working directory.
  const sources = map.sources.map((s) => path.resolve(s))
  const bytesBySource = new Map()
  const bySourceDecl = new Map()
  const declCache = new Map()

  const declFor = (srcIdx, line, col) => {
    const file = sources[srcIdx]
    if (!/node_modules\/oauth4webapi\//.test(file)) return undefined
    let info = declCache.get(file)
    if (!info) {
      const text = readFileSync(file, 'utf8')
      info = { starts: lineStarts(text), decls: topLevelDeclarations(text) }
      declCache.set(file, info)
    }
    const offset = info.starts[line] + col
    let lo = 0
    let hi = info.decls.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const [s, e] = info.decls[mid]
      if (offset < s) hi = mid - 1
      else if (offset >= e) lo = mid + 1
      else return info.decls[mid][2]
    }
    return '(between declarations)'
  }

  let unmapped = 0
  for (let l = 0; l < decoded.length; l++) {
    const segs = decoded[l]
    const lineLen = Buffer.byteLength(genLines[l] ?? '')
    if (segs.length === 0) {
      unmapped += lineLen
      continue
    }
    if (segs[0][0] > 0) unmapped += segs[0][0]
    for (let i = 0; i < segs.length; i++) {
      const start = segs[i][0]
      const end = i + 1 < segs.length ? segs[i + 1][0] : (genLines[l] ?? '').length
      const len = Buffer.byteLength((genLines[l] ?? '').slice(start, end))
      if (segs[i].length < 4) {
        unmapped += len
        continue
      }
      const [, srcIdx, srcLine, srcCol] = segs[i]
      bytesBySource.set(srcIdx, (bytesBySource.get(srcIdx) ?? 0) + len)
      const decl = declFor(srcIdx, srcLine, srcCol)
      if (decl) bySourceDecl.set(decl, (bySourceDecl.get(decl) ?? 0) + len)
    }
  }
  const total = sizes.min
  const est = (bytes) => Math.round((bytes / total) * sizes.gzip)
  const files = [...bytesBySource.entries()]
    .map(([idx, bytes]) => ({ ...shortSource(sources[idx]), min: bytes, gzipEstimate: est(bytes) }))
    .sort((a, b) => b.min - a.min)
  if (unmapped) files.push({ group: '(unmapped)', file: '(rollup glue, unmapped)', min: unmapped, gzipEstimate: est(unmapped) })
  const groups = {}
  for (const f of files) {
    groups[f.group] ??= { group: f.group, min: 0, gzipEstimate: 0 }
    groups[f.group].min += f.min
    groups[f.group].gzipEstimate += f.gzipEstimate
  }
  const oauth4webapi = [...bySourceDecl.entries()]
    .map(([name, bytes]) => ({ name, min: bytes, gzipEstimate: est(bytes) }))
    .sort((a, b) => b.min - a.min)
  return {
    note: `${entry}${fromSrc ? ' rebuilt from src/' : ''} with a source map; minified bytes attributed per original source; gzip per row = share of minified bytes x bundle gzip (estimate)`,
    bundle: sizes,
    stringLiteralBytes: stringLiteralBytes(code),
    groups: Object.values(groups).sort((a, b) => b.min - a.min),
    files,
    oauth4webapi,
  }
}
